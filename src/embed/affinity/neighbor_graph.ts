/**
 * The k nearest neighbours the affinities are built on: exact, by a tiled
 * brute-force search (O(n²·D) time, O(n·k) memory), or warm-started from the
 * step before.
 */
import { type DistanceKernel, distanceKernel } from "../wasm/distances.ts";
import { tileKernel } from "../wasm/tiles.ts";

export interface Neighbors {
  k: number;
  /** n×k neighbour indices, nearest first (the rest ascending from exactNeighbors, in no particular order from warmNeighbors). */
  index: Int32Array;
  /** n×k squared distances, in the same order. */
  distance: Float64Array;
}

/** The exact k nearest neighbours of n points (row-major n×dim), by `exactSearch`. */
export function exactNeighbors(points: ArrayLike<number>, n: number, dim: number, k: number): Neighbors {
  k = Math.max(0, Math.min(k, n - 1));
  const out: Neighbors = { k, index: new Int32Array(n * k), distance: new Float64Array(n * k) };
  const search = exactSearch(points, n, dim, out);
  for (let b = 0; b < warmBlocks(n); b++) search(b);
  return out;
}

/**
 * The exact search by blocks of rows (WARM_BLOCK each), into `out` (n×k):
 * the function searches one block. Four rows at a time are measured
 * against every point in float32 (tiles.wat), each row's k nearest are
 * kept (`TileKernel.nearest`, ties to the lower index), and those are measured again
 * in double precision and sorted by that, nearest first: a row's result is
 * the double-precision k nearest but where float32 rounding swaps two
 * nearly equal distances at the cut.
 */
export function exactSearch(points: ArrayLike<number>, n: number, dim: number, out: Neighbors): (block: number) => void {
  const { k, index, distance } = out;
  if (k === 0) return () => {};
  const kernel = tileKernel(points, n, dim, k), { keptJ } = kernel, exact = new Float64Array(k);
  return (block) => {
    const first = block * WARM_BLOCK, last = Math.min(n, first + WARM_BLOCK);
    for (let i = first; i < last; i += 4) {
      kernel.measure(i);
      for (let r = 0; r < 4 && i + r < last; r++) {
        const row = i + r, base = row * k;
        kernel.nearest(r, row);
        squaredDistances(points, dim, row, keptJ, exact);
        // Ascending by (distance, index): the calibration measures from the nearest.
        sortByDistance(exact, keptJ);
        distance.set(exact, base);
        index.set(keptJ.subarray(0, k), base);
      }
    }
  };
}

/** exact[a] = |x_row − x_{j[a]}|² in double precision, for a < exact.length. */
function squaredDistances(x: ArrayLike<number>, dim: number, row: number, j: Int32Array, exact: Float64Array): void {
  const base = row * dim;
  for (let a = 0; a < exact.length; a++) {
    const o = j[a] * dim;
    let d = 0;
    for (let t = 0; t < dim; t++) {
      const diff = x[base + t] - x[o + t];
      d += diff * diff;
    }
    exact[a] = d;
  }
}

/**
 * Sorts d ascending, by j among equal d, moving j's first d.length entries along: an insertion sort,
 * which for the ~100 entries of a row is several times faster than
 * Array.prototype.sort with a comparator.
 */
function sortByDistance(d: Float64Array, j: Int32Array): void {
  for (let a = 1; a < d.length; a++) {
    const key = d[a], id = j[a];
    let b = a - 1;
    for (; b >= 0 && (d[b] > key || (d[b] === key && j[b] > id)); b--) {
      d[b + 1] = d[b];
      j[b + 1] = j[b];
    }
    d[b + 1] = key;
    j[b + 1] = id;
  }
}

/**
 * Approximate k nearest neighbours warm-started from the step before: a
 * denoising step changes the features little, so a point's new neighbours
 * are mostly among its old ones and their neighbours (one round of
 * NN-descent, Dong et al. 2011, seeded with the previous graph), plus a few
 * random points to let new neighbourhoods in. O(n·c·D) for c ≈ 200
 * candidates instead of O(n²·D). Rows without previous neighbours are exact.
 *
 * The previous graph is given in compressed rows (the previous step's P),
 * its columns already re-indexed to this step's rows (−1: gone). Neighbours
 * of neighbours come from this step's rows where those are done
 * (Gauss-Seidel order), which finds more of the moved neighbourhoods for the
 * same work. A row's neighbours come out nearest first, the others in no
 * particular order.
 */
export function warmNeighbors(points: ArrayLike<number>, n: number, dim: number, k: number, rowPtr: Int32Array, col: Int32Array, seed: number): Neighbors {
  const out: Neighbors = { k, index: new Int32Array(n * k), distance: new Float64Array(n * k) };
  const search = warmSearch(points, n, dim, rowPtr, col, seed, out);
  for (let b = 0; b < warmBlocks(n); b++) search(b);
  return out;
}

/** Rows a block of the warm search holds: blocks are independent, so threads can share them out. */
export const WARM_BLOCK = 1024;

export const warmBlocks = (n: number) => Math.ceil(n / WARM_BLOCK);

