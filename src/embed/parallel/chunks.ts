/**
 * The loop every thread runs for one step split over threads: it claims
 * chunks of rows from a shared counter until none is left, so threads that
 * are busier elsewhere simply take fewer.
 */
import type { Kernel } from "../kernel.ts";
import type { SparseMatrix } from "../sparse.ts";

/** Computes chunks of a split step into out, claiming each from ctrl[claim], until none is left. */
export function claimChunks(kernel: Kernel, y: Float64Array, P: SparseMatrix, out: Float64Array, ctrl: Int32Array, claim: number): void {
  const chunks = kernel.prepareChunks!(y, P.n);
  for (let c = Atomics.add(ctrl, claim, 1); c < chunks; c = Atomics.add(ctrl, claim, 1)) kernel.gradientChunk!(y, P, c, out);
}
