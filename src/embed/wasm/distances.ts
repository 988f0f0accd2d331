/**
 * Squared distances from one point to a list of candidates, the inner loop
 * of the k-NN search: by the SIMD kernel (distances.wat) where the runtime
 * has WebAssembly SIMD, else in JavaScript. The SIMD kernel keeps the
 * features in its memory as zero-padded float32 rows; the candidate list and
 * the distances are views on that memory too, so a row's distances cost one
 * call and no copying.
 */
import { wasm } from "./distances_wasm.ts";
import { reserve, simdModule } from "../../util/wasm_module.ts";

export interface DistanceKernel {
  /** Candidate rows to measure (write the first `count`, then call `measure`). */
  readonly candidates: Int32Array;
  /** Squared distances of the candidates (single precision), after `measure`. */
  readonly distances: Float32Array;
  /** The same as unsigned integers: for non-negative floats their order is the numbers' order. */
  readonly bits: Uint32Array;
  /** Squared distances from row i to the first `count` candidates. */
  measure(i: number, count: number): void;
}

/** The kernel over n points (row-major n×dim) for up to `maxCandidates` candidates at a time. */
export function distanceKernel(points: ArrayLike<number>, n: number, dim: number, maxCandidates: number): DistanceKernel {
  const m = simdModule(wasm);
  return m ? new SimdDistances(new WebAssembly.Instance(m), points, n, dim, maxCandidates) : scalarDistances(points, dim, maxCandidates);
}

/** The JavaScript kernel, where the runtime has no WebAssembly SIMD. */
export function scalarDistances(points: ArrayLike<number>, dim: number, maxCandidates: number): DistanceKernel {
  const candidates = new Int32Array(maxCandidates), distances = new Float32Array(maxCandidates);
  return {
    candidates,
    distances,
    bits: new Uint32Array(distances.buffer),
    measure(i, count) {
      for (let c = 0; c < count; c++) {
        const o = candidates[c] * dim;
        let d = 0;
        for (let t = 0; t < dim; t++) {
          const diff = points[i * dim + t] - points[o + t];
          d += diff * diff;
        }
        distances[c] = d;
      }
    },
  };
}

class SimdDistances implements DistanceKernel {
  readonly candidates: Int32Array;
  readonly distances: Float32Array;
  readonly bits: Uint32Array;
  private readonly run: (x: number, bytes: number, q: number, cand: number, count: number, out: number) => void;
  private readonly bytes: number;

  constructor(instance: WebAssembly.Instance, points: ArrayLike<number>, n: number, dim: number, maxCandidates: number) {
    const stride = 4 * Math.ceil(dim / 4);
    this.bytes = 4 * stride;
    const memory = instance.exports.memory as WebAssembly.Memory;
    const candidatesAt = n * this.bytes, distancesAt = candidatesAt + 4 * maxCandidates;
    const buffer = reserve(memory, distancesAt + 4 * maxCandidates);
    const rows = new Float32Array(buffer, 0, n * stride);
    for (let i = 0; i < n; i++) for (let t = 0; t < dim; t++) rows[i * stride + t] = points[i * dim + t];
    this.candidates = new Int32Array(buffer, candidatesAt, maxCandidates);
    this.distances = new Float32Array(buffer, distancesAt, maxCandidates);
    this.bits = new Uint32Array(buffer, distancesAt, maxCandidates);
    this.run = instance.exports.distances as SimdDistances["run"];
  }

  measure(i: number, count: number): void {
    this.run(0, this.bytes, i * this.bytes, this.candidates.byteOffset, count, this.distances.byteOffset);
  }
}
