;; The Barnes-Hut repulsion of one group of points from its interaction
;; lists (see src/embed/kernel/repulsion.ts), four points of the group per
;; 128-bit vector (f32x4, one point per lane). Coordinates are float32,
;; relative to the group's centre, so they keep their precision where the
;; forces are large. For each point: Σ over cells of m q and m q² (y − c),
;; q = 1 / (1 + |y − c|²), then Σ over listed points other than itself of q
;; and q² (y − y_j). The operations and their order per lane are those of
;; the JavaScript loops (rounded to float32 after each), so both give the
;; same bits.
(module
  (memory (export "memory") 1)

  ;; Group points: x, y (f32) and sorted position (i32) at $tx, $ty, $tp, count
  ;; padded to a multiple of four; cells: x, y, mass (f32); points: x, y (f32),
  ;; position (i32). Writes the fx, fy, z (f32x4 each) of group points g … g + 3
  ;; at $out + 12·g.
  (func (export "apply")
    (param $tx i32) (param $ty i32) (param $tp i32) (param $count i32)
    (param $cx i32) (param $cy i32) (param $cm i32) (param $cells i32)
    (param $px i32) (param $py i32) (param $pp i32) (param $points i32)
    (param $out i32)
    (local $g i32) (local $e i32) (local $o i32)
    (local $xi v128) (local $yi v128) (local $at v128)
    (local $dx v128) (local $dy v128) (local $q v128) (local $w v128) (local $keep v128)
    (local $fx v128) (local $fy v128) (local $z v128)
    (block $groupDone
      (loop $quads
        (br_if $groupDone (i32.ge_u (local.get $g) (local.get $count)))
        (local.set $o (i32.shl (local.get $g) (i32.const 2)))
        (local.set $xi (v128.load (i32.add (local.get $tx) (local.get $o))))
        (local.set $yi (v128.load (i32.add (local.get $ty) (local.get $o))))
        (local.set $at (v128.load (i32.add (local.get $tp) (local.get $o))))
        (local.set $fx (v128.const i32x4 0 0 0 0))
        (local.set $fy (v128.const i32x4 0 0 0 0))
        (local.set $z (v128.const i32x4 0 0 0 0))
        (local.set $e (i32.const 0))
        (block $cellsDone
          (loop $cellLoop
            (br_if $cellsDone (i32.ge_u (local.get $e) (local.get $cells)))
            (local.set $o (i32.shl (local.get $e) (i32.const 2)))
            (local.set $dx (f32x4.sub (local.get $xi) (v128.load32_splat (i32.add (local.get $cx) (local.get $o)))))
            (local.set $dy (f32x4.sub (local.get $yi) (v128.load32_splat (i32.add (local.get $cy) (local.get $o)))))
            ;; q = 1 / (1 + dx² + dy²); mq = m q; z += mq; f += mq q d
            (local.set $q (f32x4.div (v128.const f32x4 1 1 1 1)
              (f32x4.add (f32x4.add (v128.const f32x4 1 1 1 1) (f32x4.mul (local.get $dx) (local.get $dx)))
                         (f32x4.mul (local.get $dy) (local.get $dy)))))
            (local.set $w (f32x4.mul (v128.load32_splat (i32.add (local.get $cm) (local.get $o))) (local.get $q)))
            (local.set $z (f32x4.add (local.get $z) (local.get $w)))
            (local.set $w (f32x4.mul (local.get $w) (local.get $q)))
            (local.set $fx (f32x4.add (local.get $fx) (f32x4.mul (local.get $w) (local.get $dx))))
            (local.set $fy (f32x4.add (local.get $fy) (f32x4.mul (local.get $w) (local.get $dy))))
            (local.set $e (i32.add (local.get $e) (i32.const 1)))
            (br $cellLoop)))
        (local.set $e (i32.const 0))
        (block $pointsDone
          (loop $pointLoop
            (br_if $pointsDone (i32.ge_u (local.get $e) (local.get $points)))
            (local.set $o (i32.shl (local.get $e) (i32.const 2)))
            (local.set $dx (f32x4.sub (local.get $xi) (v128.load32_splat (i32.add (local.get $px) (local.get $o)))))
            (local.set $dy (f32x4.sub (local.get $yi) (v128.load32_splat (i32.add (local.get $py) (local.get $o)))))
            (local.set $q (f32x4.div (v128.const f32x4 1 1 1 1)
              (f32x4.add (f32x4.add (v128.const f32x4 1 1 1 1) (f32x4.mul (local.get $dx) (local.get $dx)))
                         (f32x4.mul (local.get $dy) (local.get $dy)))))
            ;; A point skips itself: its lane adds +0, which leaves every sum as it is.
            (local.set $keep (i32x4.ne (local.get $at) (v128.load32_splat (i32.add (local.get $pp) (local.get $o)))))
            (local.set $z (f32x4.add (local.get $z) (v128.and (local.get $q) (local.get $keep))))
            (local.set $w (f32x4.mul (local.get $q) (local.get $q)))
            (local.set $fx (f32x4.add (local.get $fx) (v128.and (f32x4.mul (local.get $w) (local.get $dx)) (local.get $keep))))
            (local.set $fy (f32x4.add (local.get $fy) (v128.and (f32x4.mul (local.get $w) (local.get $dy)) (local.get $keep))))
            (local.set $e (i32.add (local.get $e) (i32.const 1)))
            (br $pointLoop)))
        ;; The quad's fx, fy and z, four lanes each: lane l is group point g + l.
        (local.set $o (i32.add (local.get $out) (i32.mul (local.get $g) (i32.const 12))))
        (v128.store (local.get $o) (local.get $fx))
        (v128.store offset=16 (local.get $o) (local.get $fy))
        (v128.store offset=32 (local.get $o) (local.get $z))
        (local.set $g (i32.add (local.get $g) (i32.const 4)))
        (br $quads))))
)
