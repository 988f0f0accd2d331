/**
 * Exact k nearest neighbours by squared Euclidean distance, the common
 * ground of every neighbourhood figure. Brute force on purpose: the figures
 * must be exact (ranks, ties) and n stays in the thousands, so an index
 * structure would buy little in 784 dimensions.
 *
 * Ties are broken by the lower index everywhere, so two runs, two runtimes and
 * the brute-force reference in the tests all agree.
 */
import { BLOCK_ROWS, distanceRows } from "./squared_distances.ts";

/**
 * The largest usable neighbourhood size: at most n − 1 (a point has no more
 * neighbours), and 0 when there are fewer than two points.
 */
export function clampK(n: number, k: number): number {
  return Math.max(0, Math.min(Math.floor(k), n - 1));
}

/**
 * Offers candidate j at distance d to the sorted buffer
 * `dist/idx[base .. base + k)` that holds `filled` entries; returns the new
 * fill. Candidates must arrive in ascending j: then a strict `<` keeps the
 * lower index first among equal distances.
 */
export function offer(
  dist: Float64Array, idx: Int32Array, base: number, filled: number, k: number, d: number, j: number,
): number {
  if (filled === k && !(d < dist[base + k - 1])) return filled; // the common case: too far
  let p = filled < k ? filled : k - 1;
  while (p > 0 && d < dist[base + p - 1]) {
    dist[base + p] = dist[base + p - 1];
    idx[base + p] = idx[base + p - 1];
    p--;
  }
  dist[base + p] = d;
  idx[base + p] = j;
  return filled < k ? filled + 1 : k;
}

/**
 * The k nearest other points of one distance row, nearest first, written to
 * `idx[base .. base + k)`; `dist` is scratch of the same layout.
 */
export function nearestInRow(
  row: Float64Array, self: number, k: number, idx: Int32Array, dist: Float64Array, base: number,
): void {
  let filled = 0;
  for (let j = 0; j < row.length; j++) {
    if (j !== self) filled = offer(dist, idx, base, filled, k, row[j], j);
  }
}

/**
 * n×k indices of each point's k nearest other points, nearest first (ties by
 * lower index). k is clamped to n − 1. Each unordered pair's distance is
 * computed once and offered to both rows, which halves the work; memory is
 * O(n·k) plus a few distance rows.
 */
export function knn(points: ArrayLike<number>, dim: number, k: number): Int32Array {
  return knnWithDistances(points, dim, k).index;
}

/** `knn` with the squared distances of the neighbours (n×k, ascending per row). */
export function knnWithDistances(points: ArrayLike<number>, dim: number, k: number): { index: Int32Array; distance: Float64Array } {
  const n = Math.floor(points.length / dim);
  k = clampK(n, k);
  const idx = new Int32Array(n * k);
  const dist = new Float64Array(n * k);
  if (k === 0) return { index: idx, distance: dist };
  const filled = new Int32Array(n);
  const block = new Float64Array(BLOCK_ROWS * n), distances = distanceRows(points, dim);
  // offer() needs every row's candidates in ascending index; the three loops
  // below keep that order: earlier blocks, then inside the block, then later rows.
  for (let i0 = 0; i0 < n; i0 += BLOCK_ROWS) {
    const rows = Math.min(BLOCK_ROWS, n - i0), after = i0 + rows;
    distances(i0, i0, n, block, n);
    for (let r = 0; r < rows; r++) {
      for (let s = r + 1; s < rows; s++) {
        const d = block[r * n + i0 + s];
        filled[i0 + r] = offer(dist, idx, (i0 + r) * k, filled[i0 + r], k, d, i0 + s);
        filled[i0 + s] = offer(dist, idx, (i0 + s) * k, filled[i0 + s], k, d, i0 + r);
      }
    }
    for (let r = 0; r < rows; r++) {
      const i = i0 + r, base = i * k, o = r * n;
      let f = filled[i];
      for (let j = after; j < n; j++) f = offer(dist, idx, base, f, k, block[o + j], j);
      filled[i] = f;
    }
    for (let j = after; j < n; j++) {
      let f = filled[j];
      for (let r = 0; r < rows; r++) f = offer(dist, idx, j * k, f, k, block[r * n + j], i0 + r);
      filled[j] = f;
    }
  }
  return { index: idx, distance: dist };
}

/** Mean over points of |A(i) ∩ B(i)| / k for two n×k neighbour lists. */
export function neighborOverlap(a: Int32Array, b: Int32Array, k: number): number {
  const n = a.length / k;
  if (!(k > 0) || n === 0) return NaN;
  let shared = 0;
  for (let base = 0; base < a.length; base += k) {
    // k is small (≈10): the quadratic scan beats any set.
    for (let p = 0; p < k; p++) {
      const x = a[base + p];
      for (let q = 0; q < k; q++) {
        if (b[base + q] === x) {
          shared++;
          break;
        }
      }
    }
  }
  return shared / (n * k);
}
