/**
 * The loops every thread runs in an iteration: it claims pieces of work
 * from a shared counter until none is left, so threads that are busier
 * elsewhere simply take fewer. A piece is a step's whole KL gradient, or,
 * for one step split over threads, a chunk of its rows.
 */
import type { Kernel } from "../kernel/kernel.ts";
import type { SplitKernel } from "../kernel/threaded.ts";
import type { SparseMatrix } from "../../linalg/sparse.ts";

/** A step as the threads see it: its points, affinities and the buffer its KL gradient goes to. */
export interface KlStepView {
  y: Float64Array;
  P: SparseMatrix;
  kl: Float64Array;
}

/** Computes chunks of a split step into out, claiming each from ctrl[claim], until none is left. */
export function claimChunks(kernel: SplitKernel, y: Float64Array, P: SparseMatrix, out: Float64Array, workspace: unknown, ctrl: Int32Array, claim: number): void {
  const chunks = kernel.prepareChunks(y, P.n, workspace);
  for (let c = Atomics.add(ctrl, claim, 1); c < chunks; c = Atomics.add(ctrl, claim, 1)) kernel.gradientChunk(y, P, c, out);
}

/** Computes the KL gradients of steps into their own buffers, claiming each from ctrl[claim], until none is left. */
export function claimSteps(kernel: Kernel, steps: readonly KlStepView[], exaggeration: number, weight: number, ctrl: Int32Array, claim: number): void {
  for (let s = Atomics.add(ctrl, claim, 1); s < steps.length; s = Atomics.add(ctrl, claim, 1)) {
    const { y, P, kl } = steps[s];
    kl.fill(0);
    kernel.klGradient(y, P, exaggeration, weight, kl);
  }
}
