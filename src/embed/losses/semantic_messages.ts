/** Messages between the main thread and the KL-gradient workers. */
import type { KernelRecipe } from "../kernel/threaded.ts";
import type { Placement } from "../wasm/attraction.ts";

export interface KlStep {
  type: "step";
  id: number;
  n: number;
  /** Shared-memory views of the step's points and of the buffer its KL gradient goes to. */
  y: Float64Array;
  kl: Float64Array;
  rowPtr: Int32Array;
  col: Int32Array;
  val: Float64Array;
  /** Where y and P lie in shared WebAssembly memory, for the attraction kernel (undefined: not placed). */
  placement?: Placement;
}

/** Enter the iteration loop for the given steps until ctrl[0] goes negative. */
export interface KlRun {
  type: "run";
  /** The run's steps, in the order they are claimed. */
  ids: number[];
  /** [iteration counter, done counter of each worker slot…, next piece to claim] */
  ctrl: Int32Array;
  /** Where in ctrl the next piece is claimed. */
  claim: number;
  /** [exaggeration, weight] of the current iteration. */
  params: Float64Array;
  slot: number;
  /** The kernel every thread computes with. */
  recipe: KernelRecipe;
  /** One step split in chunks of rows: the shared output (n×5, see SplitKernel.gradientChunk) and the kernel's workspace. */
  split?: { out: Float64Array; workspace: unknown };
}

export type KlWorkerMessage = KlStep | KlRun;

export type KlReply = { type: "idle" } | { type: "error"; message: string };
