/**
 * A·B and Aᵀ·B for one n×D matrix A and any B of l columns, all row-major:
 * the products of the randomised PCA. By the SIMD kernel (products.wat),
 * which holds a copy of A, where the runtime has WebAssembly SIMD, else in
 * JavaScript; both skip A's zeros (images are mostly zeros) and give the
 * same bits.
 */
import { reserve, simdModule } from "../util/wasm_module.ts";
import { wasm } from "./products_wasm.ts";

export interface Products {
  /** A·B for B D×l: n×l. */
  times(b: Float64Array, l: number): Float64Array;
  /** Aᵀ·B for B n×l: D×l. */
  transposedTimes(b: Float64Array, l: number): Float64Array;
}

/**
 * The products with A (n×dim). A Float32Array is kept in float32, anything
 * else in double precision, so the copy holds A's values exactly.
 *
 * @example
 * const p = products(x, n, dim);
 * const xb = p.times(b, l); // n×l
 */
export function products(a: ArrayLike<number>, n: number, dim: number, simd = true): Products {
  const scalar: Products = { times: (b, l) => scalarTimes(a, n, dim, b, l, false), transposedTimes: (b, l) => scalarTimes(a, n, dim, b, l, true) };
  const module = simd ? simdModule(wasm) : null;
  if (!module) return scalar;
  const instance = new WebAssembly.Instance(module), memory = instance.exports.memory as WebAssembly.Memory;
  const times = instance.exports.times as (a: number, f32: number, n: number, dim: number, b: number, l: number, out: number, transposed: number) => void;
  const f32 = a instanceof Float32Array, aBytes = 8 * Math.ceil(((f32 ? 4 : 8) * n * dim) / 8);
  try {
    new (f32 ? Float32Array : Float64Array)(reserve(memory, aBytes), 0, n * dim).set(a);
  } catch (error) {
    // A matrix beyond what a WebAssembly memory may hold (4 GiB) is multiplied in place, in JavaScript.
    if (error instanceof RangeError) return scalar;
    throw error;
  }
  const run = (b: Float64Array, l: number, transposed: boolean) => {
    const rows = transposed ? dim : n, bytes = 8 * b.length;
    const buffer = reserve(memory, aBytes + bytes + 8 * rows * l);
    new Float64Array(buffer, aBytes, b.length).set(b);
    const out = new Float64Array(buffer, aBytes + bytes, rows * l).fill(0);
    times(0, +f32, n, dim, aBytes, l, out.byteOffset, +transposed);
    return out.slice();
  };
  return { times: (b, l) => run(b, l, false), transposedTimes: (b, l) => run(b, l, true) };
}

/**
 * The JavaScript products: for every A[i, d] not zero, the row of B times it
 * added to a row of the result ((i, d) for A·B, (d, i) for Aᵀ·B).
 */
export function scalarTimes(a: ArrayLike<number>, n: number, dim: number, b: Float64Array, l: number, transposed: boolean): Float64Array {
  const out = new Float64Array((transposed ? dim : n) * l);
  for (let i = 0; i < n; i++) {
    for (let d = 0; d < dim; d++) {
      const v = a[i * dim + d];
      if (v === 0) continue;
      const o = (transposed ? d : i) * l, r = (transposed ? i : d) * l;
      for (let c = 0; c < l; c++) out[o + c] += v * b[r + c];
    }
  }
  return out;
}
