;; The Barnes-Hut repulsion of one group of points from its interaction
;; lists (see src/embed/repulsion.ts), two points of the group per 128-bit
;; vector (f64x2, one point per lane). For each point: Σ over cells of
;; m q and m q² (y − c), q = 1 / (1 + |y − c|²), then Σ over listed points
;; other than itself of q and q² (y − y_j). The operations and their order
;; per lane are those of the JavaScript loops, so both give the same bits.
(module
  (memory (export "memory") 1)

  ;; Group points: x, y (f64) and sorted position (f64) at $tx, $ty, $tp, count
  ;; padded to even; cells: x, y, mass (f64); points: x, y, position (f64).
  ;; Writes (fx, fy, z) of group point g at $out + 24·g.
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
      (loop $pairs
        (br_if $groupDone (i32.ge_u (local.get $g) (local.get $count)))
        (local.set $o (i32.shl (local.get $g) (i32.const 3)))
        (local.set $xi (v128.load (i32.add (local.get $tx) (local.get $o))))
        (local.set $yi (v128.load (i32.add (local.get $ty) (local.get $o))))
        (local.set $at (v128.load (i32.add (local.get $tp) (local.get $o))))
        (local.set $fx (v128.const i64x2 0 0))
        (local.set $fy (v128.const i64x2 0 0))
        (local.set $z (v128.const i64x2 0 0))
        (local.set $e (i32.const 0))
        (block $cellsDone
          (loop $cellLoop
            (br_if $cellsDone (i32.ge_u (local.get $e) (local.get $cells)))
            (local.set $o (i32.shl (local.get $e) (i32.const 3)))
            (local.set $dx (f64x2.sub (local.get $xi) (v128.load64_splat (i32.add (local.get $cx) (local.get $o)))))
            (local.set $dy (f64x2.sub (local.get $yi) (v128.load64_splat (i32.add (local.get $cy) (local.get $o)))))
            ;; q = 1 / (1 + dx² + dy²); mq = m q; z += mq; f += mq q d
            (local.set $q (f64x2.div (v128.const f64x2 1 1)
              (f64x2.add (f64x2.add (v128.const f64x2 1 1) (f64x2.mul (local.get $dx) (local.get $dx)))
                         (f64x2.mul (local.get $dy) (local.get $dy)))))
            (local.set $w (f64x2.mul (v128.load64_splat (i32.add (local.get $cm) (local.get $o))) (local.get $q)))
            (local.set $z (f64x2.add (local.get $z) (local.get $w)))
            (local.set $w (f64x2.mul (local.get $w) (local.get $q)))
            (local.set $fx (f64x2.add (local.get $fx) (f64x2.mul (local.get $w) (local.get $dx))))
            (local.set $fy (f64x2.add (local.get $fy) (f64x2.mul (local.get $w) (local.get $dy))))
            (local.set $e (i32.add (local.get $e) (i32.const 1)))
            (br $cellLoop)))
        (local.set $e (i32.const 0))
        (block $pointsDone
          (loop $pointLoop
            (br_if $pointsDone (i32.ge_u (local.get $e) (local.get $points)))
            (local.set $o (i32.shl (local.get $e) (i32.const 3)))
            (local.set $dx (f64x2.sub (local.get $xi) (v128.load64_splat (i32.add (local.get $px) (local.get $o)))))
            (local.set $dy (f64x2.sub (local.get $yi) (v128.load64_splat (i32.add (local.get $py) (local.get $o)))))
            (local.set $q (f64x2.div (v128.const f64x2 1 1)
              (f64x2.add (f64x2.add (v128.const f64x2 1 1) (f64x2.mul (local.get $dx) (local.get $dx)))
                         (f64x2.mul (local.get $dy) (local.get $dy)))))
            ;; A point skips itself: its lane adds +0, which leaves every sum as it is.
            (local.set $keep (f64x2.ne (local.get $at) (v128.load64_splat (i32.add (local.get $pp) (local.get $o)))))
            (local.set $z (f64x2.add (local.get $z) (v128.and (local.get $q) (local.get $keep))))
            (local.set $w (f64x2.mul (local.get $q) (local.get $q)))
            (local.set $fx (f64x2.add (local.get $fx) (v128.and (f64x2.mul (local.get $w) (local.get $dx)) (local.get $keep))))
            (local.set $fy (f64x2.add (local.get $fy) (v128.and (f64x2.mul (local.get $w) (local.get $dy)) (local.get $keep))))
            (local.set $e (i32.add (local.get $e) (i32.const 1)))
            (br $pointLoop)))
        ;; Lane 0 is group point g, lane 1 is g + 1.
        (local.set $o (i32.add (local.get $out) (i32.mul (local.get $g) (i32.const 24))))
        (f64.store (local.get $o) (f64x2.extract_lane 0 (local.get $fx)))
        (f64.store offset=8 (local.get $o) (f64x2.extract_lane 0 (local.get $fy)))
        (f64.store offset=16 (local.get $o) (f64x2.extract_lane 0 (local.get $z)))
        (f64.store offset=24 (local.get $o) (f64x2.extract_lane 1 (local.get $fx)))
        (f64.store offset=32 (local.get $o) (f64x2.extract_lane 1 (local.get $fy)))
        (f64.store offset=40 (local.get $o) (f64x2.extract_lane 1 (local.get $z)))
        (local.set $g (i32.add (local.get $g) (i32.const 2)))
        (br $pairs))))
)
