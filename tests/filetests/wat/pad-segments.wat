(module
 (type $0 (func (param i32 i32)))
 (import "env" "memory" (memory $0 1 65536 shared))
 (export "pad-segments" (func $pad-segments))
 (func $pad-segments (param $out i32) (param $x0 i32)
  (local $i0 i32)
  (local $neg f32)
  (local $base i32)
  (local $x0_2 v128)
  (local $ki v128)
  (local $neg_2 v128)
  (local $x0_3 f32)
  (local $neg_3 f32)
  (local $neg_4 f32)
  (local.set $ki
   (v128.const i32x4 0x80000000 0x80000000 0x80000000 0x80000000)
  )
  (local.set $base
   (i32.add
    (local.get $x0)
    (i32.const -4)
   )
  )
  (local.set $i0
   (i32.const 0)
  )
  (loop $L0
   (local.set $neg
    (f32.neg
     (f32.const 0)
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
    (local.get $neg)
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
     (i32.const 1)
    )
   )
  )
  (local.set $i0
   (i32.const 1)
  )
  (loop $L1
   (local.set $x0_2
    (v128.load align=4
     (i32.add
      (local.get $base)
      (i32.mul
       (local.get $i0)
       (i32.const 4)
      )
     )
    )
   )
   (local.set $neg_2
    (v128.xor
     (local.get $x0_2)
     (local.get $ki)
    )
   )
   (v128.store align=4
    (i32.add
     (local.get $out)
     (i32.mul
      (local.get $i0)
      (i32.const 4)
     )
    )
    (local.get $neg_2)
   )
   (local.set $i0
    (i32.add
     (local.get $i0)
     (i32.const 4)
    )
   )
   (br_if $L1
    (i32.lt_u
     (local.get $i0)
     (i32.const 5)
    )
   )
  )
  (local.set $i0
   (i32.const 5)
  )
  (loop $L2
   (local.set $x0_3
    (f32.load
     (i32.add
      (local.get $base)
      (i32.mul
       (local.get $i0)
       (i32.const 4)
      )
     )
    )
   )
   (local.set $neg_3
    (f32.neg
     (local.get $x0_3)
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
    (local.get $neg_3)
   )
   (local.set $i0
    (i32.add
     (local.get $i0)
     (i32.const 1)
    )
   )
   (br_if $L2
    (i32.lt_u
     (local.get $i0)
     (i32.const 7)
    )
   )
  )
  (local.set $i0
   (i32.const 7)
  )
  (loop $L3
   (local.set $neg_4
    (f32.neg
     (f32.const 0)
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
    (local.get $neg_4)
   )
   (local.set $i0
    (i32.add
     (local.get $i0)
     (i32.const 1)
    )
   )
   (br_if $L3
    (i32.lt_u
     (local.get $i0)
     (i32.const 8)
    )
   )
  )
 )
)
