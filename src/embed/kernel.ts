/**
 * Low-dimensional relations (ParaDime's "relations" on the embedding): the
 * kernel that turns 2-D distances of one step's points into Q_t, with the
 * gradient of KL(P_t ‖ Q_t). The kernel owns its hot loops, specialised for
 * its form, because this is where nearly all the time goes.
 */
import { fftRepulsion, type FftRepulsionOptions } from "./fft_repulsion.ts";
import { barnesHutRepulsion, exactRepulsion, type Repulsion } from "./repulsion.ts";
import type { SparseMatrix } from "./sparse.ts";
import { attraction, type AttractionRows, attractionRows } from "./wasm/attraction.ts";

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
  /** Readies a split step for this iteration (on every thread); returns its number of chunks. */
  prepareChunks?(y: Float64Array, n: number): number;
  /**
   * For the rows of chunk c: their repulsion sums, part of Z and attraction
   * into out (n×5 per row: repulsion x, y, Z part, attraction x, y).
   */
  gradientChunk?(y: Float64Array, P: SparseMatrix, c: number, out: Float64Array): void;
  /** Adds the gradient once every chunk is in out; the same as klGradient gives. */
  finishChunks?(n: number, out: Float64Array, exaggeration: number, weight: number, grad: Float64Array): void;
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
   * with the points' extent; Barnes-Hut where the points spread wider than
   * the largest grid holds, since wider boxes lose the accuracy), or "auto"
   * (default): exact below `exactBelow` points, else FFT where its grid is
   * predicted faster than Barnes-Hut.
   */
  repulsion?: "exact" | "barnes-hut" | "fft" | "auto";
  /** Barnes-Hut opening angle (default 0.5). */
  theta?: number;
  /** The FFT interpolation's grid (defaults as in fftRepulsion). */
  fft?: FftRepulsionOptions;
  /** The point count from which "auto" leaves the exact sum (default 500; Barnes-Hut is faster from about 300). */
  exactBelow?: number;
}

/** Rows per attraction chunk of a step split over threads. */
const ATTRACTION_ROWS = 1024;

/** t-SNE's Student-t kernel with one degree of freedom, q ∝ 1/(1 + d²). */
export function studentT(options: StudentTOptions = {}): Kernel {
  const mode = options.repulsion ?? "auto", exactBelow = options.exactBelow ?? 500;
  const exact = exactRepulsion(), tree = barnesHutRepulsion(options.theta ?? 0.5), fft = fftRepulsion(options.fft);
  const pick = (y: Float64Array, n: number): Repulsion => {
    if (mode === "fft") return fft.holds(y, n) ? fft : tree;
    if (mode !== "auto") return mode === "exact" ? exact : tree;
    return n < exactBelow ? exact : fft.fasterThanTree(y, n) ? fft : tree;
  };
  let rep = new Float64Array(0), att = new Float64Array(0);
  let split: Repulsion | undefined, repulsionChunks = 0;
  // The SIMD attraction holds a copy of P: made only for a kernel that splits a step.
  let splitAttraction: AttractionRows | undefined;
  return {
    name: "student-t",
    spec: { ...options },
    klGradient(y, P, exaggeration, weight, grad) {
      const n = P.n;
      if (rep.length < 2 * n) rep = new Float64Array(2 * n);
      const z = pick(y, n).compute(y, n, rep), a = 4 * weight * exaggeration, r = z > 0 ? (4 * weight) / z : 0;
      if (att.length < 2 * n) att = new Float64Array(2 * n);
      attraction(y, P, 0, n, att, 2, 0);
      for (let i = 0; i < 2 * n; i++) grad[i] += a * att[i] - r * rep[i];
    },
    splitRepulsion(y, n) {
      const chosen = pick(y, n);
      return chosen === exact ? "exact" : chosen === tree ? "barnes-hut" : undefined;
    },
    // Repulsion chunks come first, then the attraction in runs of rows (in row order, which reads P in order).
    prepareChunks(y, n) {
      split = pick(y, n);
      repulsionChunks = split.split!.prepare(y, n);
      (splitAttraction ??= attractionRows()).points(y, n);
      return repulsionChunks + Math.ceil(n / ATTRACTION_ROWS);
    },
    gradientChunk(y, P, c, out) {
      if (c < repulsionChunks) return split!.split!.chunk(y, P.n, c, out, 5);
      const from = (c - repulsionChunks) * ATTRACTION_ROWS;
      splitAttraction!.rows(P, from, Math.min(from + ATTRACTION_ROWS, P.n), out, 5, 3);
    },
    finishChunks(n, out, exaggeration, weight, grad) {
      let z = 0;
      for (let i = 0; i < n; i++) z += out[5 * i + 2];
      const a = 4 * weight * exaggeration, r = z > 0 ? (4 * weight) / z : 0;
      for (let i = 0; i < n; i++) {
        grad[2 * i] += a * out[5 * i + 3] - r * out[5 * i];
        grad[2 * i + 1] += a * out[5 * i + 4] - r * out[5 * i + 1];
      }
    },
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
