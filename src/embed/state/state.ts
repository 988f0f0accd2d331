/** The optimisation state of one denoising step of the embedding. */
import { sharedArray } from "../../runtime/shared_memory.ts";
import type { SparseMatrix } from "../../linalg/sparse.ts";
import { placeStep } from "../wasm/attraction.ts";

export interface StepState {
  /** The step number (its lane). */
  readonly step: number;
  readonly n: number;
  /** Instance id of each row. */
  readonly instance: Int32Array;
  /** Prompt code of each row. */
  readonly prompt: Int32Array;
  /** The step's own features (row-major n×dim), kept for the quality figures. */
  readonly features: Float32Array;
  readonly dim: number;
  /** Input affinities P_t, from this step's features alone. */
  readonly P: SparseMatrix;
  /** Points in the optimisation frame, n×2. */
  readonly y: Float64Array;
  /** Gradient accumulated by the losses, n×2. */
  readonly grad: Float64Array;
  /** Optimiser state: per-coordinate gains and velocity (never shared across steps). */
  readonly gains: Float64Array;
  readonly velocity: Float64Array;
  /** Row of the same instance in the following step, or −1. */
  next: Int32Array;
}

export function stepState(init: Omit<StepState, "grad" | "gains" | "velocity" | "next">): StepState {
  const m = 2 * init.n;
  // Points and gradients are shared, so worker threads can compute the gradients of some steps in place;
  // the points and P are placed where the attraction kernel reads them (see placeStep).
  const place = placeStep(init.P);
  const y = place?.y ?? sharedArray(Float64Array, m);
  y.set(init.y);
  return {
    ...init,
    P: place?.P ?? init.P,
    y,
    grad: sharedArray(Float64Array, m),
    gains: new Float64Array(m).fill(1),
    velocity: new Float64Array(m),
    next: new Int32Array(init.n).fill(-1),
  };
}

/** Links `a` to the following step `b` by instance id. */
export function linkSteps(a: StepState, b: StepState | undefined): void {
  a.next.fill(-1);
  if (!b) return;
  const row = new Map<number, number>();
  b.instance.forEach((id, i) => row.set(id, i));
  a.instance.forEach((id, i) => (a.next[i] = row.get(id) ?? -1));
}
