;; Squared Euclidean distances from four rows to every point, for the exact
;; k-NN search: a 4 × 8 tile of (row, point) pairs per pass over the
;; dimensions, so each loaded vector of points serves four rows and no sum
;; is reduced across lanes. The points are stored transposed (dimension-major,
;; float32, each dimension's run padded to a multiple of eight points), so
;; eight points' values of one dimension are two vectors.
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
)
