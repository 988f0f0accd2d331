;; The exact k-NN search's inner loops. `tile`: squared Euclidean distances
;; from four rows to every point, a 4 × 8 tile of (row, point) pairs per pass
;; over the dimensions, so each loaded vector of points serves four rows and
;; no sum is reduced across lanes. The points are stored transposed
;; (dimension-major, float32, each dimension's run padded to a multiple of
;; eight points), so eight points' values of one dimension are two vectors.
;; `nearest`: a row's k smallest distances, passing over four at a time.
(module
  (memory (export "memory") 1)

  ;; out + 4·(r·width + j) (f32) = |x_{i+r} − x_j|² for r < 4 and j in [0, width),
  ;; width a multiple of 8; xt: the transposed points, `width` values a dimension.
  (func (export "tile")
    (param $xt i32) (param $width i32) (param $dim i32) (param $i i32) (param $out i32)
    (local $j i32) (local $t i32) (local $col i32) (local $row i32) (local $rowBytes i32)
    (local $y0 v128) (local $y1 v128) (local $x v128) (local $d v128)
    (local $a0 v128) (local $a1 v128) (local $b0 v128) (local $b1 v128)
    (local $c0 v128) (local $c1 v128) (local $e0 v128) (local $e1 v128)
    (local.set $rowBytes (i32.shl (local.get $width) (i32.const 2)))
    (block $done
      (loop $tiles
        (br_if $done (i32.ge_u (local.get $j) (local.get $width)))
        (local.set $a0 (v128.const i32x4 0 0 0 0))
        (local.set $a1 (v128.const i32x4 0 0 0 0))
        (local.set $b0 (v128.const i32x4 0 0 0 0))
        (local.set $b1 (v128.const i32x4 0 0 0 0))
        (local.set $c0 (v128.const i32x4 0 0 0 0))
        (local.set $c1 (v128.const i32x4 0 0 0 0))
        (local.set $e0 (v128.const i32x4 0 0 0 0))
        (local.set $e1 (v128.const i32x4 0 0 0 0))
        ;; $col: points j..j+7 of dimension t; $row: row i's value of dimension t.
        (local.set $col (i32.add (local.get $xt) (i32.shl (local.get $j) (i32.const 2))))
        (local.set $row (i32.add (local.get $xt) (i32.shl (local.get $i) (i32.const 2))))
        (local.set $t (i32.const 0))
        (block $dims
          (loop $next
            (br_if $dims (i32.ge_u (local.get $t) (local.get $dim)))
            (local.set $y0 (v128.load (local.get $col)))
            (local.set $y1 (v128.load offset=16 (local.get $col)))
            (local.set $x (f32x4.splat (f32.load (local.get $row))))
            (local.set $d (f32x4.sub (local.get $x) (local.get $y0)))
            (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (local.get $d) (local.get $d))))
            (local.set $d (f32x4.sub (local.get $x) (local.get $y1)))
            (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (local.get $d) (local.get $d))))
            (local.set $x (f32x4.splat (f32.load offset=4 (local.get $row))))
            (local.set $d (f32x4.sub (local.get $x) (local.get $y0)))
            (local.set $b0 (f32x4.add (local.get $b0) (f32x4.mul (local.get $d) (local.get $d))))
            (local.set $d (f32x4.sub (local.get $x) (local.get $y1)))
            (local.set $b1 (f32x4.add (local.get $b1) (f32x4.mul (local.get $d) (local.get $d))))
            (local.set $x (f32x4.splat (f32.load offset=8 (local.get $row))))
            (local.set $d (f32x4.sub (local.get $x) (local.get $y0)))
            (local.set $c0 (f32x4.add (local.get $c0) (f32x4.mul (local.get $d) (local.get $d))))
            (local.set $d (f32x4.sub (local.get $x) (local.get $y1)))
            (local.set $c1 (f32x4.add (local.get $c1) (f32x4.mul (local.get $d) (local.get $d))))
            (local.set $x (f32x4.splat (f32.load offset=12 (local.get $row))))
            (local.set $d (f32x4.sub (local.get $x) (local.get $y0)))
            (local.set $e0 (f32x4.add (local.get $e0) (f32x4.mul (local.get $d) (local.get $d))))
            (local.set $d (f32x4.sub (local.get $x) (local.get $y1)))
            (local.set $e1 (f32x4.add (local.get $e1) (f32x4.mul (local.get $d) (local.get $d))))
            (local.set $col (i32.add (local.get $col) (local.get $rowBytes)))
            (local.set $row (i32.add (local.get $row) (local.get $rowBytes)))
            (local.set $t (i32.add (local.get $t) (i32.const 1)))
            (br $next)))
        ;; Row r's results start r·width floats into out.
        (local.set $col (i32.add (local.get $out) (i32.shl (local.get $j) (i32.const 2))))
        (v128.store (local.get $col) (local.get $a0))
        (v128.store offset=16 (local.get $col) (local.get $a1))
        (local.set $col (i32.add (local.get $col) (local.get $rowBytes)))
        (v128.store (local.get $col) (local.get $b0))
        (v128.store offset=16 (local.get $col) (local.get $b1))
        (local.set $col (i32.add (local.get $col) (local.get $rowBytes)))
        (v128.store (local.get $col) (local.get $c0))
        (v128.store offset=16 (local.get $col) (local.get $c1))
        (local.set $col (i32.add (local.get $col) (local.get $rowBytes)))
        (v128.store (local.get $col) (local.get $e0))
        (v128.store offset=16 (local.get $col) (local.get $e1))
        (local.set $j (i32.add (local.get $j) (i32.const 8)))
        (br $tiles))))

  ;; The k smallest of the n distances at $row (f32) by (distance, index),
  ;; j ≠ $self, into $kd/$kj[0 … k) in no particular order; both hold $cap
  ;; (> k) entries. The scan starts at the row's own run of sixteen and wraps
  ;; around, since rows near in the order are often near in the data: the
  ;; cut falls sooner. Distances at or under the running cut are appended
  ;; (at: an equal distance at a lower index may still be among the k); when
  ;; $cap are held, the k smallest are kept and the largest of them becomes
  ;; the cut. Sixteen distances none of which is at or under the cut are
  ;; passed over with one branch.
  (func (export "nearest")
    (param $row i32) (param $n i32) (param $self i32) (param $k i32) (param $kd i32) (param $kj i32) (param $cap i32)
    (local $start i32)
    (global.set $held (i32.const 0))
    (global.set $cut (f32.const inf))
    (global.set $cuts (f32x4.splat (f32.const inf)))
    (local.set $start (i32.and (local.get $self) (i32.const -16)))
    (call $scan (local.get $row) (local.get $start) (local.get $n) (local.get $self) (local.get $k) (local.get $kd) (local.get $kj) (local.get $cap))
    (call $scan (local.get $row) (i32.const 0) (local.get $start) (local.get $self) (local.get $k) (local.get $kd) (local.get $kj) (local.get $cap))
    (call $select (local.get $kd) (local.get $kj) (global.get $held) (local.get $k)))

  ;; The held candidates, the cut, and the cut in every lane, during `nearest`.
  (global $held (mut i32) (i32.const 0))
  (global $cut (mut f32) (f32.const inf))
  (global $cuts (mut v128) (v128.const i32x4 0 0 0 0))

  ;; `nearest`'s scan of the distances j in [$from, $to).
  (func $scan
    (param $row i32) (param $from i32) (param $to i32) (param $self i32) (param $k i32) (param $kd i32) (param $kj i32) (param $cap i32)
    (local $group i32) (local $j i32) (local $stop i32) (local $held i32) (local $a i32) (local $p i32)
    (local $d f32) (local $cut f32) (local $cuts v128)
    (local.set $held (global.get $held))
    (local.set $cut (global.get $cut))
    (local.set $cuts (global.get $cuts))
    (local.set $group (local.get $from))
    (block $scanned
      (loop $groups
        ;; Sixteen at a time while none is at or under the cut.
        (block $found
          (loop $pass
            (br_if $found (i32.gt_u (i32.add (local.get $group) (i32.const 16)) (local.get $to)))
            (local.set $p (i32.add (local.get $row) (i32.shl (local.get $group) (i32.const 2))))
            (br_if $found (v128.any_true (v128.or
              (v128.or (f32x4.le (v128.load (local.get $p)) (local.get $cuts)) (f32x4.le (v128.load offset=16 (local.get $p)) (local.get $cuts)))
              (v128.or (f32x4.le (v128.load offset=32 (local.get $p)) (local.get $cuts)) (f32x4.le (v128.load offset=48 (local.get $p)) (local.get $cuts))))))
            (local.set $group (i32.add (local.get $group) (i32.const 16)))
            (br $pass)))
        (br_if $scanned (i32.ge_u (local.get $group) (local.get $to)))
        ;; Then these sixteen (or the last few) one by one.
        (local.set $stop (i32.add (local.get $group) (i32.const 16)))
        (if (i32.gt_u (local.get $stop) (local.get $to)) (then (local.set $stop (local.get $to))))
        (local.set $j (local.get $group))
        (loop $each
          (local.set $d (f32.load (i32.add (local.get $row) (i32.shl (local.get $j) (i32.const 2)))))
          (if (i32.and (f32.le (local.get $d) (local.get $cut)) (i32.ne (local.get $j) (local.get $self)))
            (then
              (f32.store (i32.add (local.get $kd) (i32.shl (local.get $held) (i32.const 2))) (local.get $d))
              (i32.store (i32.add (local.get $kj) (i32.shl (local.get $held) (i32.const 2))) (local.get $j))
              (local.set $held (i32.add (local.get $held) (i32.const 1)))
              (if (i32.eq (local.get $held) (local.get $cap))
                (then
                  (call $select (local.get $kd) (local.get $kj) (local.get $held) (local.get $k))
                  (local.set $held (local.get $k))
                  (local.set $cut (f32.load (local.get $kd)))
                  (local.set $a (i32.const 1))
                  (block $max
                    (loop $larger
                      (br_if $max (i32.ge_u (local.get $a) (local.get $k)))
                      (local.set $d (f32.load (i32.add (local.get $kd) (i32.shl (local.get $a) (i32.const 2)))))
                      (if (f32.gt (local.get $d) (local.get $cut)) (then (local.set $cut (local.get $d))))
                      (local.set $a (i32.add (local.get $a) (i32.const 1)))
                      (br $larger)))
                  (local.set $cuts (f32x4.splat (local.get $cut)))))))
          (local.set $j (i32.add (local.get $j) (i32.const 1)))
          (br_if $each (i32.lt_u (local.get $j) (local.get $stop))))
        (local.set $group (local.get $stop))
        (br $groups)))
    (global.set $held (local.get $held))
    (global.set $cut (local.get $cut))
    (global.set $cuts (local.get $cuts)))

  ;; Moves the k smallest of the first m entries of $kd/$kj by (distance,
  ;; index) to [0, k): Hoare's quickselect, the middle entry as pivot.
  (func $select (param $kd i32) (param $kj i32) (param $m i32) (param $k i32)
    (local $lo i32) (local $hi i32) (local $a i32) (local $b i32) (local $mid i32)
    (local $pd f32) (local $pj i32) (local $td f32) (local $tj i32) (local $pa i32) (local $pb i32)
    (local.set $hi (i32.sub (local.get $m) (i32.const 1)))
    (block $done
      (loop $partition
        (br_if $done (i32.ge_s (local.get $lo) (local.get $hi)))
        (local.set $mid (i32.shr_s (i32.add (local.get $lo) (local.get $hi)) (i32.const 1)))
        (local.set $pd (f32.load (i32.add (local.get $kd) (i32.shl (local.get $mid) (i32.const 2)))))
        (local.set $pj (i32.load (i32.add (local.get $kj) (i32.shl (local.get $mid) (i32.const 2)))))
        (local.set $a (local.get $lo))
        (local.set $b (local.get $hi))
        (block $crossed
          (loop $sweep
            (br_if $crossed (i32.gt_s (local.get $a) (local.get $b)))
            ;; a moves up past entries before the pivot, b down past entries after it.
            (loop $up
              (local.set $pa (i32.shl (local.get $a) (i32.const 2)))
              (local.set $td (f32.load (i32.add (local.get $kd) (local.get $pa))))
              (if (i32.or (f32.lt (local.get $td) (local.get $pd))
                          (i32.and (f32.eq (local.get $td) (local.get $pd)) (i32.lt_s (i32.load (i32.add (local.get $kj) (local.get $pa))) (local.get $pj))))
                (then (local.set $a (i32.add (local.get $a) (i32.const 1))) (br $up))))
            (loop $down
              (local.set $pb (i32.shl (local.get $b) (i32.const 2)))
              (local.set $td (f32.load (i32.add (local.get $kd) (local.get $pb))))
              (if (i32.or (f32.gt (local.get $td) (local.get $pd))
                          (i32.and (f32.eq (local.get $td) (local.get $pd)) (i32.gt_s (i32.load (i32.add (local.get $kj) (local.get $pb))) (local.get $pj))))
                (then (local.set $b (i32.sub (local.get $b) (i32.const 1))) (br $down))))
            (if (i32.le_s (local.get $a) (local.get $b))
              (then
                (local.set $pa (i32.shl (local.get $a) (i32.const 2)))
                (local.set $pb (i32.shl (local.get $b) (i32.const 2)))
                (local.set $td (f32.load (i32.add (local.get $kd) (local.get $pa))))
                (local.set $tj (i32.load (i32.add (local.get $kj) (local.get $pa))))
                (f32.store (i32.add (local.get $kd) (local.get $pa)) (f32.load (i32.add (local.get $kd) (local.get $pb))))
                (i32.store (i32.add (local.get $kj) (local.get $pa)) (i32.load (i32.add (local.get $kj) (local.get $pb))))
                (f32.store (i32.add (local.get $kd) (local.get $pb)) (local.get $td))
                (i32.store (i32.add (local.get $kj) (local.get $pb)) (local.get $tj))
                (local.set $a (i32.add (local.get $a) (i32.const 1)))
                (local.set $b (i32.sub (local.get $b) (i32.const 1)))))
            (br $sweep)))
        ;; [lo, b] ≤ pivot ≤ [a, hi]; entries between b and a equal the pivot.
        (if (i32.le_s (i32.sub (local.get $k) (i32.const 1)) (local.get $b))
          (then (local.set $hi (local.get $b)) (br $partition)))
        (if (i32.ge_s (i32.sub (local.get $k) (i32.const 1)) (local.get $a))
          (then (local.set $lo (local.get $a)) (br $partition))))))
)
