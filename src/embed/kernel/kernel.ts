/**
 * Low-dimensional relations (ParaDime's "relations" on the embedding): the
 * kernel that turns 2-D distances of one step's points into Q_t, with the
 * gradient of KL(P_t ‖ Q_t). This is the interface a kernel plugin
 * implements; `studentT` is the built-in one, written against it. A kernel
 * that worker threads can rebuild also implements `ThreadedKernel`
 * (threaded.ts); any other is computed on the calling thread.
 */
import type { SparseMatrix } from "../../linalg/sparse.ts";

export interface Kernel {
  readonly name: string;
  /**
   * Adds weight · ∂KL(P‖Q)/∂y to grad for one step's points y (n×2, x and y
   * interleaved), with the attraction multiplied by `exaggeration`.
   */
  klGradient(y: Float64Array, P: SparseMatrix, exaggeration: number, weight: number, grad: Float64Array): void;
  /** KL(P‖Q) for the current points. */
  kl(y: Float64Array, P: SparseMatrix): number;
  /**
   * The gradient of several steps at once (the active steps of one
   * iteration are independent), for kernels that compute them together
   * (WebGPU); when present, the semantic loss calls it instead of klGradient.
   */
  klGradientSteps?(steps: readonly KernelStep[], exaggeration: number, weight: number): Promise<void>;
  /** Releases what the kernel holds (a GPU device); it still works afterwards. */
  dispose?(): void;
}

/** One step's part in a batched gradient. */
export interface KernelStep {
  readonly y: Float64Array;
  readonly P: SparseMatrix;
  readonly grad: Float64Array;
}
