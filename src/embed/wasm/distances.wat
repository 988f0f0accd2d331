;; Squared Euclidean distances for the k-NN search, four coordinates at a
;; time (128-bit SIMD). Rows are float32, zero-padded to a multiple of four.
(module
  (memory (export "memory") 1)

  ;; out[c] (f32) = |q − x[cand[c]]|² for c in [0, count); rows are `bytes` long.
  (func (export "distances")
    (param $x i32) (param $bytes i32) (param $q i32) (param $cand i32) (param $count i32) (param $out i32)
    (local $c i32) (local $row i32) (local $t i32) (local $acc0 v128) (local $acc1 v128) (local $d v128)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $c) (local.get $count)))
        (local.set $row
          (i32.add (local.get $x)
            (i32.mul (i32.load (i32.add (local.get $cand) (i32.shl (local.get $c) (i32.const 2)))) (local.get $bytes))))
        (local.set $acc0 (v128.const i32x4 0 0 0 0))
        (local.set $acc1 (v128.const i32x4 0 0 0 0))
        (local.set $t (i32.const 0))
        ;; Two accumulators over pairs of vectors; an odd last vector goes to the first.
        (block $tail
          (loop $pairs
            (br_if $tail (i32.gt_u (i32.add (local.get $t) (i32.const 32)) (local.get $bytes)))
            (local.set $d (f32x4.sub (v128.load (i32.add (local.get $q) (local.get $t)))
                                     (v128.load (i32.add (local.get $row) (local.get $t)))))
            (local.set $acc0 (f32x4.add (local.get $acc0) (f32x4.mul (local.get $d) (local.get $d))))
            (local.set $d (f32x4.sub (v128.load offset=16 (i32.add (local.get $q) (local.get $t)))
                                     (v128.load offset=16 (i32.add (local.get $row) (local.get $t)))))
            (local.set $acc1 (f32x4.add (local.get $acc1) (f32x4.mul (local.get $d) (local.get $d))))
            (local.set $t (i32.add (local.get $t) (i32.const 32)))
            (br $pairs)))
        (if (i32.lt_u (local.get $t) (local.get $bytes))
          (then
            (local.set $d (f32x4.sub (v128.load (i32.add (local.get $q) (local.get $t)))
                                     (v128.load (i32.add (local.get $row) (local.get $t)))))
            (local.set $acc0 (f32x4.add (local.get $acc0) (f32x4.mul (local.get $d) (local.get $d))))))
        (local.set $acc0 (f32x4.add (local.get $acc0) (local.get $acc1)))
        (f32.store
          (i32.add (local.get $out) (i32.shl (local.get $c) (i32.const 2)))
          (f32.add
            (f32.add (f32x4.extract_lane 0 (local.get $acc0)) (f32x4.extract_lane 1 (local.get $acc0)))
            (f32.add (f32x4.extract_lane 2 (local.get $acc0)) (f32x4.extract_lane 3 (local.get $acc0)))))
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br $next))))
)
