(module
 (type $0 (func (param i32 i32)))
 (import "env" "memory" (memory $0 1 65536 shared))
 (export "unslice-guard" (func $unslice-guard))
 (func $unslice-guard (param $out i32) (param $x0 i32)
  (local $i0 i32)
  (local $guard i32)
  (local $select f32)
  (local $x0_2 f32)
  (local $neg f32)
  (local.set $i0
   (i32.const 0)
  )
  (loop $L0
   (local.set $guard
    (i32.and
     (i32.lt_u
      (local.get $i0)
      (i32.const 6)
     )
     (i32.eqz
      (i32.rem_s
       (local.get $i0)
       (i32.const 2)
      )
     )
    )
   )
   (if
    (local.get $guard)
    (then
     (local.set $x0_2
      (f32.load
       (i32.add
        (local.get $x0)
        (i32.shl
         (i32.div_u
          (local.get $i0)
          (i32.const 2)
         )
         (i32.const 2)
        )
       )
      )
     )
     (local.set $select
      (local.get $x0_2)
     )
    )
    (else
     (local.set $select
      (f32.const 0)
     )
    )
   )
   (local.set $neg
    (f32.neg
     (local.get $select)
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
     (i32.const 6)
    )
   )
  )
 )
)
