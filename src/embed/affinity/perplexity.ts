/**
 * t-SNE's input affinities: Gaussian, with a per-point bandwidth matched to
 * a perplexity, over the nearest neighbours within one step.
 */
import { OptionError } from "../../errors.ts";
import type { Affinity } from "./affinity.ts";
import { AffinityPool } from "./affinity_pool.ts";
import { calibrateRows } from "./calibrate.ts";
import { exactNeighbors, warmBlocks } from "./neighbor_graph.ts";
import { symmetrize, symmetrized, type SymmetrizeJob } from "./symmetrize.ts";
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
  /** Threads for a warm step of more than one block (1024 rows): "auto" (default) uses every hardware thread; 1 stays on the calling thread. */
  threads?: number | "auto";
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

