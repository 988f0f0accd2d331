;; t-SNE's attraction over rows of a sparse P: for each row i,
;; Σ_e p_e q_e (y_i − y_j), q_e = 1 / (1 + |y_i − y_j|²), j = col[e], two
;; entries per 128-bit vector (f64x2: a row's even entries in lane 0, its odd
;; ones in lane 1, the two sums added at the end), so one packed division
;; serves two entries. The JavaScript loop sums in the same two halves, in
;; the same order, so both give the same bits. The memory is imported and
;; shared: the steps' points and affinities live in it, so every thread
;; reads them in place.
(module
  (import "env" "memory" (memory 1 65536 shared))

  ;; Rows [from, to): out + 16·i receives the row's (fx, fy). y: n×2 f64;
  ;; rowPtr: i32 (n + 1); col: i32; val: f64.
  (func (export "attraction")
    (param $y i32) (param $rowPtr i32) (param $col i32) (param $val i32) (param $from i32) (param $to i32) (param $out i32)
    (local $i i32) (local $e i32) (local $end i32) (local $a v128) (local $b v128)
    (local $xi v128) (local $yi v128) (local $dx v128) (local $dy v128) (local $pq v128) (local $fx v128) (local $fy v128)
    (local $sx f64) (local $sy f64) (local $p f64)
    (local.set $i (local.get $from))
    (local.set $e (i32.load (i32.add (local.get $rowPtr) (i32.shl (local.get $from) (i32.const 2)))))
    (block $rowsDone
      (loop $rows
        (br_if $rowsDone (i32.ge_u (local.get $i) (local.get $to)))
        (local.set $end (i32.load offset=4 (i32.add (local.get $rowPtr) (i32.shl (local.get $i) (i32.const 2)))))
        (local.set $xi (v128.load64_splat (i32.add (local.get $y) (i32.shl (local.get $i) (i32.const 4)))))
        (local.set $yi (v128.load64_splat offset=8 (i32.add (local.get $y) (i32.shl (local.get $i) (i32.const 4)))))
        (local.set $fx (v128.const i64x2 0 0))
        (local.set $fy (v128.const i64x2 0 0))
        (block $pairsDone
          (loop $pairs
            (br_if $pairsDone (i32.ge_u (i32.add (local.get $e) (i32.const 1)) (local.get $end)))
            ;; $a = (x, y) of entry e's point, $b of entry e + 1's.
            (local.set $a (v128.load (i32.add (local.get $y)
              (i32.shl (i32.load (i32.add (local.get $col) (i32.shl (local.get $e) (i32.const 2)))) (i32.const 4)))))
            (local.set $b (v128.load (i32.add (local.get $y)
              (i32.shl (i32.load offset=4 (i32.add (local.get $col) (i32.shl (local.get $e) (i32.const 2)))) (i32.const 4)))))
            (local.set $dx (f64x2.sub (local.get $xi)
              (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $a) (local.get $b))))
            (local.set $dy (f64x2.sub (local.get $yi)
              (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $a) (local.get $b))))
            ;; p / ((1 + dx²) + dy²), as JavaScript evaluates 1 + dx * dx + dy * dy.
            (local.set $pq (f64x2.div
              (v128.load (i32.add (local.get $val) (i32.shl (local.get $e) (i32.const 3))))
              (f64x2.add (f64x2.add (v128.const f64x2 1 1) (f64x2.mul (local.get $dx) (local.get $dx)))
                         (f64x2.mul (local.get $dy) (local.get $dy)))))
            (local.set $fx (f64x2.add (local.get $fx) (f64x2.mul (local.get $pq) (local.get $dx))))
            (local.set $fy (f64x2.add (local.get $fy) (f64x2.mul (local.get $pq) (local.get $dy))))
            (local.set $e (i32.add (local.get $e) (i32.const 2)))
            (br $pairs)))
        ;; A row's odd last entry goes to the even half.
        (if (i32.lt_u (local.get $e) (local.get $end))
          (then
            (local.set $a (v128.load (i32.add (local.get $y)
              (i32.shl (i32.load (i32.add (local.get $col) (i32.shl (local.get $e) (i32.const 2)))) (i32.const 4)))))
            (local.set $sx (f64.sub (f64x2.extract_lane 0 (local.get $xi)) (f64x2.extract_lane 0 (local.get $a))))
            (local.set $sy (f64.sub (f64x2.extract_lane 0 (local.get $yi)) (f64x2.extract_lane 1 (local.get $a))))
            (local.set $p (f64.div (f64.load (i32.add (local.get $val) (i32.shl (local.get $e) (i32.const 3))))
              (f64.add (f64.add (f64.const 1) (f64.mul (local.get $sx) (local.get $sx))) (f64.mul (local.get $sy) (local.get $sy)))))
            (local.set $fx (f64x2.replace_lane 0 (local.get $fx)
              (f64.add (f64x2.extract_lane 0 (local.get $fx)) (f64.mul (local.get $p) (local.get $sx)))))
            (local.set $fy (f64x2.replace_lane 0 (local.get $fy)
              (f64.add (f64x2.extract_lane 0 (local.get $fy)) (f64.mul (local.get $p) (local.get $sy)))))
            (local.set $e (i32.add (local.get $e) (i32.const 1)))))
        (f64.store (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 4)))
          (f64.add (f64x2.extract_lane 0 (local.get $fx)) (f64x2.extract_lane 1 (local.get $fx))))
        (f64.store offset=8 (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 4)))
          (f64.add (f64x2.extract_lane 0 (local.get $fy)) (f64x2.extract_lane 1 (local.get $fy))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $rows))))
)
