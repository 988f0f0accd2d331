/**
 * The inner loops of the exact k-NN search: squared distances from four
 * rows at a time to every point, and a row's k nearest among them. By the
 * SIMD kernel (tiles.wat) where the runtime has WebAssembly SIMD, else in
 * JavaScript with float32 rounding after every operation, in the kernel's
 * order, so both give the same bits.
 */
import { wasm } from "./tiles_wasm.ts";
import { reserve, simdModule } from "../../util/wasm_module.ts";

export interface TileKernel {
  /** Points per result row: n rounded up to a multiple of eight. */
  readonly width: number;
  /** After `measure(i)`: |x_{i+r} − x_j|² at out[r·width + j], for r < 4 and j < n. */
  readonly out: Float32Array;
  /** After `nearest`: the k nearest's squared distances and indices at [0, k), in no particular order (4k entries). */
  readonly keptD: Float32Array;
  readonly keptJ: Int32Array;
  /** Measures rows i … i + 3 (rows past n measure as zeros). */
  measure(i: number): void;
  /**
   * After `measure(i)`: the k smallest of row r's distances to the points
   * j < n, j ≠ self (ties to the lower index), into keptD/keptJ. Candidates
   * at or under a running cut are appended; when 4k are held, the k
   * smallest are kept and the largest of them becomes the cut. So nearly
   * every distance costs one well-predicted comparison (the SIMD kernel's,
   * one for sixteen), where a heap would pay a mispredicted sift for each of
   * the ~k·ln(n/k) that enter it. The scan starts at the row's own run of
   * sixteen and wraps around: rows near in the order are often near in the
   * data, so the cut falls sooner.
   */
  nearest(r: number, self: number): void;
}

/** The kernel over n points (row-major n×dim), keeping k nearest (k < n). */
export function tileKernel(points: ArrayLike<number>, n: number, dim: number, k: number): TileKernel {
  const width = 8 * Math.ceil((n + 4) / 8), m = simdModule(wasm);
  if (!m) return scalarTiles(points, n, dim, k, width);
  const instance = new WebAssembly.Instance(m), memory = instance.exports.memory as WebAssembly.Memory;
  const buffer = reserve(memory, 4 * (dim + 4) * width + 2 * 16 * k);
  const xt = transposed(new Float32Array(buffer, 0, dim * width), points, n, dim, width);
  const out = new Float32Array(buffer, xt.byteLength, 4 * width);
  const keptD = new Float32Array(buffer, out.byteOffset + out.byteLength, 4 * k), keptJ = new Int32Array(buffer, keptD.byteOffset + keptD.byteLength, 4 * k);
  const exports = instance.exports as {
    tile: (xt: number, width: number, dim: number, i: number, out: number) => void;
    nearest: (row: number, n: number, self: number, k: number, kd: number, kj: number, cap: number) => void;
  };
  return {
    width,
    out,
    keptD,
    keptJ,
    measure: (i) => exports.tile(0, width, dim, i, out.byteOffset),
    nearest: (r, self) => exports.nearest(out.byteOffset + 4 * r * width, n, self, k, keptD.byteOffset, keptJ.byteOffset, 4 * k),
  };
}

/** The JavaScript kernel, where the runtime has no WebAssembly SIMD. */
export function scalarTiles(points: ArrayLike<number>, n: number, dim: number, k: number, width = 8 * Math.ceil((n + 4) / 8)): TileKernel {
  const xt = transposed(new Float32Array(dim * width), points, n, dim, width), out = new Float32Array(4 * width);
  const keptD = new Float32Array(4 * k), keptJ = new Int32Array(4 * k), f = Math.fround;
  return {
    width,
    out,
    keptD,
    keptJ,
    measure(i) {
      for (let r = 0; r < 4; r++) {
        for (let j = 0; j < width; j++) {
          let acc = 0;
          for (let t = 0; t < dim; t++) {
            const d = f(xt[t * width + i + r] - xt[t * width + j]);
            acc = f(acc + f(d * d));
          }
          out[r * width + j] = acc;
        }
      }
    },
    nearest(r, self) {
      const at = r * width, capacity = keptD.length, start = self & ~15;
      let held = 0, cut = Infinity;
      for (let pass = 0; pass < 2; pass++) {
        const from = pass === 0 ? start : 0, to = pass === 0 ? n : start;
        for (let j = from; j < to; j++) {
          const d = out[at + j];
          if (!(d <= cut) || j === self) continue;
          keptD[held] = d;
          keptJ[held++] = j;
          if (held === capacity) {
            selectSmallest(keptD, keptJ, held, k);
            held = k;
            cut = keptD[0];
            for (let a = 1; a < k; a++) if (keptD[a] > cut) cut = keptD[a];
          }
        }
      }
      selectSmallest(keptD, keptJ, held, k);
    },
  };
}

/** Moves the k smallest of the first m entries by (distance, index) to [0, k): Hoare's quickselect. */
function selectSmallest(d: Float32Array, j: Int32Array, m: number, k: number): void {
  let lo = 0, hi = m - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1, pd = d[mid], pj = j[mid];
    let a = lo, b = hi;
    while (a <= b) {
      while (d[a] < pd || (d[a] === pd && j[a] < pj)) a++;
      while (d[b] > pd || (d[b] === pd && j[b] > pj)) b--;
      if (a <= b) {
        const td = d[a], tj = j[a];
        d[a] = d[b];
        j[a] = j[b];
        d[b] = td;
        j[b] = tj;
        a++;
        b--;
      }
    }
    // [lo, b] ≤ pivot ≤ [a, hi]; entries between b and a equal the pivot.
    if (k - 1 <= b) hi = b;
    else if (k - 1 >= a) lo = a;
    else return;
  }
}

/** Writes the points dimension-major into xt (dim × width, zero-padded). */
function transposed(xt: Float32Array, points: ArrayLike<number>, n: number, dim: number, width: number): Float32Array {
  for (let i = 0; i < n; i++) for (let t = 0; t < dim; t++) xt[t * width + i] = points[i * dim + t];
  return xt;
}
