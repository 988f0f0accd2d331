/**
 * Differences of a one-dimensional coordinate, plain or circular, and their
 * sum over all n² pairs in O(n log n): the "random pairs" baseline of the
 * alignment ratio without a quadratic loop.
 */

const TAU = 2 * Math.PI;

/** |x − y|, or when circular the angle between x and y (radians) in [0, π]. */
export function difference(x: number, y: number, circular: boolean): number {
  let d = Math.abs(x - y);
  if (!circular) return d;
  d %= TAU;
  return d > Math.PI ? TAU - d : d;
}

/** First index in sorted `s` whose value is > x (so: how many are ≤ x). */
function upperBound(s: Float64Array, x: number): number {
  let lo = 0, hi = s.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (s[mid] <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First index in sorted `s` whose value is ≥ x. */
function lowerBound(s: Float64Array, x: number): number {
  let lo = 0, hi = s.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (s[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Σ_i Σ_j difference(a_i, b_j) over all pairs, the diagonal included.
 * b is sorted once; each a_i then needs a binary search and prefix sums.
 */
export function sumAllDifferences(a: ArrayLike<number>, b: ArrayLike<number>, circular: boolean): number {
  const n = b.length;
  if (n === 0 || a.length === 0) return 0;
  const s = Float64Array.from(b);
  // Circular: angles in [0, 2π). Plain: centred, so the prefix sums do not
  // lose the differences to a large common offset.
  let shift = 0;
  if (circular) for (let j = 0; j < n; j++) s[j] = ((s[j] % TAU) + TAU) % TAU;
  s.sort();
  if (!circular) {
    shift = s[n >>> 1];
    for (let j = 0; j < n; j++) s[j] -= shift;
  }
  const prefix = new Float64Array(n + 1);
  for (let j = 0; j < n; j++) prefix[j + 1] = prefix[j] + s[j];

  // Σ_{j ∈ [lo, hi)} |x − s_j|: below x and above x separately.
  const absRange = (lo: number, hi: number, x: number): number => {
    const m = Math.min(hi, Math.max(lo, upperBound(s, x)));
    return x * (m - lo) - (prefix[m] - prefix[lo]) + (prefix[hi] - prefix[m]) - x * (hi - m);
  };

  let total = 0;
  for (let i = 0; i < a.length; i++) {
    if (!circular) {
      total += absRange(0, n, a[i] - shift);
      continue;
    }
    const x = ((a[i] % TAU) + TAU) % TAU;
    // Points more than π away along the line are nearer the other way round:
    // their angle is 2π − |x − s_j|.
    if (x < Math.PI) {
      const c = upperBound(s, x + Math.PI);
      total += absRange(0, c, x) + (n - c) * (TAU + x) - (prefix[n] - prefix[c]);
    } else {
      const c = lowerBound(s, x - Math.PI);
      total += c * (TAU - x) + prefix[c] + absRange(c, n, x);
    }
  }
  return total;
}
