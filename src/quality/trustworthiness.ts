/**
 * Trustworthiness T(k) (Venna & Kaski 2001, the definition of scikit-learn's
 * `sklearn.manifold.trustworthiness`) and k-NN preservation.
 *
 *   T(k) = 1 − 2 / (n k (2n − 3k − 1)) · Σ_i Σ_{j ∈ U_i} (r(i, j) − k)
 *
 * U_i: the low-D k nearest neighbours of i that are not among its high-D k
 * nearest; r(i, j): the 1-based rank of j among i's neighbours in high-D.
 * It penalises points that look close in the embedding but are not.
 */
import { DimensionError } from "../errors.ts";
import { BLOCK_ROWS, distanceRows } from "./squared_distances.ts";
import { clampK, knn, nearestInRow, neighborOverlap } from "./exact_knn.ts";

/**
 * The k trustworthiness can use for n points: k < n / 2, scikit-learn's bound.
 * It keeps the normaliser 2n − 3k − 1 positive and, beyond that, keeps T in
 * [0, 1] (with k ≥ n / 2 the normaliser underestimates the worst penalty, e.g.
 * n = 10, k = 6 can go negative). 0 when n < 3: T is then undefined (NaN).
 */
export function trustworthinessK(n: number, k: number): number {
  return Math.min(clampK(n, k), Math.floor((n - 1) / 2));
}

/** Scratch for the U_i of every embedding together, kept sorted by (high-D distance, index). */
interface Unfaithful {
  t: Float64Array; // high-D distance from i
  j: Int32Array; // index
  of: Int32Array; // the embeddings whose U_i holds it (bit e: embedding e)
  below: Int32Array; // m + 1 buckets: how many l fall before member p but not before p − 1
}

/**
 * Adds Σ_{j ∈ U_i} (r(i, j) − k) of each embedding e (U_i from lowKnns[e])
 * to penalty[e], from i's high-D distance row (row[i] = ∞). r(i, j) − 1 is
 * how many l are closer to i than j (equal distance: lower index first).
 * One pass over the row serves every U_i of every embedding (the drawn
 * picture's mostly shares the optimisation frame's): each l is dropped in
 * the bucket of the first member it precedes, and a running sum of the
 * buckets gives every member's count.
 */
function rankExcess(row: Float64Array, i: number, lowKnns: readonly Int32Array[], highKnn: Int32Array, k: number, u: Unfaithful, penalty: number[]): void {
  const { t, j, of, below } = u;
  const base = i * k;
  let m = 0;
  for (let e = 0; e < lowKnns.length; e++) {
    const lowKnn = lowKnns[e];
    for (let p = 0; p < k; p++) {
      const x = lowKnn[base + p];
      let shared = false;
      for (let q = 0; q < k; q++) {
        if (highKnn[base + q] === x) {
          shared = true;
          break;
        }
      }
      if (shared) continue;
      // Insertion into the sorted members; one already there (from another embedding) is marked.
      const d = row[x];
      let q = 0;
      while (q < m && (t[q] < d || (t[q] === d && j[q] < x))) q++;
      if (q < m && j[q] === x) {
        of[q] |= 1 << e;
        continue;
      }
      for (let r = m++; r > q; r--) {
        t[r] = t[r - 1];
        j[r] = j[r - 1];
        of[r] = of[r - 1];
      }
      t[q] = d;
      j[q] = x;
      of[q] = 1 << e;
    }
  }
  if (m === 0) return;
  below.fill(0, 0, m + 1);
  const tMax = t[m - 1];
  for (let l = 0; l < row.length; l++) {
    const v = row[l];
    if (v > tMax) continue; // precedes no member
    let p = 0;
    while (p < m && (v > t[p] || (v === t[p] && l >= j[p]))) p++;
    below[p]++;
  }
  let closer = 0;
  for (let p = 0; p < m; p++) {
    closer += below[p];
    for (let e = 0; e < lowKnns.length; e++) if (of[p] & (1 << e)) penalty[e] += closer + 1 - k;
  }
}

/**
 * Trustworthiness from the low-D neighbour lists, also returning the high-D
 * n×k lists it finds on the way (the report reuses them). High-D distance rows
 * a few at a time: a row's k nearest come from one scan, and the rank of each
 * j ∈ U_i is counted from the same row, never by sorting it.
 * `k` must already be trustworthinessK(n, ·) and `lowKnn` n×k.
 */
