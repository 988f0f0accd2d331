;; The quadtree's build (see quadtree.ts): the points sorted by Morton code,
;; the nodes depth first from the root, then every node's centre of mass and
;; extent, children before parents. Every array is at an offset the caller
;; chose in this memory.
(module
  (memory (export "memory") 1)

  ;; Spreads the low 16 bits of v to the even bit positions.
  (func $interleave (param $v i32) (result i32)
    (local.set $v (i32.and (local.get $v) (i32.const 0xffff)))
    (local.set $v (i32.and (i32.or (local.get $v) (i32.shl (local.get $v) (i32.const 8))) (i32.const 0x00ff00ff)))
    (local.set $v (i32.and (i32.or (local.get $v) (i32.shl (local.get $v) (i32.const 4))) (i32.const 0x0f0f0f0f)))
    (local.set $v (i32.and (i32.or (local.get $v) (i32.shl (local.get $v) (i32.const 2))) (i32.const 0x33333333)))
    (i32.and (i32.or (local.get $v) (i32.shl (local.get $v) (i32.const 1))) (i32.const 0x55555555)))

  ;; One pass: the n codes (and their points) in bucket order of the digit at
  ;; $shift, from one pair of buffers to the other; $counts: the pass's
  ;; bucket offsets (2048 i32), advanced as entries are placed.
  (func $scatter (param $codes i32) (param $order i32) (param $toCodes i32) (param $toOrder i32) (param $counts i32) (param $shift i32) (param $n i32)
    (local $p i32) (local $code i32) (local $slot i32) (local $to i32)
    (block $done
      (loop $each
        (br_if $done (i32.ge_u (local.get $p) (local.get $n)))
        (local.set $code (i32.load (i32.add (local.get $codes) (i32.shl (local.get $p) (i32.const 2)))))
        (local.set $slot (i32.add (local.get $counts) (i32.shl (i32.and (i32.shr_u (local.get $code) (local.get $shift)) (i32.const 2047)) (i32.const 2))))
        (local.set $to (i32.shl (i32.load (local.get $slot)) (i32.const 2)))
        (i32.store (local.get $slot) (i32.add (i32.load (local.get $slot)) (i32.const 1)))
        (i32.store (i32.add (local.get $toCodes) (local.get $to)) (local.get $code))
        (i32.store (i32.add (local.get $toOrder) (local.get $to)) (i32.load (i32.add (local.get $order) (i32.shl (local.get $p) (i32.const 2)))))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $each))))

  ;; Sorts the n points at $y (x, y pairs, f64) by Morton code on a 2^16
  ;; grid: an LSD radix sort in three passes of 11, 11 and 10 bits whose
  ;; bucket counts are all taken in the pass that makes the codes; ties keep
  ;; the points' order. The points go by Morton code, the grid's
  ;; cell of (x, y) at column (x − minX)·scale, row (y − minY)·scale: the sorted codes to
  ;; $codes, the points' indices to $order and their coordinates to $sx, $sy.
  ;; $spareCodes, $spareOrder: n i32 each; $counts: 3 × 2048 i32 of zeros.
  (func (export "sort")
    (param $y i32) (param $n i32) (param $minX f64) (param $minY f64) (param $scale f64)
    (param $codes i32) (param $order i32) (param $spareCodes i32) (param $spareOrder i32) (param $counts i32) (param $sx i32) (param $sy i32)
    (local $i i32) (local $code i32) (local $at i32) (local $b i32) (local $sum i32) (local $c i32) (local $end i32)
    (block $coded
      (loop $each
        (br_if $coded (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $at (i32.add (local.get $y) (i32.shl (local.get $i) (i32.const 4))))
        (local.set $code (i32.or
          (call $interleave (i32.trunc_sat_f64_s (f64.mul (f64.sub (f64.load (local.get $at)) (local.get $minX)) (local.get $scale))))
          (i32.shl (call $interleave (i32.trunc_sat_f64_s (f64.mul (f64.sub (f64.load offset=8 (local.get $at)) (local.get $minY)) (local.get $scale)))) (i32.const 1))))
        (local.set $at (i32.shl (local.get $i) (i32.const 2)))
        (i32.store (i32.add (local.get $spareCodes) (local.get $at)) (local.get $code))
        (i32.store (i32.add (local.get $spareOrder) (local.get $at)) (local.get $i))
        (local.set $at (i32.add (local.get $counts) (i32.shl (i32.and (local.get $code) (i32.const 2047)) (i32.const 2))))
        (i32.store (local.get $at) (i32.add (i32.load (local.get $at)) (i32.const 1)))
        (local.set $at (i32.add (local.get $counts) (i32.shl (i32.add (i32.const 2048) (i32.and (i32.shr_u (local.get $code) (i32.const 11)) (i32.const 2047))) (i32.const 2))))
        (i32.store (local.get $at) (i32.add (i32.load (local.get $at)) (i32.const 1)))
        (local.set $at (i32.add (local.get $counts) (i32.shl (i32.add (i32.const 4096) (i32.shr_u (local.get $code) (i32.const 22))) (i32.const 2))))
        (i32.store (local.get $at) (i32.add (i32.load (local.get $at)) (i32.const 1)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $each)))
    ;; Each pass's counts become its buckets' first positions.
    (local.set $end (i32.const 2048))
    (block $summed
      (loop $pass
        (br_if $summed (i32.gt_u (local.get $end) (i32.const 6144)))
        (local.set $sum (i32.const 0))
        (loop $bucket
          (local.set $at (i32.add (local.get $counts) (i32.shl (local.get $b) (i32.const 2))))
          (local.set $c (i32.load (local.get $at)))
          (i32.store (local.get $at) (local.get $sum))
          (local.set $sum (i32.add (local.get $sum) (local.get $c)))
          (local.set $b (i32.add (local.get $b) (i32.const 1)))
          (br_if $bucket (i32.lt_u (local.get $b) (local.get $end))))
        (local.set $end (i32.add (local.get $end) (i32.const 2048)))
        (br $pass)))
    ;; The codes start in the spare buffers, so that the third pass leaves them sorted in codes and order.
    (call $scatter (local.get $spareCodes) (local.get $spareOrder) (local.get $codes) (local.get $order) (local.get $counts) (i32.const 0) (local.get $n))
    (call $scatter (local.get $codes) (local.get $order) (local.get $spareCodes) (local.get $spareOrder) (i32.add (local.get $counts) (i32.const 8192)) (i32.const 11) (local.get $n))
    (call $scatter (local.get $spareCodes) (local.get $spareOrder) (local.get $codes) (local.get $order) (i32.add (local.get $counts) (i32.const 16384)) (i32.const 22) (local.get $n))
    (local.set $i (i32.const 0))
    (block $gathered
      (loop $each
        (br_if $gathered (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $at (i32.add (local.get $y) (i32.shl (i32.load (i32.add (local.get $order) (i32.shl (local.get $i) (i32.const 2)))) (i32.const 4))))
        (f64.store (i32.add (local.get $sx) (i32.shl (local.get $i) (i32.const 3))) (f64.load (local.get $at)))
        (f64.store (i32.add (local.get $sy) (i32.shl (local.get $i) (i32.const 3))) (f64.load offset=8 (local.get $at)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $each))))
;; The nodes over the n sorted points ($codes): node 0 the root, each a
  ;; range [start, start + count) of the sorted points; a node of more than
  ;; $leafSize points with more than one code splits at the first quadrant
  ;; digit where its first and last codes differ (the levels above would be
  ;; nodes with a single child), into the quadrants that hold points. Depth
  ;; first, children pushed in reverse, so groups (nodes of at most
  ;; $groupSize points whose parent holds more, or leaves) come out in Morton
  ;; order. The numbers of nodes and groups go to $sizes (i32 [nodes, groups]).
  (func (export "topology")
    (param $codes i32) (param $n i32) (param $leafSize i32) (param $groupSize i32)
    (param $start i32) (param $count i32) (param $firstChild i32) (param $children i32) (param $groups i32) (param $stack i32) (param $sizes i32)
    (local $size i32) (local $groupCount i32) (local $top i32) (local $k i32) (local $inGroup i32) (local $s i32) (local $e i32) (local $c i32)
    (local $leaf i32) (local $grouped i32) (local $shift i32) (local $first i32) (local $q i32) (local $from i32) (local $to i32)
    (local $lo i32) (local $hi i32) (local $mid i32)
    (if (i32.eqz (local.get $n))
      (then
        (i32.store (local.get $sizes) (i32.const 0))
        (i32.store offset=4 (local.get $sizes) (i32.const 0))
        (return)))
    (i32.store (local.get $start) (i32.const 0))
    (i32.store (local.get $count) (local.get $n))
    (i32.store (local.get $children) (i32.const 0))
    (local.set $size (i32.const 1))
    ;; The stack holds (node, inside a group already) pairs.
    (i32.store (local.get $stack) (i32.const 0))
    (i32.store offset=4 (local.get $stack) (i32.const 0))
    (local.set $top (i32.const 2))
    (block $built
      (loop $nodes
        (br_if $built (i32.eqz (local.get $top)))
        (local.set $top (i32.sub (local.get $top) (i32.const 2)))
        (local.set $k (i32.load (i32.add (local.get $stack) (i32.shl (local.get $top) (i32.const 2)))))
        (local.set $inGroup (i32.load offset=4 (i32.add (local.get $stack) (i32.shl (local.get $top) (i32.const 2)))))
        (local.set $s (i32.load (i32.add (local.get $start) (i32.shl (local.get $k) (i32.const 2)))))
        (local.set $c (i32.load (i32.add (local.get $count) (i32.shl (local.get $k) (i32.const 2)))))
        (local.set $e (i32.add (local.get $s) (local.get $c)))
        ;; Points with one code (coincident on the grid) are a leaf, which is a group however many it holds.
        (local.set $leaf (i32.or
          (i32.le_s (local.get $c) (local.get $leafSize))
          (i32.eq (i32.load (i32.add (local.get $codes) (i32.shl (local.get $s) (i32.const 2))))
                  (i32.load (i32.add (local.get $codes) (i32.shl (i32.sub (local.get $e) (i32.const 1)) (i32.const 2)))))))
        (local.set $grouped (i32.or (i32.or (local.get $inGroup) (local.get $leaf)) (i32.le_s (local.get $c) (local.get $groupSize))))
        (if (i32.and (local.get $grouped) (i32.eqz (local.get $inGroup)))
          (then
            (i32.store (i32.add (local.get $groups) (i32.shl (local.get $groupCount) (i32.const 2))) (local.get $k))
            (local.set $groupCount (i32.add (local.get $groupCount) (i32.const 1)))))
        (if (i32.eqz (local.get $leaf))
          (then
            (local.set $shift (i32.shl (i32.sub (i32.const 15)
              (i32.shr_u (i32.clz (i32.xor
                (i32.load (i32.add (local.get $codes) (i32.shl (local.get $s) (i32.const 2))))
                (i32.load (i32.add (local.get $codes) (i32.shl (i32.sub (local.get $e) (i32.const 1)) (i32.const 2))))))
                (i32.const 1))) (i32.const 1)))
            (local.set $first (local.get $size))
            (local.set $from (local.get $s))
            (local.set $q (i32.const 0))
            (block $split
              (loop $quadrants
                (br_if $split (i32.or (i32.ge_u (local.get $q) (i32.const 4)) (i32.ge_s (local.get $from) (local.get $e))))
                ;; The first position in [from, e) whose quadrant digit exceeds q.
                (local.set $lo (local.get $from))
                (local.set $hi (local.get $e))
                (block $found
                  (loop $search
                    (br_if $found (i32.ge_s (local.get $lo) (local.get $hi)))
                    (local.set $mid (i32.shr_u (i32.add (local.get $lo) (local.get $hi)) (i32.const 1)))
                    (if (i32.le_u
                          (i32.and (i32.shr_u (i32.load (i32.add (local.get $codes) (i32.shl (local.get $mid) (i32.const 2)))) (local.get $shift)) (i32.const 3))
                          (local.get $q))
                      (then (local.set $lo (i32.add (local.get $mid) (i32.const 1))))
                      (else (local.set $hi (local.get $mid))))
                    (br $search)))
                (local.set $to (local.get $lo))
                (if (i32.gt_s (local.get $to) (local.get $from))
                  (then
                    (i32.store (i32.add (local.get $start) (i32.shl (local.get $size) (i32.const 2))) (local.get $from))
                    (i32.store (i32.add (local.get $count) (i32.shl (local.get $size) (i32.const 2))) (i32.sub (local.get $to) (local.get $from)))
                    (i32.store (i32.add (local.get $children) (i32.shl (local.get $size) (i32.const 2))) (i32.const 0))
                    (local.set $size (i32.add (local.get $size) (i32.const 1)))))
                (local.set $from (local.get $to))
                (local.set $q (i32.add (local.get $q) (i32.const 1)))
                (br $quadrants)))
            (i32.store (i32.add (local.get $firstChild) (i32.shl (local.get $k) (i32.const 2))) (local.get $first))
            (i32.store (i32.add (local.get $children) (i32.shl (local.get $k) (i32.const 2))) (i32.sub (local.get $size) (local.get $first)))
            (local.set $c (i32.sub (local.get $size) (i32.const 1)))
            (block $pushed
              (loop $push
                (br_if $pushed (i32.lt_s (local.get $c) (local.get $first)))
                (i32.store (i32.add (local.get $stack) (i32.shl (local.get $top) (i32.const 2))) (local.get $c))
                (i32.store offset=4 (i32.add (local.get $stack) (i32.shl (local.get $top) (i32.const 2))) (local.get $grouped))
                (local.set $top (i32.add (local.get $top) (i32.const 2)))
                (local.set $c (i32.sub (local.get $c) (i32.const 1)))
                (br $push)))))
        (br $nodes)))
    (i32.store (local.get $sizes) (local.get $size))
    (i32.store offset=4 (local.get $sizes) (local.get $groupCount)))

  ;; Every one of the $size nodes' centre of mass ($comX, $comY) and extent
  ;; (the larger side of its points' bounding box; $bounds: four f64 a node),
  ;; children before parents (a child is made after its parent): a leaf from
  ;; its points, any other node from its children, so each point is read
  ;; once rather than once a level.
  (func (export "summarize")
    (param $size i32) (param $start i32) (param $count i32) (param $firstChild i32) (param $children i32)
    (param $sx i32) (param $sy i32) (param $comX i32) (param $comY i32) (param $extent i32) (param $bounds i32)
    (local $k i32) (local $p i32) (local $end i32) (local $c i32) (local $cnt f64) (local $at i32) (local $b i32)
    (local $sumX f64) (local $sumY f64) (local $minX f64) (local $minY f64) (local $maxX f64) (local $maxY f64) (local $x f64) (local $y f64)
    (local.set $k (local.get $size))
    (block $done
      (loop $nodes
        (br_if $done (i32.eqz (local.get $k)))
        (local.set $k (i32.sub (local.get $k) (i32.const 1)))
        (local.set $at (i32.shl (local.get $k) (i32.const 2)))
        (local.set $sumX (f64.const 0))
        (local.set $sumY (f64.const 0))
        (local.set $minX (f64.const inf))
        (local.set $minY (f64.const inf))
        (local.set $maxX (f64.const -inf))
        (local.set $maxY (f64.const -inf))
        (if (i32.eqz (i32.load (i32.add (local.get $children) (local.get $at))))
          (then
            (local.set $p (i32.load (i32.add (local.get $start) (local.get $at))))
            (local.set $end (i32.add (local.get $p) (i32.load (i32.add (local.get $count) (local.get $at)))))
            (block $leaf
              (loop $points
                (br_if $leaf (i32.ge_s (local.get $p) (local.get $end)))
                (local.set $x (f64.load (i32.add (local.get $sx) (i32.shl (local.get $p) (i32.const 3)))))
                (local.set $y (f64.load (i32.add (local.get $sy) (i32.shl (local.get $p) (i32.const 3)))))
                (local.set $sumX (f64.add (local.get $sumX) (local.get $x)))
                (local.set $sumY (f64.add (local.get $sumY) (local.get $y)))
                (if (f64.lt (local.get $x) (local.get $minX)) (then (local.set $minX (local.get $x))))
                (if (f64.gt (local.get $x) (local.get $maxX)) (then (local.set $maxX (local.get $x))))
                (if (f64.lt (local.get $y) (local.get $minY)) (then (local.set $minY (local.get $y))))
                (if (f64.gt (local.get $y) (local.get $maxY)) (then (local.set $maxY (local.get $y))))
                (local.set $p (i32.add (local.get $p) (i32.const 1)))
                (br $points))))
          (else
            (local.set $c (i32.load (i32.add (local.get $firstChild) (local.get $at))))
            (local.set $end (i32.add (local.get $c) (i32.load (i32.add (local.get $children) (local.get $at)))))
            (block $inner
              (loop $each
                (br_if $inner (i32.ge_s (local.get $c) (local.get $end)))
                (local.set $cnt (f64.convert_i32_s (i32.load (i32.add (local.get $count) (i32.shl (local.get $c) (i32.const 2))))))
                (local.set $sumX (f64.add (local.get $sumX) (f64.mul (f64.load (i32.add (local.get $comX) (i32.shl (local.get $c) (i32.const 3)))) (local.get $cnt))))
                (local.set $sumY (f64.add (local.get $sumY) (f64.mul (f64.load (i32.add (local.get $comY) (i32.shl (local.get $c) (i32.const 3)))) (local.get $cnt))))
                (local.set $b (i32.add (local.get $bounds) (i32.shl (local.get $c) (i32.const 5))))
                (if (f64.lt (f64.load (local.get $b)) (local.get $minX)) (then (local.set $minX (f64.load (local.get $b)))))
                (if (f64.lt (f64.load offset=8 (local.get $b)) (local.get $minY)) (then (local.set $minY (f64.load offset=8 (local.get $b)))))
                (if (f64.gt (f64.load offset=16 (local.get $b)) (local.get $maxX)) (then (local.set $maxX (f64.load offset=16 (local.get $b)))))
                (if (f64.gt (f64.load offset=24 (local.get $b)) (local.get $maxY)) (then (local.set $maxY (f64.load offset=24 (local.get $b)))))
                (local.set $c (i32.add (local.get $c) (i32.const 1)))
                (br $each)))))
        (local.set $cnt (f64.convert_i32_s (i32.load (i32.add (local.get $count) (local.get $at)))))
        (f64.store (i32.add (local.get $comX) (i32.shl (local.get $k) (i32.const 3))) (f64.div (local.get $sumX) (local.get $cnt)))
        (f64.store (i32.add (local.get $comY) (i32.shl (local.get $k) (i32.const 3))) (f64.div (local.get $sumY) (local.get $cnt)))
        (f64.store (i32.add (local.get $extent) (i32.shl (local.get $k) (i32.const 3)))
          (f64.max (f64.sub (local.get $maxX) (local.get $minX)) (f64.sub (local.get $maxY) (local.get $minY))))
        (local.set $b (i32.add (local.get $bounds) (i32.shl (local.get $k) (i32.const 5))))
        (f64.store (local.get $b) (local.get $minX))
        (f64.store offset=8 (local.get $b) (local.get $minY))
        (f64.store offset=16 (local.get $b) (local.get $maxX))
        (f64.store offset=24 (local.get $b) (local.get $maxY))
        (br $nodes))))
)
