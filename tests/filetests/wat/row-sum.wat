(module
 (type $0 (func (param i32 i32)))
 (import "env" "memory" (memory $0 1 65536 shared))
 (export "row-sum" (func $row-sum))
 (func $row-sum (param $out i32) (param $x0 i32)
  (local $i0 i32)
  (local $i1 i32)
  (local $acc f32)
  (local $accv v128)
  (local $k v128)
  (local $base i32)
  (local $x0_2 v128)
  (local $x0_3 f32)
  (local.set $k
   (v128.const i32x4 0x00000000 0x00000000 0x00000000 0x00000000)
  )
  (local.set $i0
   (i32.const 0)
  )
  (loop $L0
   (local.set $acc
    (f32.const 0)
   )
   (local.set $accv
    (local.get $k)
   )
   (local.set $base
    (i32.add
     (local.get $x0)
     (i32.mul
      (local.get $i0)
      (i32.const 24)
     )
    )
   )
   (local.set $i1
    (i32.const 0)
   )
   (loop $L1
    (local.set $x0_2
     (v128.load align=4
      (i32.add
       (local.get $base)
       (i32.mul
        (local.get $i1)
        (i32.const 4)
       )
      )
     )
    )
    (local.set $accv
     (f32x4.add
      (local.get $accv)
      (local.get $x0_2)
     )
    )
    (local.set $i1
     (i32.add
      (local.get $i1)
      (i32.const 4)
     )
    )
    (br_if $L1
     (i32.lt_u
      (local.get $i1)
      (i32.const 4)
     )
    )
   )
   (local.set $i1
    (i32.const 4)
   )
   (loop $L2
    (local.set $x0_3
     (f32.load
      (i32.add
       (local.get $base)
       (i32.mul
        (local.get $i1)
        (i32.const 4)
       )
      )
     )
    )
    (local.set $acc
     (f32.add
      (local.get $acc)
      (local.get $x0_3)
     )
    )
    (local.set $i1
     (i32.add
      (local.get $i1)
      (i32.const 1)
     )
    )
    (br_if $L2
     (i32.lt_u
      (local.get $i1)
      (i32.const 6)
     )
    )
   )
   (f32.store
    (i32.add
     (local.get $out)
     (i32.mul
      (local.get $i0)
      (i32.const 4)
     )
    )
    (f32.add
     (f32.add
      (f32.add
       (f32x4.extract_lane 0
        (local.get $accv)
       )
       (f32x4.extract_lane 1
        (local.get $accv)
       )
      )
      (f32.add
       (f32x4.extract_lane 2
        (local.get $accv)
       )
       (f32x4.extract_lane 3
        (local.get $accv)
       )
      )
     )
     (local.get $acc)
    )
   )
   (local.set $i0
    (i32.add
     (local.get $i0)
     (i32.const 1)
    )
   )
   (br_if $L0
    (i32.lt_u
     (local.get $i0)
     (i32.const 3)
    )
   )
  )
 )
)
