(module
 (type $0 (func (param i32 i32 i32)))
 (type $1 (func (param i32 i32 i32 i32 i32 i32 i32)))
 (import "env" "memory" (memory $0 1 65536 shared))
 (export "gemm_2x4x3" (func $gemm_2x4x3))
 (func $gemm_2x4x3$tile1x4 (param $a i32) (param $b i32) (param $c i32)
  (local $ap i32)
  (local $bp i32)
  (local $kk i32)
  (local $c0_0 v128)
  (local $b0 v128)
  (local $a_splat v128)
  (local.set $ap
   (local.get $a)
  )
  (local.set $bp
   (local.get $b)
  )
  (local.set $c0_0
   (v128.const i32x4 0x00000000 0x00000000 0x00000000 0x00000000)
  )
  (local.set $kk
   (i32.const 3)
  )
  (if
   (i32.ne
    (local.get $kk)
    (i32.const 0)
   )
   (then
    (loop $L0
     (local.set $b0
      (v128.load
       (local.get $bp)
      )
     )
     (local.set $a_splat
      (v128.load32_splat
       (local.get $ap)
      )
     )
     (local.set $c0_0
      (f32x4.add
       (local.get $c0_0)
       (f32x4.mul
        (local.get $b0)
        (local.get $a_splat)
       )
      )
     )
     (local.set $ap
      (i32.add
       (local.get $ap)
       (i32.const 4)
      )
     )
     (local.set $bp
      (i32.add
       (local.get $bp)
       (i32.const 16)
      )
     )
     (local.set $kk
      (i32.add
       (local.get $kk)
       (i32.const -1)
      )
     )
     (br_if $L0
      (i32.ne
       (local.get $kk)
       (i32.const 0)
      )
     )
    )
   )
  )
  (v128.store
   (local.get $c)
   (local.get $c0_0)
  )
 )
 (func $gemm_2x4x3$tile2x4 (param $a i32) (param $b i32) (param $c i32)
  (local $ap i32)
  (local $bp i32)
  (local $kk i32)
  (local $c0_0 v128)
  (local $c1_0 v128)
  (local $b0 v128)
  (local $a_splat v128)
  (local.set $ap
   (local.get $a)
  )
  (local.set $bp
   (local.get $b)
  )
  (local.set $c0_0
   (v128.const i32x4 0x00000000 0x00000000 0x00000000 0x00000000)
  )
  (local.set $c1_0
   (v128.const i32x4 0x00000000 0x00000000 0x00000000 0x00000000)
  )
  (local.set $kk
   (i32.const 3)
  )
  (if
   (i32.ne
    (local.get $kk)
    (i32.const 0)
   )
   (then
    (loop $L0
     (local.set $b0
      (v128.load
       (local.get $bp)
      )
     )
     (local.set $a_splat
      (v128.load32_splat
       (local.get $ap)
      )
     )
     (local.set $c0_0
      (f32x4.add
       (local.get $c0_0)
       (f32x4.mul
        (local.get $b0)
        (local.get $a_splat)
       )
      )
     )
     (local.set $a_splat
      (v128.load32_splat offset=12
       (local.get $ap)
      )
     )
     (local.set $c1_0
      (f32x4.add
       (local.get $c1_0)
       (f32x4.mul
        (local.get $b0)
        (local.get $a_splat)
       )
      )
     )
     (local.set $ap
      (i32.add
       (local.get $ap)
       (i32.const 4)
      )
     )
     (local.set $bp
      (i32.add
       (local.get $bp)
       (i32.const 16)
      )
     )
     (local.set $kk
      (i32.add
       (local.get $kk)
       (i32.const -1)
      )
     )
     (br_if $L0
      (i32.ne
       (local.get $kk)
       (i32.const 0)
      )
     )
    )
   )
  )
  (v128.store
   (local.get $c)
   (local.get $c0_0)
  )
  (v128.store offset=16
   (local.get $c)
   (local.get $c1_0)
  )
 )
 (func $gemm_2x4x3 (param $a i32) (param $b i32) (param $c i32) (param $row_start i32) (param $row_end i32) (param $scratch i32) (param $sync i32)
  (local $unit i32)
  (local $own_units i32)
  (local $unit_panels i32)
  (local $i i32)
  (local $a_row i32)
  (local $panel i32)
  (local $b_panel i32)
  (local $c_panel i32)
  (local.set $own_units
   (i32.const 0)
  )
  (if
   (i32.lt_u
    (local.tee $unit
     (if (result i32)
      (local.get $sync)
      (then
       (i32.atomic.rmw.add
        (local.get $sync)
        (i32.const 1)
       )
      )
      (else
       (i32.sub
        (local.tee $own_units
         (i32.add
          (local.get $own_units)
          (i32.const 1)
         )
        )
        (i32.const 1)
       )
      )
     )
    )
    (i32.const 1)
   )
   (then
    (loop $L0
     (local.set $unit_panels
      (select
       (i32.sub
        (i32.const 0)
        (i32.mul
         (local.get $unit)
         (i32.const 1)
        )
       )
       (i32.const 1)
       (i32.lt_s
        (i32.sub
         (i32.const 0)
         (i32.mul
          (local.get $unit)
          (i32.const 1)
         )
        )
        (i32.const 1)
       )
      )
     )
     (local.set $i
      (local.get $row_start)
     )
     (if
      (i32.gt_s
       (i32.sub
        (local.get $row_end)
        (local.get $i)
       )
       (i32.const 0)
      )
      (then
       (if
        (i32.eq
         (i32.sub
          (local.get $row_end)
          (local.get $i)
         )
         (i32.const 1)
        )
        (then
         (local.set $a_row
          (i32.add
           (local.get $a)
           (i32.mul
            (local.get $i)
            (i32.const 12)
           )
          )
         )
         (local.set $c_panel
          (i32.add
           (i32.add
            (local.get $c)
            (i32.mul
             (local.get $i)
             (i32.const 16)
            )
           )
           (i32.mul
            (local.get $unit)
            (i32.const 64)
           )
          )
         )
         (local.set $b_panel
          (i32.add
           (local.get $b)
           (i32.mul
            (local.get $unit)
            (i32.const 64)
           )
          )
         )
         (if
          (i32.eq
           (local.get $unit)
           (i32.const 0)
          )
          (then
           (call $gemm_2x4x3$tile1x4
            (local.get $a_row)
            (local.get $b_panel)
            (local.get $c_panel)
           )
          )
         )
        )
        (else
         (local.set $a_row
          (i32.add
           (local.get $a)
           (i32.mul
            (local.get $i)
            (i32.const 12)
           )
          )
         )
         (local.set $c_panel
          (i32.add
           (i32.add
            (local.get $c)
            (i32.mul
             (local.get $i)
             (i32.const 16)
            )
           )
           (i32.mul
            (local.get $unit)
            (i32.const 64)
           )
          )
         )
         (local.set $b_panel
          (i32.add
           (local.get $b)
           (i32.mul
            (local.get $unit)
            (i32.const 64)
           )
          )
         )
         (if
          (i32.eq
           (local.get $unit)
           (i32.const 0)
          )
          (then
           (call $gemm_2x4x3$tile2x4
            (local.get $a_row)
            (local.get $b_panel)
            (local.get $c_panel)
           )
          )
         )
        )
       )
      )
     )
     (br_if $L0
      (i32.lt_u
       (local.tee $unit
        (if (result i32)
         (local.get $sync)
         (then
          (i32.atomic.rmw.add
           (local.get $sync)
           (i32.const 1)
          )
         )
         (else
          (i32.sub
           (local.tee $own_units
            (i32.add
             (local.get $own_units)
             (i32.const 1)
            )
           )
           (i32.const 1)
          )
         )
        )
       )
       (i32.const 1)
      )
     )
    )
   )
  )
 )
)
