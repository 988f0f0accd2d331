;; The products of the randomised PCA (pca.ts): A·B and Aᵀ·B for A n×D (its
;; rows stored as f32 or f64) and B with l columns, all row-major. For each
;; entry v = A[i, d] that is not zero (images are mostly zeros), a row of B
;; times v is added to a row of the result, two columns a vector: every
;; result is the same sequence of double-precision operations as the
;; JavaScript loops', so the same bits.
(module
  (memory (export "memory") 1)

  ;; out[row] += v · b[col] over the l columns, for every non-zero v =
  ;; A[i, d], where (row, col) = (i, d) for A·B ($transposed = 0) and (d, i)
  ;; for Aᵀ·B. $f32: whether A's entries are f32 (else f64). out starts at zero.
  (func (export "times")
    (param $a i32) (param $f32 i32) (param $n i32) (param $dim i32) (param $b i32) (param $l i32) (param $out i32) (param $transposed i32)
    (local $i i32) (local $d i32) (local $c i32) (local $pairs i32) (local $v f64) (local $vv v128)
    (local $at i32) (local $dst i32) (local $src i32)
    (local.set $pairs (i32.and (local.get $l) (i32.const -2)))
    (block $rows
      (loop $row
        (br_if $rows (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $d (i32.const 0))
        (block $dims
          (loop $dim
            (br_if $dims (i32.ge_u (local.get $d) (local.get $dim)))
            (local.set $at (i32.add (i32.mul (local.get $i) (local.get $dim)) (local.get $d)))
            (local.set $v (if (result f64) (local.get $f32)
              (then (f64.promote_f32 (f32.load (i32.add (local.get $a) (i32.shl (local.get $at) (i32.const 2))))))
              (else (f64.load (i32.add (local.get $a) (i32.shl (local.get $at) (i32.const 3)))))))
            (if (f64.ne (local.get $v) (f64.const 0))
              (then
                ;; Byte offsets of the result's row and B's row.
                (local.set $dst (i32.shl (i32.mul (select (local.get $d) (local.get $i) (local.get $transposed)) (local.get $l)) (i32.const 3)))
                (local.set $src (i32.shl (i32.mul (select (local.get $i) (local.get $d) (local.get $transposed)) (local.get $l)) (i32.const 3)))
                (local.set $dst (i32.add (local.get $out) (local.get $dst)))
                (local.set $src (i32.add (local.get $b) (local.get $src)))
                (local.set $vv (f64x2.splat (local.get $v)))
                (local.set $c (i32.const 0))
                (block $cols
                  (loop $col
                    (br_if $cols (i32.ge_u (local.get $c) (local.get $pairs)))
                    (v128.store (local.get $dst)
                      (f64x2.add (v128.load (local.get $dst)) (f64x2.mul (local.get $vv) (v128.load (local.get $src)))))
                    (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
                    (local.set $src (i32.add (local.get $src) (i32.const 16)))
                    (local.set $c (i32.add (local.get $c) (i32.const 2)))
                    (br $col)))
                (if (i32.lt_u (local.get $c) (local.get $l))
                  (then
                    (f64.store (local.get $dst)
                      (f64.add (f64.load (local.get $dst)) (f64.mul (local.get $v) (f64.load (local.get $src)))))))))
            (local.set $d (i32.add (local.get $d) (i32.const 1)))
            (br $dim)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $row))))
)
