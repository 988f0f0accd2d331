/**
 * Squared distances from four rows at a time to every point, the inner
 * loop of the exact k-NN search: by the SIMD kernel (tiles.wat) where the
 * runtime has WebAssembly SIMD, else in JavaScript with float32 rounding
 * after every operation, in the kernel's order, so both give the same bits.
 */
import { wasm } from "./tiles_wasm.ts";
import { reserve, simdModule } from "./module.ts";

export interface TileKernel {
  /** Points per result row: n rounded up to a multiple of eight. */
  readonly width: number;
  /** After `measure(i)`: |x_{i+r} − x_j|² at out[r·width + j], for r < 4 and j < n. */
  readonly out: Float32Array;
  /** Measures rows i … i + 3 (rows past n measure as zeros). */
  measure(i: number): void;
}

/** The kernel over n points (row-major n×dim). */
export function tileKernel(points: ArrayLike<number>, n: number, dim: number): TileKernel {
  const width = 8 * Math.ceil((n + 4) / 8), m = simdModule(wasm);
  if (!m) return scalarTiles(points, n, dim, width);
  const instance = new WebAssembly.Instance(m), memory = instance.exports.memory as WebAssembly.Memory;
  const buffer = reserve(memory, 4 * (dim + 4) * width);
  const xt = transposed(new Float32Array(buffer, 0, dim * width), points, n, dim, width);
  const out = new Float32Array(buffer, xt.byteLength, 4 * width);
  const tile = instance.exports.tile as (xt: number, width: number, dim: number, i: number, out: number) => void;
  return { width, out, measure: (i) => tile(0, width, dim, i, out.byteOffset) };
}

/** The JavaScript kernel, where the runtime has no WebAssembly SIMD. */
export function scalarTiles(points: ArrayLike<number>, n: number, dim: number, width = 8 * Math.ceil((n + 4) / 8)): TileKernel {
  const xt = transposed(new Float32Array(dim * width), points, n, dim, width), out = new Float32Array(4 * width);
  const f = Math.fround;
  return {
    width,
    out,
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
  };
}

/** Writes the points dimension-major into xt (dim × width, zero-padded). */
function transposed(xt: Float32Array, points: ArrayLike<number>, n: number, dim: number, width: number): Float32Array {
  for (let i = 0; i < n; i++) for (let t = 0; t < dim; t++) xt[t * width + i] = points[i * dim + t];
  return xt;
}
