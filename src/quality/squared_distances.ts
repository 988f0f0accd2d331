/**
 * Squared Euclidean distances, the one kernel every neighbourhood figure
 * spends its time in. Plain differences, not ‖x‖² + ‖y‖² − 2x·y: the result
 * is exact enough that d(i, j) = d(j, i) bit for bit and duplicates are at 0,
 * so ranks and ties are the same wherever they are computed.
 */
import { reserve, simdModule } from "../util/wasm_module.ts";
import { wasm } from "./distance_rows_wasm.ts";

/** Squared Euclidean distance between rows i and j of a row-major point set. */
export function squaredDistance(points: ArrayLike<number>, dim: number, i: number, j: number): number {
  const a = i * dim, b = j * dim;
  let s = 0;
  for (let d = 0; d < dim; d++) {
    const t = points[a + d] - points[b + d];
    s += t * t;
  }
  return s;
}

/** How many rows distanceBlock computes at once. */
export const BLOCK_ROWS = 4;

/**
 * Squared distances from the BLOCK_ROWS rows i0, i0 + 1, … to each row j in
 * [j0, j1), written to `out[r * stride + j]`. Rows past the end repeat the
 * last row (their output is junk to ignore), which keeps the loop branch-free.
 *
 * Four rows against two columns per pass: each loaded value serves several
 * differences, which about halves the time of a one-row loop in V8.
 */
export function distanceBlock(
  points: ArrayLike<number>, dim: number, i0: number, j0: number, j1: number, out: Float64Array, stride: number,
): void {
  const last = Math.floor(points.length / dim) - 1;
  const a0 = Math.min(i0, last) * dim, a1 = Math.min(i0 + 1, last) * dim;
  const a2 = Math.min(i0 + 2, last) * dim, a3 = Math.min(i0 + 3, last) * dim;
  const o1 = stride, o2 = 2 * stride, o3 = 3 * stride;
  let j = j0, b = j0 * dim;
  for (; j + 1 < j1; j += 2, b += 2 * dim) {
    const c = b + dim;
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0, u0 = 0, u1 = 0, u2 = 0, u3 = 0;
    for (let d = 0; d < dim; d++) {
      const v = points[b + d], w = points[c + d];
      const x0 = points[a0 + d], x1 = points[a1 + d], x2 = points[a2 + d], x3 = points[a3 + d];
      let t = x0 - v;
      s0 += t * t;
      t = x1 - v;
      s1 += t * t;
      t = x2 - v;
      s2 += t * t;
      t = x3 - v;
      s3 += t * t;
      t = x0 - w;
      u0 += t * t;
      t = x1 - w;
      u1 += t * t;
      t = x2 - w;
      u2 += t * t;
      t = x3 - w;
      u3 += t * t;
    }
    out[j] = s0;
    out[o1 + j] = s1;
    out[o2 + j] = s2;
    out[o3 + j] = s3;
    out[j + 1] = u0;
    out[o1 + j + 1] = u1;
    out[o2 + j + 1] = u2;
    out[o3 + j + 1] = u3;
  }
  if (j < j1) {
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (let d = 0; d < dim; d++) {
      const v = points[b + d];
      let t = points[a0 + d] - v;
      s0 += t * t;
      t = points[a1 + d] - v;
      s1 += t * t;
      t = points[a2 + d] - v;
      s2 += t * t;
      t = points[a3 + d] - v;
      s3 += t * t;
    }
    out[j] = s0;
    out[o1 + j] = s1;
    out[o2 + j] = s2;
    out[o3 + j] = s3;
  }
}

/** `distanceBlock` for one point set, as a function of (i0, j0, j1, out, stride). */
export type DistanceRows = (i0: number, j0: number, j1: number, out: Float64Array, stride: number) => void;

/**
 * `distanceBlock` over one point set (row-major n×dim). Float32 points go
 * through the SIMD kernel (distance_rows.wat), which holds a transposed copy
 * and computes in double precision as the JavaScript loop does, where the
 * runtime has WebAssembly SIMD: the same bits, about five times as fast.
 * Other points, or no SIMD, take the JavaScript loop. Rows past the end
 * are junk either way.
 *
 * @example
 * const rows = distanceRows(features, dim);
 * rows(0, 0, n, block, n); // block[r * n + j] = |x_r − x_j|² for r < 4
 */
export function distanceRows(points: ArrayLike<number>, dim: number, simd = true): DistanceRows {
  const scalar: DistanceRows = (i0, j0, j1, out, stride) => distanceBlock(points, dim, i0, j0, j1, out, stride);
  const module = simd && points instanceof Float32Array && dim > 0 ? simdModule(wasm) : null;
  if (!module) return scalar;
  const n = Math.floor(points.length / dim);
  // Room for four rows from any i0 < n, and every column range rounded out to fours.
  const width = 4 * Math.ceil(n / 4) + 4, xtBytes = 4 * width * dim;
  const instance = new WebAssembly.Instance(module), memory = instance.exports.memory as WebAssembly.Memory;
  const kernel = instance.exports.rows as (xt: number, width: number, dim: number, i: number, j0: number, j1: number, out: number) => void;
  let buffer: ArrayBuffer;
  try {
    buffer = reserve(memory, xtBytes + 8 * BLOCK_ROWS * width);
  } catch (error) {
    // Points beyond what a WebAssembly memory may hold (4 GiB) are measured in place, in JavaScript.
    if (error instanceof RangeError) return scalar;
    throw error;
  }
  const xt = new Float32Array(buffer, 0, width * dim), block = new Float64Array(buffer, xtBytes, BLOCK_ROWS * width);
  for (let i = 0; i < n; i++) for (let t = 0; t < dim; t++) xt[t * width + i] = points[i * dim + t];
  return (i0, j0, j1, out, stride) => {
    kernel(0, width, dim, i0, j0 & ~3, (j1 + 3) & ~3, xtBytes);
    for (let r = 0; r < BLOCK_ROWS; r++) out.set(block.subarray(r * width + j0, r * width + j1), r * stride + j0);
  };
}
