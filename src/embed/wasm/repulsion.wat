;; The Barnes-Hut repulsion of one group of points from its interaction
;; lists (see src/embed/kernel/repulsion.ts), four points of the group per
;; 128-bit vector (f32x4, one point per lane). Coordinates are float32,
;; relative to the group's centre, so they keep their precision where the
;; forces are large. For each point: Σ over cells of m q and m q² (y − c),
;; q = 1 / (1 + |y − c|²), then Σ over listed points other than itself of q
;; and q² (y − y_j). The operations and their order per lane are those of
;; the JavaScript loops (rounded to float32 after each), so both give the
;; same bits. `group` also makes the lists: it walks a tree copied into
;; this memory, as the JavaScript walk does (the same criterion in double
;; precision, the same order), then sums them.
(module
  (memory (export "memory") 1)

  ;; One group of a tree: nodes at $nodes, eight f64 each (centre of mass x, y,
  ;; extent², start, count, first child, children, unused), the sorted points'
  ;; coordinates at $sx, $sy (f64); the group is sorted positions [$gs, $gs + $count).
  ;; Writes its points (relative to the centre of its bounding box) and the lists
  ;; where `apply` reads them, with $stack (i32) for the walk (depth ≤ 16, so under
  ;; 64 entries), then sums them into $out as `apply` does.
  (func (export "group")
    (param $nodes i32) (param $sx i32) (param $sy i32) (param $gs i32) (param $count i32) (param $theta2 f64)
    (param $stack i32) (param $tx i32) (param $ty i32) (param $tp i32)
    (param $cx i32) (param $cy i32) (param $cm i32) (param $px i32) (param $py i32) (param $pp i32) (param $out i32)
    (local $p i32) (local $end i32) (local $v f64) (local $minX f64) (local $minY f64) (local $maxX f64) (local $maxY f64)
    (local $ox f64) (local $oy f64) (local $top i32) (local $o i32) (local $mx f64) (local $my f64)
    (local $s i32) (local $n i32) (local $dx f64) (local $dy f64) (local $cells i32) (local $points i32) (local $c i32)
    (local.set $end (i32.add (local.get $gs) (local.get $count)))
    ;; The group's bounding box and centre.
    (local.set $minX (f64.const inf))
    (local.set $minY (f64.const inf))
    (local.set $maxX (f64.const -inf))
    (local.set $maxY (f64.const -inf))
    (local.set $p (local.get $gs))
    (block $boxed
      (loop $box
        (br_if $boxed (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $v (f64.load (i32.add (local.get $sx) (i32.shl (local.get $p) (i32.const 3)))))
        (local.set $minX (f64.min (local.get $minX) (local.get $v)))
        (local.set $maxX (f64.max (local.get $maxX) (local.get $v)))
        (local.set $v (f64.load (i32.add (local.get $sy) (i32.shl (local.get $p) (i32.const 3)))))
        (local.set $minY (f64.min (local.get $minY) (local.get $v)))
        (local.set $maxY (f64.max (local.get $maxY) (local.get $v)))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $box)))
    (local.set $ox (f64.div (f64.add (local.get $minX) (local.get $maxX)) (f64.const 2)))
    (local.set $oy (f64.div (f64.add (local.get $minY) (local.get $maxY)) (f64.const 2)))
    ;; The group's points; a group that does not fill its last vector repeats its last point.
    (local.set $p (i32.const 0))
    (block $placed
      (loop $place
        (br_if $placed (i32.and (i32.ge_u (local.get $p) (local.get $count)) (i32.eqz (i32.and (local.get $p) (i32.const 3)))))
        (local.set $o (i32.shl (local.get $p) (i32.const 2)))
        (local.set $s (i32.add (local.get $gs) (select (local.get $p) (i32.sub (local.get $count) (i32.const 1)) (i32.lt_u (local.get $p) (local.get $count)))))
        (f32.store (i32.add (local.get $tx) (local.get $o))
          (f32.demote_f64 (f64.sub (f64.load (i32.add (local.get $sx) (i32.shl (local.get $s) (i32.const 3)))) (local.get $ox))))
        (f32.store (i32.add (local.get $ty) (local.get $o))
          (f32.demote_f64 (f64.sub (f64.load (i32.add (local.get $sy) (i32.shl (local.get $s) (i32.const 3)))) (local.get $oy))))
        (i32.store (i32.add (local.get $tp) (local.get $o)) (local.get $s))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $place)))
    ;; The walk from the root: a cell far enough from the group's box is listed; a leaf too near lists its
    ;; points; any other node too near (or holding the group) pushes its children.
    (i32.store (local.get $stack) (i32.const 0))
    (local.set $top (i32.const 1))
    (block $walked
      (loop $walk
        (br_if $walked (i32.eqz (local.get $top)))
        (local.set $top (i32.sub (local.get $top) (i32.const 1)))
        (local.set $o (i32.add (local.get $nodes)
          (i32.shl (i32.load (i32.add (local.get $stack) (i32.shl (local.get $top) (i32.const 2)))) (i32.const 6))))
        (local.set $mx (f64.load (local.get $o)))
        (local.set $my (f64.load offset=8 (local.get $o)))
        (local.set $s (i32.trunc_f64_s (f64.load offset=24 (local.get $o))))
        (local.set $n (i32.trunc_f64_s (f64.load offset=32 (local.get $o))))
        (local.set $dx (f64.max (f64.max (f64.sub (local.get $minX) (local.get $mx)) (f64.const 0)) (f64.sub (local.get $mx) (local.get $maxX))))
        (local.set $dy (f64.max (f64.max (f64.sub (local.get $minY) (local.get $my)) (f64.const 0)) (f64.sub (local.get $my) (local.get $maxY))))
        (if (i32.and
              (i32.or (i32.gt_s (local.get $s) (local.get $gs)) (i32.ge_s (local.get $gs) (i32.add (local.get $s) (local.get $n))))
              (f64.lt (f64.load offset=16 (local.get $o))
                      (f64.mul (local.get $theta2) (f64.add (f64.mul (local.get $dx) (local.get $dx)) (f64.mul (local.get $dy) (local.get $dy))))))
          (then
            (local.set $p (i32.shl (local.get $cells) (i32.const 2)))
            (f32.store (i32.add (local.get $cx) (local.get $p)) (f32.demote_f64 (f64.sub (local.get $mx) (local.get $ox))))
            (f32.store (i32.add (local.get $cy) (local.get $p)) (f32.demote_f64 (f64.sub (local.get $my) (local.get $oy))))
            (f32.store (i32.add (local.get $cm) (local.get $p)) (f32.convert_i32_s (local.get $n)))
            (local.set $cells (i32.add (local.get $cells) (i32.const 1))))
          (else
            (local.set $c (i32.trunc_f64_s (f64.load offset=48 (local.get $o))))
            (if (i32.eqz (local.get $c))
              (then
                (local.set $n (i32.add (local.get $s) (local.get $n)))
                (block $listed
                  (loop $list
                    (br_if $listed (i32.ge_u (local.get $s) (local.get $n)))
                    (local.set $p (i32.shl (local.get $points) (i32.const 2)))
                    (f32.store (i32.add (local.get $px) (local.get $p))
                      (f32.demote_f64 (f64.sub (f64.load (i32.add (local.get $sx) (i32.shl (local.get $s) (i32.const 3)))) (local.get $ox))))
                    (f32.store (i32.add (local.get $py) (local.get $p))
                      (f32.demote_f64 (f64.sub (f64.load (i32.add (local.get $sy) (i32.shl (local.get $s) (i32.const 3)))) (local.get $oy))))
                    (i32.store (i32.add (local.get $pp) (local.get $p)) (local.get $s))
                    (local.set $points (i32.add (local.get $points) (i32.const 1)))
                    (local.set $s (i32.add (local.get $s) (i32.const 1)))
                    (br $list))))
              (else
                ;; Children in order, so the last is walked first, as the JavaScript stack does.
                (local.set $p (i32.trunc_f64_s (f64.load offset=40 (local.get $o))))
                (local.set $c (i32.add (local.get $p) (local.get $c)))
                (block $pushed
                  (loop $push
                    (br_if $pushed (i32.ge_u (local.get $p) (local.get $c)))
                    (i32.store (i32.add (local.get $stack) (i32.shl (local.get $top) (i32.const 2))) (local.get $p))
                    (local.set $top (i32.add (local.get $top) (i32.const 1)))
                    (local.set $p (i32.add (local.get $p) (i32.const 1)))
                    (br $push)))))))
        (br $walk)))
    (call $apply (local.get $tx) (local.get $ty) (local.get $tp) (local.get $count)
      (local.get $cx) (local.get $cy) (local.get $cm) (local.get $cells)
      (local.get $px) (local.get $py) (local.get $pp) (local.get $points) (local.get $out)))

  ;; Group points: x, y (f32) and sorted position (i32) at $tx, $ty, $tp, count
  ;; padded to a multiple of four; cells: x, y, mass (f32); points: x, y (f32),
  ;; position (i32). Writes the fx, fy, z (f32x4 each) of group points g … g + 3
  ;; at $out + 12·g.
  (func $apply (export "apply")
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
