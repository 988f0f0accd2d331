/**
 * Exact k nearest neighbours by squared Euclidean distance, the common
 * ground of every neighbourhood figure. Brute force on purpose: the figures
 * must be exact (ranks, ties) and n stays in the thousands, so an index
 * structure would buy little in 784 dimensions. In the plane (an
 * embedding's positions) a grid finds the same neighbours (planar_knn.ts).
 *
 * Ties are broken by the lower index everywhere, so two runs, two runtimes and
 * the brute-force reference in the tests all agree.
 */
import { BLOCK_ROWS, distanceRows } from "./squared_distances.ts";
import { planarKnn } from "./planar_knn.ts";
import { offer } from "./nearest_buffer.ts";

/** Points in the plane from which `knnWithDistances` searches a grid, not every pair. */
const PLANAR_FROM = 256;

/**
 * The largest usable neighbourhood size: at most n − 1 (a point has no more
 * neighbours), and 0 when there are fewer than two points.
 */
export function clampK(n: number, k: number): number {
  return Math.max(0, Math.min(Math.floor(k), n - 1));
}

/**
 * The k nearest other points of one distance row, nearest first, written to
 * `idx[base .. base + k)`; `dist` is scratch of the same layout.
 */
export function nearestInRow(
  row: Float64Array, self: number, k: number, idx: Int32Array, dist: Float64Array, base: number,
): void {
  let filled = 0, j = 0;
  for (; j < row.length && filled < k; j++) {
    if (j !== self) filled = offer(dist, idx, base, filled, k, row[j], j);
  }
  // Once the buffer is full, most of a row is farther than its k-th: one comparison with a local passes those over.
  let worst = dist[base + k - 1];
  for (; j < row.length; j++) {
    const d = row[j];
    if (d < worst && j !== self) {
      offer(dist, idx, base, k, k, d, j);
      worst = dist[base + k - 1];
    }
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
  const planar = dim === 2 && n >= PLANAR_FROM && k > 0 ? planarKnn(points, n, k) : undefined;
  if (planar) return planar;
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