/**
 * The warm search by blocks of rows, into `out` (n×k): the function searches
 * one block. Within a block, neighbours of neighbours come from this step's
 * rows where those are done; each block has its own random stream, so the
 * result does not depend on the order blocks are searched in, or where.
 */
export function warmSearch(points: ArrayLike<number>, n: number, dim: number, rowPtr: Int32Array, col: Int32Array, seed: number, out: Neighbors): (block: number) => void {
  const { k, index, distance } = out;
  const stamp = new Int32Array(n).fill(-1);
  const kernel = distanceKernel(points, n, dim, n), { candidates } = kernel;
  const scratch = { bucket: new Uint8Array(n), count: new Int32Array(BUCKETS + 1), order: new Int32Array(n) };
  const fanout = 8, explore = 8;
  return (block) => {
    const first = block * WARM_BLOCK, last = Math.min(n, first + WARM_BLOCK);
    let state = (seed ^ 0x9e3779b9 ^ Math.imul(block, 0x85ebca6b)) >>> 0;
    for (let i = first; i < last; i++) {
      let c = 0;
      stamp[i] = i;
      const from = rowPtr[i], to = rowPtr[i + 1];
      for (let e = from; e < to; e++) {
        const j = col[e];
        if (j >= 0 && stamp[j] !== i) {
          stamp[j] = i;
          candidates[c++] = j;
        }
      }
      if (to === from) {
        for (let j = 0; j < n; j++) if (j !== i) candidates[c++] = j;
      } else {
        // Neighbours of a spread of the neighbours, each a spread of its row.
        const stride = Math.max(1, Math.floor((to - from) / fanout));
        for (let e = from; e < to; e += stride) {
          const a = col[e];
          if (a < 0) continue;
          const done = a >= first && a < i, aFrom = done ? a * k : rowPtr[a], aTo = done ? aFrom + k : rowPtr[a + 1];
          const aStride = Math.max(1, Math.floor((aTo - aFrom) / fanout));
          for (let f = aFrom; f < aTo; f += aStride) {
            const j = done ? index[f] : col[f];
            if (j >= 0 && stamp[j] !== i) {
              stamp[j] = i;
              candidates[c++] = j;
            }
          }
        }
        for (let e = 0; e < explore || c < k; e++) {
          state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
          const j = state % n;
          if (stamp[j] !== i) {
            stamp[j] = i;
            candidates[c++] = j;
          }
        }
      }
      kernel.measure(i, c);
      keepNearest(kernel, c, k, index, distance, i * k, scratch);
    }
  };
}

/**
 * The k nearest of c measured candidates (ties to the lower index) into
 * index/distance at base, the nearest first (the perplexity calibration
 * measures from it). A counting sort on the distances' float bits (32
 * buckets an octave) puts every candidate but those of one bucket on its
 * side of the cut without comparing: on random data a comparison-based
 * select pays mostly for mispredicted branches. Only the bucket the cut
 * falls in is sorted.
 */
function keepNearest(kernel: DistanceKernel, c: number, k: number, index: Int32Array, distance: Float64Array, base: number, scratch: Scratch): void {
  const { candidates, distances, bits } = kernel, { bucket, count, order } = scratch;
  let low = 0xffffffff;
  for (let a = 0; a < c; a++) if (bits[a] > 0 && bits[a] < low) low = bits[a];
  count.fill(0);
  for (let a = 0; a < c; a++) {
    // Zero distances (duplicate points) get a bucket of their own below the rest.
    const b = bits[a] === 0 ? 0 : Math.min(BUCKETS - 1, 1 + ((bits[a] - low) >>> 18));
    bucket[a] = b;
    count[b + 1]++;
  }
  for (let b = 0; b < BUCKETS; b++) count[b + 1] += count[b];
  let cut = 0;
  while (count[cut + 1] < k) cut++;
  const start = count[cut], end = count[cut + 1];
  for (let a = 0; a < c; a++) order[count[bucket[a]]++] = a;
  // The cut's bucket in (distance, index) order, by insertion: it holds a few candidates.
  for (let a = start + 1; a < end; a++) {
    const x = order[a], dx = distances[x], jx = candidates[x];
    let p = a;
    for (; p > start && (distances[order[p - 1]] > dx || (distances[order[p - 1]] === dx && candidates[order[p - 1]] > jx)); p--) order[p] = order[p - 1];
    order[p] = x;
  }
  let nearest = 0;
  for (let a = 1; a < k; a++) {
    const x = order[a], y = order[nearest];
    if (distances[x] < distances[y] || (distances[x] === distances[y] && candidates[x] < candidates[y])) nearest = a;
  }
  const first = order[nearest];
  order[nearest] = order[0];
  order[0] = first;
  for (let a = 0; a < k; a++) {
    index[base + a] = candidates[order[a]];
    distance[base + a] = distances[order[a]];
  }
}

/** Buckets of the counting sort in keepNearest (zero distances, then 32 an octave). */
const BUCKETS = 256;

interface Scratch {
  bucket: Uint8Array;
  count: Int32Array;
  order: Int32Array;
}
