;; The quality figures' high-dimensional distance rows: squared Euclidean
;; distances from four rows to a range of points, in double precision from
;; float32 values, with JavaScript's operations in JavaScript's order (each
;; difference, its square, the sum over the dimensions in turn), so the bits
;; are those of `distanceBlock`. The points are stored transposed
;; (dimension-major, `width` values a dimension, width a multiple of four),
;; so four points' values of one dimension are two vectors of two doubles,
;; each serving the four rows.
(module
  (memory (export "memory") 1)

  ;; out + 8·(r·width + j) (f64) = |x_{i+r} − x_j|² for r < 4 and j in [j0, j1),
  ;; j0 and j1 multiples of four; xt: the transposed points.
  (func (export "rows")
    (param $xt i32) (param $width i32) (param $dim i32) (param $i i32) (param $j0 i32) (param $j1 i32) (param $out i32)
    (local $j i32) (local $t i32) (local $col i32) (local $row i32) (local $rowBytes i32) (local $o i32)
    (local $y0 v128) (local $y1 v128) (local $x v128) (local $d v128)
    (local $a0 v128) (local $a1 v128) (local $b0 v128) (local $b1 v128)
    (local $c0 v128) (local $c1 v128) (local $e0 v128) (local $e1 v128)
    (local.set $rowBytes (i32.shl (local.get $width) (i32.const 2)))
    (local.set $j (local.get $j0))
    (block $done
      (loop $columns
        (br_if $done (i32.ge_u (local.get $j) (local.get $j1)))
        (local.set $a0 (v128.const i64x2 0 0))
        (local.set $a1 (v128.const i64x2 0 0))
        (local.set $b0 (v128.const i64x2 0 0))
        (local.set $b1 (v128.const i64x2 0 0))
        (local.set $c0 (v128.const i64x2 0 0))
        (local.set $c1 (v128.const i64x2 0 0))
        (local.set $e0 (v128.const i64x2 0 0))
        (local.set $e1 (v128.const i64x2 0 0))
        ;; $col: points j..j+3 of dimension t; $row: row i's value of dimension t.
        (local.set $col (i32.add (local.get $xt) (i32.shl (local.get $j) (i32.const 2))))
        (local.set $row (i32.add (local.get $xt) (i32.shl (local.get $i) (i32.const 2))))
        (local.set $t (i32.const 0))
        (block $dims
          (loop $next
            (br_if $dims (i32.ge_u (local.get $t) (local.get $dim)))
            (local.set $y0 (f64x2.promote_low_f32x4 (v128.load64_zero (local.get $col))))
            (local.set $y1 (f64x2.promote_low_f32x4 (v128.load64_zero offset=8 (local.get $col))))
            (local.set $x (f64x2.splat (f64.promote_f32 (f32.load (local.get $row)))))
            (local.set $d (f64x2.sub (local.get $x) (local.get $y0)))
            (local.set $a0 (f64x2.add (local.get $a0) (f64x2.mul (local.get $d) (local.get $d))))
            (local.set $d (f64x2.sub (local.get $x) (local.get $y1)))
            (local.set $a1 (f64x2.add (local.get $a1) (f64x2.mul (local.get $d) (local.get $d))))
            (local.set $x (f64x2.splat (f64.promote_f32 (f32.load offset=4 (local.get $row)))))
            (local.set $d (f64x2.sub (local.get $x) (local.get $y0)))
            (local.set $b0 (f64x2.add (local.get $b0) (f64x2.mul (local.get $d) (local.get $d))))
            (local.set $d (f64x2.sub (local.get $x) (local.get $y1)))
            (local.set $b1 (f64x2.add (local.get $b1) (f64x2.mul (local.get $d) (local.get $d))))
            (local.set $x (f64x2.splat (f64.promote_f32 (f32.load offset=8 (local.get $row)))))
            (local.set $d (f64x2.sub (local.get $x) (local.get $y0)))
            (local.set $c0 (f64x2.add (local.get $c0) (f64x2.mul (local.get $d) (local.get $d))))
            (local.set $d (f64x2.sub (local.get $x) (local.get $y1)))
            (local.set $c1 (f64x2.add (local.get $c1) (f64x2.mul (local.get $d) (local.get $d))))
            (local.set $x (f64x2.splat (f64.promote_f32 (f32.load offset=12 (local.get $row)))))
            (local.set $d (f64x2.sub (local.get $x) (local.get $y0)))
            (local.set $e0 (f64x2.add (local.get $e0) (f64x2.mul (local.get $d) (local.get $d))))
            (local.set $d (f64x2.sub (local.get $x) (local.get $y1)))
            (local.set $e1 (f64x2.add (local.get $e1) (f64x2.mul (local.get $d) (local.get $d))))
            (local.set $col (i32.add (local.get $col) (local.get $rowBytes)))
            (local.set $row (i32.add (local.get $row) (local.get $rowBytes)))
            (local.set $t (i32.add (local.get $t) (i32.const 1)))
            (br $next)))
        ;; Row r's results start 8·r·width bytes into out.
        (local.set $o (i32.add (local.get $out) (i32.shl (local.get $j) (i32.const 3))))
        (v128.store (local.get $o) (local.get $a0))
        (v128.store offset=16 (local.get $o) (local.get $a1))
        (local.set $o (i32.add (local.get $o) (i32.shl (local.get $rowBytes) (i32.const 1))))
        (v128.store (local.get $o) (local.get $b0))
        (v128.store offset=16 (local.get $o) (local.get $b1))
        (local.set $o (i32.add (local.get $o) (i32.shl (local.get $rowBytes) (i32.const 1))))
        (v128.store (local.get $o) (local.get $c0))
        (v128.store offset=16 (local.get $o) (local.get $c1))
        (local.set $o (i32.add (local.get $o) (i32.shl (local.get $rowBytes) (i32.const 1))))
        (v128.store (local.get $o) (local.get $e0))
        (v128.store offset=16 (local.get $o) (local.get $e1))
        (local.set $j (i32.add (local.get $j) (i32.const 4)))
        (br $columns)))))
