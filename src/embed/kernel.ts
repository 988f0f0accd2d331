/**
 * Low-dimensional relations (ParaDime's "relations" on the embedding): the
 * kernel that turns 2-D distances of one step's points into Q_t, with the
 * gradient of KL(P_t ‖ Q_t). The kernel owns its hot loops, specialised for
 * its form, because this is where nearly all the time goes.
 */
import { fftRepulsion, type FftRepulsionOptions } from "./fft_repulsion.ts";
import { barnesHutRepulsion, exactRepulsion, type Repulsion } from "./repulsion.ts";
import type { SparseMatrix } from "./sparse.ts";

export interface Kernel {
  readonly name: string;
  /**
   * Adds weight · ∂KL(P‖Q)/∂y to grad for one step's points y (n×2), with
   * the attraction multiplied by `exaggeration`.
   */
  klGradient(y: Float64Array, P: SparseMatrix, exaggeration: number, weight: number, grad: Float64Array): void;
  /** KL(P‖Q) for the current points (exact). */
  kl(y: Float64Array, P: SparseMatrix): number;
  /**
   * The options this kernel is rebuilt from inside a worker thread; a kernel
   * without one is always computed on the calling thread.
   */
  readonly spec?: StudentTOptions;
  /**
   * The gradient of several steps at once (the active steps of one
   * iteration are independent), for kernels that compute them together
   * (WebGPU); when present, the semantic loss calls it instead of klGradient.
   */
  klGradientSteps?(steps: readonly KernelStep[], exaggeration: number, weight: number): Promise<void>;
  /** Releases what the kernel holds (a GPU device); it still works afterwards. */
  dispose?(): void;
  /**
   * For one step split over threads by rows: the repulsion this kernel
   * would use for these points, when it can be split (every thread then
   * builds its kernel with `spec.repulsion` set to it, so all agree).
   */
  splitRepulsion?(y: Float64Array, n: number): "exact" | "barnes-hut" | undefined;
  /** The repulsion sums of rows [from, to) into rep (cleared first); returns their part of Z. */
  repulsionRows?(y: Float64Array, n: number, rep: Float64Array, from: number, to: number): number;
  /** Adds the gradient given the complete repulsion sums and Z (klGradient = repulsion + this). */
  applyGradient?(y: Float64Array, P: SparseMatrix, rep: Float64Array, z: number, exaggeration: number, weight: number, grad: Float64Array): void;
}

/** One step's part in a batched gradient. */
export interface KernelStep {
  readonly y: Float64Array;
  readonly P: SparseMatrix;
  readonly grad: Float64Array;
}

export interface StudentTOptions {
  /**
   * How the repulsion is summed: "exact" (O(n²)), "barnes-hut" (O(n log n),
   * approximate), "fft" (FIt-SNE's interpolation, O(n) plus a grid that grows
   * with the points' extent), or "auto" (default): exact below `exactBelow`
   * points, else FFT where its grid is predicted faster than Barnes-Hut.
   */
  repulsion?: "exact" | "barnes-hut" | "fft" | "auto";
  /** Barnes-Hut opening angle (default 0.5). */
  theta?: number;
  /** The FFT interpolation's grid (defaults as in fftRepulsion). */
  fft?: FftRepulsionOptions;
  /** The point count from which "auto" leaves the exact sum (default 1500; measured crossover). */
  exactBelow?: number;
}

/** t-SNE's Student-t kernel with one degree of freedom, q ∝ 1/(1 + d²). */
export function studentT(options: StudentTOptions = {}): Kernel {
  const mode = options.repulsion ?? "auto", exactBelow = options.exactBelow ?? 1500;
  const exact = exactRepulsion(), tree = barnesHutRepulsion(options.theta ?? 0.5), fft = fftRepulsion(options.fft);
  const pick = (y: Float64Array, n: number): Repulsion => {
    if (mode !== "auto") return mode === "exact" ? exact : mode === "fft" ? fft : tree;
    return n < exactBelow ? exact : fft.fasterThanTree(y, n) ? fft : tree;
  };
  let rep = new Float64Array(0);
  const applyGradient = (y: Float64Array, P: SparseMatrix, rep: Float64Array, z: number, exaggeration: number, weight: number, grad: Float64Array) => {
    const n = P.n, a = 4 * weight * exaggeration, r = z > 0 ? (4 * weight) / z : 0;
    // Attraction over the sparse P.
    const { rowPtr, col, val } = P;
    for (let i = 0; i < n; i++) {
      const xi = y[2 * i], yi = y[2 * i + 1];
      let fx = 0, fy = 0;
      for (let e = rowPtr[i]; e < rowPtr[i + 1]; e++) {
        const j = col[e];
        const dx = xi - y[2 * j], dy = yi - y[2 * j + 1];
        const pq = val[e] / (1 + dx * dx + dy * dy);
        fx += pq * dx;
        fy += pq * dy;
      }
      grad[2 * i] += a * fx - r * rep[2 * i];
      grad[2 * i + 1] += a * fy - r * rep[2 * i + 1];
    }
  };
  return {
    name: "student-t",
    spec: { ...options },
    klGradient(y, P, exaggeration, weight, grad) {
      const n = P.n;
      if (rep.length < 2 * n) rep = new Float64Array(2 * n);
      applyGradient(y, P, rep, pick(y, n).compute(y, n, rep), exaggeration, weight, grad);
    },
    splitRepulsion(y, n) {
      const chosen = pick(y, n);
      return chosen === exact ? "exact" : chosen === tree ? "barnes-hut" : undefined;
    },
    repulsionRows: (y, n, rep, from, to) => pick(y, n).rows!(y, n, rep, from, to),
    applyGradient,
    kl(y, P) {
      const n = P.n;
      let z = 0;
      for (let i = 0; i < n; i++) {
        for (let j = i + 1; j < n; j++) {
          const dx = y[2 * i] - y[2 * j], dy = y[2 * i + 1] - y[2 * j + 1];
          z += 2 / (1 + dx * dx + dy * dy);
        }
      }
      let kl = 0;
      for (let i = 0; i < n; i++) {
        for (let e = P.rowPtr[i]; e < P.rowPtr[i + 1]; e++) {
          const p = P.val[e];
          if (p <= 0) continue;
          const j = P.col[e];
          const dx = y[2 * i] - y[2 * j], dy = y[2 * i + 1] - y[2 * j + 1];
          kl += p * Math.log((p * z) * (1 + dx * dx + dy * dy));
        }
      }
      return kl;
    },
  };
}
