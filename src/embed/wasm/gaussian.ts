/**
 * A row's Gaussian weights p_a = exp(−β (d_a − d_0)) and their moments, the
 * perplexity calibration's inner loop (one exp per neighbour and iteration):
 * by the SIMD kernel (gaussian.wat, two exps a vector) where the runtime has
 * WebAssembly SIMD, else in JavaScript. Both give the same bits.
 */
import { exp } from "../../util/portable_math.ts";
import { wasm } from "./gaussian_wasm.ts";
import { reserve, simdModule } from "../../util/wasm_module.ts";

export interface RowWeights {
  /** The weights of the last `compute` (not normalised). */
  readonly p: Float64Array;
  /** Σ p, Σ d p, Σ d² p, Σ d³ p of the last `compute`, d = d_a − d_0. */
  readonly sums: Float64Array;
  /** The weights for precision β. */
  compute(beta: number): void;
}

type Weights = (d2: number, k: number, beta: number, out: number, sums: number) => void;

/** This thread's kernel, and the views of its last row (reused while the row length and the memory stay). */
let kernel: { memory: WebAssembly.Memory; weights: Weights } | null | undefined;
let last: (RowWeights & { row: Float64Array }) | undefined;

/**
 * The weights over one row of squared distances, the nearest first (so
 * every d_a − d_0 ≥ 0). With the SIMD kernel the arrays are views on its
 * memory, valid until the next row on this thread.
 *
 * @example
 * const w = rowWeights(Float64Array.of(1, 2, 4, 9));
 * w.compute(0.5); // w.p: 1, e^−0.5, e^−1.5, e^−4; w.sums[0]: their sum
 */
export function rowWeights(d2: Float64Array): RowWeights {
  if (kernel === undefined) {
    const m = simdModule(wasm);
    const exports = m && (new WebAssembly.Instance(m).exports as { memory: WebAssembly.Memory; weights: Weights });
    kernel = exports ? { memory: exports.memory, weights: exports.weights } : null;
  }
  if (!kernel) return scalarWeights(d2);
  const k = d2.length;
  if (last?.p.length !== k || last.row.buffer !== kernel.memory.buffer) last = simdWeights(kernel, k);
  // The row, padded to an even length with d_0, which the kernel's last pair reads.
  last.row.set(d2);
  if (k & 1) last.row[k] = d2[0];
  return last;
}

function simdWeights({ memory, weights }: { memory: WebAssembly.Memory; weights: Weights }, k: number): RowWeights & { row: Float64Array } {
  const padded = k + (k & 1), out = 8 * padded, sums = 16 * padded;
  const buffer = reserve(memory, sums + 32);
  return {
    row: new Float64Array(buffer, 0, padded),
    p: new Float64Array(buffer, out, k),
    sums: new Float64Array(buffer, sums, 4),
    compute: (beta) => weights(0, k, beta, out, sums),
  };
}

/** The JavaScript loop, where the runtime has no WebAssembly SIMD. */
export function scalarWeights(d2: Float64Array): RowWeights {
  const k = d2.length, d0 = d2[0], p = new Float64Array(k), sums = new Float64Array(4);
  return {
    p,
    sums,
    compute(beta) {
      let sum = 0, s1 = 0, s2 = 0, s3 = 0;
      for (let a = 0; a < k; a++) {
        const d = d2[a] - d0, q = exp(-beta * d), dq = d * q;
        p[a] = q;
        sum += q;
        s1 += dq;
        s2 += d * dq;
        s3 += d * d * dq;
      }
      sums[0] = sum;
      sums[1] = s1;
      sums[2] = s2;
      sums[3] = s3;
    },
  };
}
