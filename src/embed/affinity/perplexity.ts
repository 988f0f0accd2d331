/**
 * t-SNE's input affinities: Gaussian, with a per-point bandwidth matched to
 * a perplexity, over the nearest neighbours within one step.
 */
import { OptionError } from "../../errors.ts";
import type { Affinity } from "./affinity.ts";
import { AffinityPool } from "./affinity_pool.ts";
import { warmBlocks } from "./neighbor_graph.ts";
import { symmetrized, type SymmetrizeJob } from "./symmetrize.ts";
import { type AffinityTask, runHere, taskWork, type WarmJob, warmAffinities, warmJob } from "./warm.ts";

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
  /** Threads for a step of more than one block (1024 rows): "auto" (default) uses every hardware thread; 1 stays on the calling thread. */
  threads?: number | "auto";
  /**
   * How far apart two feature vectors are: "euclidean" (default), or
   * "cosine", for features compared by angle (CLIP-like embeddings): every
   * row is scaled to unit length first (`prepare`), where the squared
   * Euclidean distance is 2 (1 − cos), so a row's length does not matter.
   */
  metric?: Metric;
}

/** Blocks (of 1024 rows) from which `ready` waits for the threads (more than 2048 points): an exact search of that many takes about as long as starting them. */
const READY_BLOCKS = 3;

/** The metrics of the built-in affinity. */
export type Metric = "euclidean" | "cosine";

/** The options each built-in affinity was made with: what checkpoints and specs record. */
const made = new WeakMap<Affinity, PerplexityOptions>();

/** The options of an affinity made by `perplexityAffinity` (a copy); undefined for any other. */
export function perplexityOptions(affinity: Affinity): PerplexityOptions | undefined {
  const options = made.get(affinity);
  return options && { ...options };
}

/**
 * Every row scaled to unit length (an all-zero row stays zero), in a new
 * array. Scaling a row by a power of two leaves its result unchanged to the
 * bit.
 */
export function unitRows(features: Float32Array, n: number, dim: number): Float32Array {
  const out = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) {
    let sum = 0;
    for (let d = i * dim; d < (i + 1) * dim; d++) sum += features[d] * features[d];
    if (sum === 0) continue;
    const norm = Math.sqrt(sum);
    for (let d = i * dim; d < (i + 1) * dim; d++) out[d] = features[d] / norm;
  }
  return out;
}

/**
 * t-SNE's Gaussian affinities with a per-point bandwidth matched to the
 * perplexity, over the 3·perplexity nearest neighbours (as Barnes-Hut
 * t-SNE and openTSNE do): beyond them the Gaussian is negligible.
 */
export function perplexityAffinity(options: PerplexityOptions = {}): Affinity {
  const target = options.perplexity ?? 30;
  if (!(target > 1)) throw new OptionError("perplexity", `must be greater than 1, got ${target}`);
  const metric = options.metric ?? "euclidean";
  if (metric !== "euclidean" && metric !== "cosine") throw new OptionError("metric", `must be "euclidean" or "cosine", not ${JSON.stringify(metric)}`);
  const mode = options.neighbors ?? "auto", warmFrom = options.warmFrom ?? 1000;
  const threads = options.threads ?? "auto";
  const pool = threads === 1 ? undefined : new AffinityPool(threads);
  let calls = 0, spare: WarmJob | undefined, spareSymmetrize: SymmetrizeJob | undefined;
  const affinity: Affinity = {
    name: "perplexity",
    ...(metric === "cosine" ? { prepare: unitRows } : {}),
    compute(features, n, dim, hint) {
      if (n < 2) return { n, rowPtr: new Int32Array(n + 1), col: new Int32Array(0), val: new Float64Array(0) };
      const perplexity = Math.min(target, Math.max((n - 1) / 3, 1.01));
      const k = Math.min(n - 1, Math.ceil(3 * perplexity));
      const warm = hint !== undefined && (mode === "warm" || (mode === "auto" && n >= warmFrom));
      // Asking starts the threads in the background; a first step is searched on this thread alone unless `ready` was awaited.
      const shared = warmBlocks(n) > 1 && pool?.ready === true;
      const job = (spare = warmJob(features, n, dim, k, perplexity, warm ? hint : undefined, calls++, shared, spare));
      const run = shared ? (task: AffinityTask) => pool!.run(task, taskWork(task)) : runHere;
      spareSymmetrize = warmAffinities(job, run, shared ? pool!.size : 1, spareSymmetrize);
      return symmetrized(spareSymmetrize);
    },
    // Waiting pays where the exact search of a first step takes longer than starting the threads does.
    ready: (n) => (pool && warmBlocks(n) >= READY_BLOCKS ? pool.started() : Promise.resolve()),
    dispose: () => pool?.dispose(),
  };
  made.set(affinity, { ...options });
  return affinity;
}