export function trustworthinessWithNeighbors(
  high: ArrayLike<number>, highDim: number, lowKnn: Int32Array, k: number,
): { trustworthiness: number; highKnn: Int32Array } {
  const { trustworthiness, highKnn } = trustworthinessOfEach(high, highDim, [lowKnn], k);
  return { trustworthiness: trustworthiness[0], highKnn };
}

/**
 * `trustworthinessWithNeighbors` of several embeddings of the same points
 * (such as the optimisation frame and the drawn picture) from one pass over
 * the high-D distance rows, the costly part.
 */
export function trustworthinessOfEach(
  high: ArrayLike<number>, highDim: number, lowKnns: readonly Int32Array[], k: number,
): { trustworthiness: number[]; highKnn: Int32Array } {
  const n = Math.floor(high.length / highDim);
  for (const lowKnn of lowKnns) {
    if (lowKnn.length !== n * k) throw new DimensionError(`trustworthiness: ${lowKnn.length} low-D neighbours for n = ${n}, k = ${k}`);
  }
  const highKnn = new Int32Array(n * k);
  if (k < 1) return { trustworthiness: lowKnns.map(() => NaN), highKnn };
  const block = new Float64Array(BLOCK_ROWS * n);
  const scratch = new Float64Array(n * k);
  // Embeddings in groups of up to 31, one bit each, every group's members in one pass over a row.
  const groups = Array.from({ length: Math.ceil(lowKnns.length / 31) }, (_, g) => lowKnns.slice(31 * g, 31 * (g + 1)));
  const penalties = groups.map((group) => group.map(() => 0));
  const most = Math.min(lowKnns.length, 31) * k;
  const u: Unfaithful = { t: new Float64Array(most), j: new Int32Array(most), of: new Int32Array(most), below: new Int32Array(most + 1) };
  const rows = distanceRows(high, highDim);
  for (let i0 = 0; i0 < n; i0 += BLOCK_ROWS) {
    rows(i0, 0, n, block, n);
    for (let i = i0; i < Math.min(i0 + BLOCK_ROWS, n); i++) {
      const row = block.subarray((i - i0) * n, (i - i0 + 1) * n);
      row[i] = Infinity; // i is not its own neighbour and never counts as closer
      nearestInRow(row, i, k, highKnn, scratch, i * k);
      groups.forEach((group, g) => rankExcess(row, i, group, highKnn, k, u, penalties[g]));
    }
  }
  return { trustworthiness: penalties.flat().map((p) => 1 - (2 * p) / (n * k * (2 * n - 3 * k - 1))), highKnn };
}

/** The number of points, which both sets must share. */
function sameCount(high: ArrayLike<number>, highDim: number, low: ArrayLike<number>, lowDim: number): number {
  const n = Math.floor(high.length / highDim);
  if (low.length !== n * lowDim || high.length !== n * highDim) {
    throw new DimensionError(`${high.length} values of dim ${highDim} and ${low.length} of dim ${lowDim} are not the same points`);
  }
  return n;
}

/**
 * T(k) of the embedding `low` of `high` (same n, same row order), k clamped
 * by trustworthinessK; NaN when n < 3.
 */
export function trustworthiness(
  high: ArrayLike<number>, highDim: number, low: ArrayLike<number>, lowDim: number, k = 10,
): number {
  const n = sameCount(high, highDim, low, lowDim);
  k = trustworthinessK(n, k);
  if (k < 1) return NaN;
  return trustworthinessWithNeighbors(high, highDim, knn(low, lowDim, k), k).trustworthiness;
}

/**
 * k-NN preservation NP(k): mean over i of |kNN_high(i) ∩ kNN_low(i)| / k,
 * k clamped to n − 1; NaN when n < 2.
 */
export function knnPreservation(
  high: ArrayLike<number>, highDim: number, low: ArrayLike<number>, lowDim: number, k = 10,
): number {
  const n = sameCount(high, highDim, low, lowDim);
  k = clampK(n, k);
  if (k < 1) return NaN;
  return neighborOverlap(knn(high, highDim, k), knn(low, lowDim, k), k);
}
