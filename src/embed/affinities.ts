/**
 * High-dimensional relations (ParaDime's "relations"): the input affinities
 * P_t of one step, computed from that step's features alone.
 */
import { OptionError } from "../errors.ts";
import { exactNeighbors, warmBlocks, warmSearch, WARM_BLOCK } from "./neighbors.ts";
import { AffinityPool } from "./parallel/affinity_pool.ts";
import { reuse } from "./shared_memory.ts";
import type { SparseMatrix } from "./sparse.ts";
import { merge, pack, packRows, scatter, symmetrize, symmetrized, SYMMETRIZE_ROWS, type SymmetrizeJob, symmetrizeJob } from "./symmetrize.ts";

export interface Affinity {
  readonly name: string;
  /**
   * Symmetric affinities summing to 1 over the n points (row-major n×dim).
   * `hint` carries the previous step's neighbour graph, re-indexed to this
   * step's rows, for affinities that can start from it.
   */
  compute(features: ArrayLike<number>, n: number, dim: number, hint?: AffinityHint): SparseMatrix;
  /** Releases the threads it holds; it still works afterwards. */
  dispose?(): void;
}

/** The previous step's P in compressed rows, re-indexed to this step's rows (−1: gone; empty row: new). */
export interface AffinityHint {
  rowPtr: Int32Array;
  col: Int32Array;
}

export interface PerplexityOptions {
  /** Effective number of neighbours (t-SNE's perplexity); capped at (n − 1) / 3. */
  perplexity?: number;
  /**
   * How neighbours are found: "exact" (O(n²·D)); "warm": from the previous
   * step's graph (approximate, O(n·D) per point; exact without a hint); or
   * "auto" (default): warm from `warmFrom` points on.
   */
  neighbors?: "exact" | "warm" | "auto";
  warmFrom?: number;
  /** Threads for a warm step of more than one block (1024 rows): "auto" (default) uses every hardware thread; 1 stays on the calling thread. */
  threads?: number | "auto";
}

