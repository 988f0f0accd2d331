/**
 * A step's affinities: the k-NN search (exact, or started from the previous
 * step's graph), the calibration and the symmetrisation, as tasks split into
 * blocks that this thread or worker threads claim.
 */
import { reuse } from "../../runtime/shared_memory.ts";
import type { AffinityHint } from "./affinity.ts";
import { calibrateRows } from "./calibrate.ts";
import { exactSearch, warmSearch, WARM_BLOCK, warmBlocks } from "./neighbor_graph.ts";
import { merge, pack, packRows, scatter, SYMMETRIZE_ROWS, type SymmetrizeJob, symmetrizeJob } from "./symmetrize.ts";

/** One step's search and calibration, as shared with worker threads. */
export interface WarmJob {
  /** Whether the search is exact (the previous graph, empty then, is not used). */
  exact: boolean;
  features: Float32Array;
  n: number;
  dim: number;
  k: number;
  perplexity: number;
  rowPtr: Int32Array;
  col: Int32Array;
  seed: number;
  /** Results (n×k): neighbours, their squared distances and conditional affinities. */
  index: Int32Array;
  distance: Float64Array;
  cond: Float64Array;
  /** Each row's Gaussian precision: the last step's on entry (0: none), this step's after. */
  beta: Float64Array;
}

/**
 * The arrays of a step, in shared memory where threads will read and fill
 * them; without a hint its search is exact. The last step's buffers that
 * are this module's own (results, shared copies) serve again where they
 * fit, which spares allocating and clearing them; its β per row is where a
 * warm step's calibration starts.
 */
export function warmJob(features: ArrayLike<number>, n: number, dim: number, k: number, perplexity: number, hint: AffinityHint | undefined, seed: number, shared: boolean, spare?: WarmJob): WarmJob {
  hint ??= { rowPtr: new Int32Array(n + 1), col: new Int32Array(0) };
  // Unshared, the inputs are the caller's arrays: only shared copies are ours to reuse.
  const copy = <A extends Float32Array | Int32Array>(Type: { new (b: ArrayBufferLike): A; BYTES_PER_ELEMENT: number }, from: ArrayLike<number>, old?: A) => {
    const a = reuse(Type, from.length, shared, shared ? old : undefined);
    a.set(from);
    return a;
  };
  // A warm search's calibration starts from the last step's β; an exact one from scratch, as a restored embedding would.
  const beta = reuse(Float64Array, n, shared, spare?.beta);
  if (hint.col.length === 0) beta.fill(0);
  else if (spare && beta !== spare.beta && spare.beta.length === n) beta.set(spare.beta);
  return {
    exact: hint.col.length === 0,
    features: shared || !(features instanceof Float32Array) ? copy(Float32Array, features, spare?.features) : features,
    n,
    dim,
    k,
    perplexity,
    rowPtr: shared ? copy(Int32Array, hint.rowPtr, spare?.rowPtr) : hint.rowPtr,
    col: shared ? copy(Int32Array, hint.col, spare?.col) : hint.col,
    seed,
    index: reuse(Int32Array, n * k, shared, spare?.index),
    distance: reuse(Float64Array, n * k, shared, spare?.distance),
    cond: reuse(Float64Array, n * k, shared, spare?.cond),
    beta,
  };
}

/**
 * A step's affinities: its search and calibration, then its
 * symmetrisation, each task run by `run` (on this thread, or shared with
 * `threads` − 1 others, whose arrays are then shared). Returns the
 * symmetrisation, P included.
 */
export function warmAffinities(job: WarmJob, run: (task: AffinityTask) => void, threads: number, spare?: SymmetrizeJob): SymmetrizeJob {
  const { n, k } = job, rowBlocks = Math.ceil(n / SYMMETRIZE_ROWS);
  run({ type: "warm", job, blocks: warmBlocks(n) });
  const sym = symmetrizeJob(n, k, job.index, job.cond, threads > 1, spare);
  run({ type: "scatter", job: sym, blocks: threads });
  run({ type: "merge", job: sym, blocks: rowBlocks });
  pack(sym);
  run({ type: "pack", job: sym, blocks: rowBlocks });
  return sym;
}

/** Runs every block of a task on this thread. */
export function runHere(task: AffinityTask): void {
  const work = taskWork(task);
  for (let b = 0; b < task.blocks; b++) work(b);
}

/** A piece of a step's affinities that threads share out by blocks: the search, then the symmetrisation's phases. */
export type AffinityTask =
  | { type: "warm"; job: WarmJob; blocks: number }
  | { type: "scatter" | "merge" | "pack"; job: SymmetrizeJob; blocks: number };

/** A task as the pool hands it to its threads. */
export interface AffinityRun {
  task: AffinityTask;
  /** [next block to claim, blocks settled, blocks failed] */
  ctrl: Int32Array;
}

/** The work on one block of a task, on whichever thread claims it. */
export function taskWork(task: AffinityTask): (block: number) => void {
  if (task.type === "warm") return warmRows(task.job);
  const job = task.job;
  if (task.type === "scatter") return (b) => scatter(job, b, task.blocks);
  if (task.type === "pack") return (b) => packRows(job, b * SYMMETRIZE_ROWS);
  const slot = new Int32Array(job.n);
  return (b) => merge(job, b * SYMMETRIZE_ROWS, slot);
}

/** The work on one block of a step: its rows' neighbours, then their calibration. */
export function warmRows(job: WarmJob): (block: number) => void {
  const { n, k, perplexity, index, distance, cond, beta } = job;
  const search = job.exact ? exactSearch(job.features, n, job.dim, { k, index, distance }) : warmSearch(job.features, n, job.dim, job.rowPtr, job.col, job.seed, { k, index, distance });
  return (block) => {
    search(block);
    calibrateRows(distance, k, perplexity, cond, block * WARM_BLOCK, Math.min(n, (block + 1) * WARM_BLOCK), beta);
  };
}

