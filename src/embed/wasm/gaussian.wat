;; The perplexity calibration's inner loop: a row's Gaussian weights
;; p_a = exp(−β (d_a − d_0)) and their moments, two exps per 128-bit vector.
;; exp is fdlibm's (as src/util/portable_math.ts computes it), written
;; without branches for arguments x ≤ 0, which is all this loop has (d_0 is
;; the nearest): every lane takes the general reduction, with k forced to
;; −1 where fdlibm has its own branch for |x| < 1.5 ln2 (the same k, hi and
;; lo), to 0 below ln2 / 2 (where the general formula reduces to fdlibm's
;; own, bit for bit), and selects 1 + x below 2^−28 and 0 below −745.13.
;; The weights are all computed first, then the moments summed one entry at
;; a time, in order, as the JavaScript loop sums them, so both give the same
;; bits.
(module
  (memory (export "memory") 1)

  ;; For a < k: p_a = exp(−β (d_a − d_0)) into $out, from the k squared
  ;; distances at $d2 (its entry k readable: a duplicate of d_0 where k is
  ;; odd; $out has room for k + 1 too); Σ p, Σ d p, Σ d² p, Σ d³ p into the
  ;; four doubles at $sums.
  (func (export "weights") (param $d2 i32) (param $k i32) (param $beta f64) (param $out i32) (param $sums i32)
    (local $a i32) (local $d0 v128) (local $nb v128) (local $d v128) (local $p v128) (local $x v128)
    (local $ax v128) (local $kf v128) (local $hi v128) (local $lo v128) (local $r v128) (local $t v128)
    (local $c v128) (local $y v128) (local $sub v128) (local $scale v128)
    (local $s f64) (local $s1 f64) (local $s2 f64) (local $s3 f64) (local $e f64) (local $q f64) (local $dp f64)
    (local.set $d0 (v128.load64_splat (local.get $d2)))
    (local.set $nb (f64x2.splat (f64.neg (local.get $beta))))
    (block $done
      (loop $pairs
        (br_if $done (i32.ge_u (local.get $a) (local.get $k)))
        (local.set $d (f64x2.sub (v128.load (i32.add (local.get $d2) (i32.shl (local.get $a) (i32.const 3)))) (local.get $d0)))
        (local.set $x (f64x2.mul (local.get $nb) (local.get $d)))
        ;; p = e^x, fdlibm's steps on both lanes.
        (local.set $ax (f64x2.abs (local.get $x)))
        ;; k = trunc(x / ln2 − 0.5); −1 below 1.5 ln2; 0 below ln2 / 2.
        (local.set $kf (f64x2.trunc (f64x2.add
          (f64x2.mul (v128.const f64x2 1.44269504088896338700e+00 1.44269504088896338700e+00) (local.get $x))
          (v128.const f64x2 -0.5 -0.5))))
        (local.set $kf (v128.bitselect (v128.const f64x2 -1 -1) (local.get $kf)
          (f64x2.lt (local.get $ax) (v128.const i64x2 0x3ff0a2b200000000 0x3ff0a2b200000000))))
        (local.set $kf (v128.bitselect (v128.const f64x2 0 0) (local.get $kf)
          (f64x2.lt (local.get $ax) (v128.const i64x2 0x3fd62e4300000000 0x3fd62e4300000000))))
        ;; x = k ln2 + r, r = hi − lo.
        (local.set $hi (f64x2.sub (local.get $x)
          (f64x2.mul (local.get $kf) (v128.const f64x2 6.93147180369123816490e-01 6.93147180369123816490e-01))))
        (local.set $lo (f64x2.mul (local.get $kf) (v128.const f64x2 1.90821492927058770002e-10 1.90821492927058770002e-10)))
        (local.set $r (f64x2.sub (local.get $hi) (local.get $lo)))
        (local.set $t (f64x2.mul (local.get $r) (local.get $r)))
        (local.set $c (f64x2.sub (local.get $r) (f64x2.mul (local.get $t)
          (f64x2.add (v128.const f64x2 1.66666666666666019037e-01 1.66666666666666019037e-01) (f64x2.mul (local.get $t)
          (f64x2.add (v128.const f64x2 -2.77777777770155933842e-03 -2.77777777770155933842e-03) (f64x2.mul (local.get $t)
          (f64x2.add (v128.const f64x2 6.61375632143793436117e-05 6.61375632143793436117e-05) (f64x2.mul (local.get $t)
          (f64x2.add (v128.const f64x2 -1.65339022054652515390e-06 -1.65339022054652515390e-06) (f64x2.mul (local.get $t)
            (v128.const f64x2 4.13813679705723846039e-08 4.13813679705723846039e-08))))))))))))
        ;; y = 1 − ((lo − r c / (2 − c)) − hi)
        (local.set $y (f64x2.sub (v128.const f64x2 1 1) (f64x2.sub
          (f64x2.sub (local.get $lo) (f64x2.div (f64x2.mul (local.get $r) (local.get $c)) (f64x2.sub (v128.const f64x2 2 2) (local.get $c))))
          (local.get $hi))))
        ;; y 2^k; below k = −1021 as y 2^(k + 1000) 2^−1000, so that the result rounds once into the subnormals.
        ;; 2^k's bits: k + 1023 (+ 1000) added to 2^52 lands in the low bits exactly, and shifts into the exponent.
        (local.set $sub (f64x2.lt (local.get $kf) (v128.const f64x2 -1021 -1021)))
        (local.set $scale (i64x2.shl (f64x2.add (local.get $kf)
          (v128.bitselect (v128.const f64x2 4503599627372519 4503599627372519) (v128.const f64x2 4503599627371519 4503599627371519) (local.get $sub)))
          (i32.const 52)))
        (local.set $y (f64x2.mul (f64x2.mul (local.get $y) (local.get $scale))
          (v128.bitselect (v128.const i64x2 0x0170000000000000 0x0170000000000000) (v128.const f64x2 1 1) (local.get $sub))))
        ;; 1 + x below 2^−28, 0 below −745.13 (underflow).
        (local.set $y (v128.bitselect (f64x2.add (v128.const f64x2 1 1) (local.get $x)) (local.get $y)
          (f64x2.lt (local.get $ax) (v128.const i64x2 0x3e30000000000000 0x3e30000000000000))))
        (local.set $p (v128.bitselect (v128.const f64x2 0 0) (local.get $y)
          (f64x2.lt (local.get $x) (v128.const f64x2 -7.45133219101941108420e+02 -7.45133219101941108420e+02))))
        (v128.store (i32.add (local.get $out) (i32.shl (local.get $a) (i32.const 3))) (local.get $p))
        (local.set $a (i32.add (local.get $a) (i32.const 2)))
        (br $pairs)))
    ;; The moments, one entry at a time, in order.
    (local.set $a (i32.const 0))
    (block $summed
      (loop $entries
        (br_if $summed (i32.ge_u (local.get $a) (local.get $k)))
        (local.set $e (f64.sub (f64.load (i32.add (local.get $d2) (i32.shl (local.get $a) (i32.const 3)))) (f64x2.extract_lane 0 (local.get $d0))))
        (local.set $q (f64.load (i32.add (local.get $out) (i32.shl (local.get $a) (i32.const 3)))))
        (local.set $dp (f64.mul (local.get $e) (local.get $q)))
        (local.set $s (f64.add (local.get $s) (local.get $q)))
        (local.set $s1 (f64.add (local.get $s1) (local.get $dp)))
        (local.set $s2 (f64.add (local.get $s2) (f64.mul (local.get $e) (local.get $dp))))
        (local.set $s3 (f64.add (local.get $s3) (f64.mul (f64.mul (local.get $e) (local.get $e)) (local.get $dp))))
        (local.set $a (i32.add (local.get $a) (i32.const 1)))
        (br $entries)))
    (f64.store (local.get $sums) (local.get $s))
    (f64.store offset=8 (local.get $sums) (local.get $s1))
    (f64.store offset=16 (local.get $sums) (local.get $s2))
    (f64.store offset=24 (local.get $sums) (local.get $s3)))
)
