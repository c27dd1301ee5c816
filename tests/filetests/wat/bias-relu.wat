(module
 (type $0 (func (param i32 i32 i32)))
 (import "env" "memory" (memory $0 1 65536 shared))
 (export "bias-relu" (func $bias-relu))
 (func $bias-relu (param $out i32) (param $x0 i32) (param $x1 i32)
  (local $i0 i32)
  (local $i1 i32)
  (local $base i32)
  (local $x0_2 v128)
  (local $x1_2 v128)
  (local $add v128)
  (local $k v128)
  (local $gt v128)
  (local $where v128)
  (local $base_2 i32)
  (local $i1_1 i32)
  (local $x0_3 v128)
  (local $x1_3 v128)
  (local $add_2 v128)
  (local $gt_2 v128)
  (local $where_2 v128)
  (local.set $k
   (v128.const i32x4 0x00000000 0x00000000 0x00000000 0x00000000)
  )
  (local.set $i0
   (i32.const 0)
  )
  (loop $L0
   (local.set $base
    (i32.add
     (local.get $x0)
     (i32.mul
      (local.get $i0)
      (i32.const 32)
     )
    )
   )
   (local.set $base_2
    (i32.add
     (local.get $out)
     (i32.mul
      (local.get $i0)
      (i32.const 32)
     )
    )
   )
   (local.set $i1
    (i32.const 0)
   )
   (loop $L1
    (local.set $i1_1
     (i32.add
      (local.get $i1)
      (i32.const 4)
     )
    )
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
    (local.set $x0_3
     (v128.load align=4
      (i32.add
       (local.get $base)
       (i32.mul
        (local.get $i1_1)
        (i32.const 4)
       )
      )
     )
    )
    (local.set $x1_2
     (v128.load align=4
      (i32.add
       (local.get $x1)
       (i32.mul
        (local.get $i1)
        (i32.const 4)
       )
      )
     )
    )
    (local.set $x1_3
     (v128.load align=4
      (i32.add
       (local.get $x1)
       (i32.mul
        (local.get $i1_1)
        (i32.const 4)
       )
      )
     )
    )
    (local.set $add
     (f32x4.add
      (local.get $x0_2)
      (local.get $x1_2)
     )
    )
    (local.set $add_2
     (f32x4.add
      (local.get $x0_3)
      (local.get $x1_3)
     )
    )
    (local.set $gt
     (f32x4.gt
      (local.get $add)
      (local.get $k)
     )
    )
    (local.set $gt_2
     (f32x4.gt
      (local.get $add_2)
      (local.get $k)
     )
    )
    (local.set $where
     (v128.bitselect
      (local.get $add)
      (local.get $k)
      (local.get $gt)
     )
    )
    (local.set $where_2
     (v128.bitselect
      (local.get $add_2)
      (local.get $k)
      (local.get $gt_2)
     )
    )
    (v128.store align=4
     (i32.add
      (local.get $base_2)
      (i32.mul
       (local.get $i1)
       (i32.const 4)
      )
     )
     (local.get $where)
    )
    (v128.store align=4
     (i32.add
      (local.get $base_2)
      (i32.mul
       (local.get $i1_1)
       (i32.const 4)
      )
     )
     (local.get $where_2)
    )
    (local.set $i1
     (i32.add
      (local.get $i1)
      (i32.const 8)
     )
    )
    (br_if $L1
     (i32.lt_u
      (local.get $i1)
      (i32.const 8)
     )
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
     (i32.const 2)
    )
   )
  )
 )
)