/** One step's warm search and calibration, as shared with worker threads. */
export interface WarmJob {
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
 * t-SNE's Gaussian affinities with a per-point bandwidth matched to the
 * perplexity, over the 3·perplexity nearest neighbours (as Barnes-Hut
 * t-SNE and openTSNE do): beyond them the Gaussian is negligible.
 */
export function perplexityAffinity(options: PerplexityOptions = {}): Affinity {
  const target = options.perplexity ?? 30;
  if (!(target > 1)) throw new OptionError("perplexity", `must be greater than 1, got ${target}`);
  const mode = options.neighbors ?? "auto", warmFrom = options.warmFrom ?? 1000;
  const threads = options.threads ?? "auto";
  const pool = threads === 1 ? undefined : new AffinityPool(threads);
  let calls = 0, spare: WarmJob | undefined, spareSymmetrize: SymmetrizeJob | undefined;
  return {
    name: "perplexity",
    compute(features, n, dim, hint) {
      if (n < 2) return { n, rowPtr: new Int32Array(n + 1), col: new Int32Array(0), val: new Float64Array(0) };
      const perplexity = Math.min(target, Math.max((n - 1) / 3, 1.01));
      const k = Math.min(n - 1, Math.ceil(3 * perplexity));
      const warm = hint !== undefined && (mode === "warm" || (mode === "auto" && n >= warmFrom));
      // Asking starts the threads, in the background: a stream's first step is searched exactly, meanwhile.
      const blocks = warmBlocks(n), shared = blocks > 1 && pool?.ready === true;
      if (!warm) {
        const nn = exactNeighbors(features, n, dim, k), cond = new Float64Array(n * k);
        calibrateRows(nn.distance, k, perplexity, cond, 0, n);
        return symmetrize(n, k, nn.index, cond);
      }
      const job = (spare = warmJob(features, n, dim, k, perplexity, hint, calls++, shared, spare));
      const run = shared ? (task: AffinityTask) => pool!.run(task, taskWork(task)) : runHere;
      spareSymmetrize = warmAffinities(job, run, shared ? pool!.size : 1, spareSymmetrize);
      return symmetrized(spareSymmetrize);
    },
    dispose: () => pool?.dispose(),
  };
}

/**
 * The arrays of a warm step, in shared memory where threads will read and
 * fill them. The last step's buffers that are this module's own (results,
 * shared copies) serve again where they fit, which spares allocating and
 * clearing them; its β per row is where this step's calibration starts.
 */
export function warmJob(features: ArrayLike<number>, n: number, dim: number, k: number, perplexity: number, hint: AffinityHint, seed: number, shared: boolean, spare?: WarmJob): WarmJob {
  // Unshared, the inputs are the caller's arrays: only shared copies are ours to reuse.
  const copy = <A extends Float32Array | Int32Array>(Type: { new (b: ArrayBufferLike): A; BYTES_PER_ELEMENT: number }, from: ArrayLike<number>, old?: A) => {
    const a = reuse(Type, from.length, shared, shared ? old : undefined);
    a.set(from);
    return a;
  };
  const beta = reuse(Float64Array, n, shared, spare?.beta);
  if (spare && beta !== spare.beta && spare.beta.length === n) beta.set(spare.beta);
  return {
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
 * A warm step's affinities: its search and calibration, then its
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

/** A piece of a warm step's affinities that threads share out by blocks: the search, then the symmetrisation's phases. */
export type AffinityTask =
  | { type: "warm"; job: WarmJob; blocks: number }
  | { type: "scatter" | "merge" | "pack"; job: SymmetrizeJob; blocks: number };

/** The work on one block of a task, on whichever thread claims it. */
export function taskWork(task: AffinityTask): (block: number) => void {
  if (task.type === "warm") return warmRows(task.job);
  const job = task.job;
  if (task.type === "scatter") return (b) => scatter(job, b, task.blocks);
  if (task.type === "pack") return (b) => packRows(job, b * SYMMETRIZE_ROWS);
  const slot = new Int32Array(job.n);
  return (b) => merge(job, b * SYMMETRIZE_ROWS, slot);
}

/** The work on one block of a warm step: its rows' neighbours, then their calibration. */
export function warmRows(job: WarmJob): (block: number) => void {
  const { n, k, perplexity, index, distance, cond, beta } = job;
  const search = warmSearch(job.features, n, job.dim, job.rowPtr, job.col, job.seed, { k, index, distance });
  return (block) => {
    search(block);
    calibrateRows(distance, k, perplexity, cond, block * WARM_BLOCK, Math.min(n, (block + 1) * WARM_BLOCK), beta);
  };
}

/** Calibrates rows [from, to) of the n×k distances into cond, each from its β in `beta` (kept there) where given. */
function calibrateRows(distance: Float64Array, k: number, perplexity: number, cond: Float64Array, from: number, to: number, beta?: Float64Array): void {
  for (let i = from; i < to; i++) {
    const b = calibrateRow(distance.subarray(i * k, (i + 1) * k), perplexity, cond.subarray(i * k, (i + 1) * k), beta?.[i]);
    if (beta) beta[i] = b;
  }
}

/**
 * Finds the Gaussian precision β whose conditional distribution over the
 * given squared distances (the nearest first) has the target perplexity
 * (entropy log P), by Halley's method on H(β) (H′ = −β·Var(D), H″ = β·κ₃ −
 * Var(D), κ₃ the third central moment) kept inside a bisection bracket.
 * Started at β = 3 / (mean distance beyond the nearest), on the side where
 * the steps do not overshoot, it takes about 3 iterations (one exp per
 * neighbour each) where the usual bisection takes a few dozen; `start`, the
 * row's β at the step before, where there is one, is closer still. Returns β.
 */
export function calibrateRow(d2: Float64Array, perplexity: number, out: Float64Array, start = 0): number {
  const target = Math.log(perplexity);
  const k = d2.length;
  // Distances relative to the nearest keep exp() in range for any scale.
  const d0 = d2[0];
  let total = 0;
  for (let a = 0; a < k; a++) total += d2[a] - d0;
  let beta = start > 0 ? start : total > 0 ? (3 * k) / total : 1, lo = 0, hi = Infinity, sum = 1;
  for (let iter = 0; iter < 100; iter++) {
    let s1 = 0, s2 = 0, s3 = 0;
    sum = 0;
    for (let a = 0; a < k; a++) {
      const d = d2[a] - d0, p = Math.exp(-beta * d), dp = d * p;
      out[a] = p;
      sum += p;
      s1 += dp;
      s2 += d * dp;
      s3 += d * d * dp;
    }
    const mean = s1 / sum, m2 = s2 / sum, variance = m2 - mean * mean;
    const gap = Math.log(sum) + beta * mean - target;
    if (Math.abs(gap) < 1e-5) break;
    // H falls as β grows: too much entropy means β must rise.
    if (gap > 0) lo = beta;
    else hi = beta;
    const h1 = -beta * variance, h2 = beta * (s3 / sum - 3 * mean * m2 + 2 * mean * mean * mean) - variance;
    const next = beta - (2 * gap * h1) / (2 * h1 * h1 - gap * h2);
    if (variance > 0 && next > lo && next < hi) beta = next;
    else beta = hi === Infinity ? beta * 2 : (lo + hi) / 2;
  }
  for (let a = 0; a < k; a++) out[a] /= sum;
  return beta;
}
