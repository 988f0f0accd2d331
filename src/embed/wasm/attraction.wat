;; t-SNE's attraction over rows of a sparse P, one point's (x, y) per 128-bit
;; vector (f64x2): for each row i, Σ_e p_e q_e (y_i − y_j), q_e = 1 / (1 + |y_i − y_j|²),
;; j = col[e]. The operations and their order are those of the JavaScript
;; loop, so both give the same bits. The memory is imported and shared: the
;; steps' points and affinities live in it, so every thread reads them in
;; place.
(module
  (import "env" "memory" (memory 1 65536 shared))

  ;; Rows [from, to): out + 16·i receives the row's (fx, fy). y: n×2 f64;
  ;; rowPtr: i32 (n + 1); col: i32; val: f64.
  (func (export "attraction")
    (param $y i32) (param $rowPtr i32) (param $col i32) (param $val i32) (param $from i32) (param $to i32) (param $out i32)
    (local $i i32) (local $e i32) (local $end i32) (local $yi v128) (local $d v128) (local $sq v128) (local $f v128) (local $pq f64)
    (local.set $i (local.get $from))
    (local.set $e (i32.load (i32.add (local.get $rowPtr) (i32.shl (local.get $from) (i32.const 2)))))
    (block $rowsDone
      (loop $rows
        (br_if $rowsDone (i32.ge_u (local.get $i) (local.get $to)))
        (local.set $end (i32.load offset=4 (i32.add (local.get $rowPtr) (i32.shl (local.get $i) (i32.const 2)))))
        (local.set $yi (v128.load (i32.add (local.get $y) (i32.shl (local.get $i) (i32.const 4)))))
        (local.set $f (v128.const i64x2 0 0))
        (block $entriesDone
          (loop $entries
            (br_if $entriesDone (i32.ge_u (local.get $e) (local.get $end)))
            (local.set $d (f64x2.sub (local.get $yi)
              (v128.load (i32.add (local.get $y)
                (i32.shl (i32.load (i32.add (local.get $col) (i32.shl (local.get $e) (i32.const 2)))) (i32.const 4))))))
            (local.set $sq (f64x2.mul (local.get $d) (local.get $d)))
            ;; p / ((1 + dx²) + dy²), as JavaScript evaluates 1 + dx * dx + dy * dy.
            (local.set $pq (f64.div
              (f64.load (i32.add (local.get $val) (i32.shl (local.get $e) (i32.const 3))))
              (f64.add (f64.add (f64.const 1) (f64x2.extract_lane 0 (local.get $sq))) (f64x2.extract_lane 1 (local.get $sq)))))
            (local.set $f (f64x2.add (local.get $f) (f64x2.mul (f64x2.splat (local.get $pq)) (local.get $d))))
            (local.set $e (i32.add (local.get $e) (i32.const 1)))
            (br $entries)))
        (v128.store (i32.add (local.get $out) (i32.shl (local.get $i) (i32.const 4))) (local.get $f))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $rows))))
)
