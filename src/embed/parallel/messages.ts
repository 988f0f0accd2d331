/** Messages between the main thread and the KL-gradient workers. */
export interface KlStep {
  type: "step";
  id: number;
  n: number;
  /** Shared-memory views of the step's points and gradient. */
  y: Float64Array;
  grad: Float64Array;
  rowPtr: Int32Array;
  col: Int32Array;
  val: Float64Array;
}

/** Enter the iteration loop for the given steps until ctrl[0] goes negative. */
export interface KlRun {
  type: "run";
  ids: number[];
  /** [iteration counter, done counter of each worker slot…, next chunk to claim] */
  ctrl: Int32Array;
  /** [exaggeration, weight] of the current iteration. */
  params: Float64Array;
  slot: number;
  kernel: unknown;
  /** One step split in chunks of rows: the shared output (n×5, see Kernel.gradientChunk); chunks are claimed at ctrl[claim]. */
  split?: { out: Float64Array; claim: number };
}

export type KlWorkerMessage = KlStep | KlRun;

export type KlReply = { type: "idle" } | { type: "error"; message: string };
