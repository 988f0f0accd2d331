/**
 * The options of the incremental embedder, and the part of them and of its
 * counters that a checkpoint keeps.
 */
import type { EmbeddingOptions } from "../embedding.ts";
import type { GradientDescentOptions } from "../optimizer/gradient_descent.ts";
import type { PerplexityOptions } from "../affinity/perplexity.ts";

export interface IncrementalOptions extends EmbeddingOptions {
  /**
   * Iterations for each new step (default 20: the polished result is as good
   * as with more). `embedSteps`' `iterations` is the total of a batch run.
   */
  iterationsPerStep?: number;
  /** Recent embedded steps optimised along with each new one (default 0). */
  window?: number;
  /** Iterations of the final pass over all steps (default 200; 0: none). */
  polish?: number;
  /** Rows for a step already embedded: "error" (StepOrderError, default) or "drop". */
  late?: "error" | "drop";
  /** Rows that make a step complete without waiting for a later step (default: none). */
  instances?: number;
  /**
   * Each table holds whole steps (default false): a step is complete as soon
   * as its table arrives, without waiting for a later step. For sources that
   * gather steps before they pass them on, such as the JetStream consumer.
   */
  wholeSteps?: boolean;
  /** Quality figures in each update frame, of its new steps only (default true); the final frame always has them. */
  quality?: boolean;
  /** k of the neighbourhood quality figures (default 10). */
  k?: number;
  /**
   * Milliseconds an update may spend embedding steps before it returns its
   * frame (default 250; at least one step each update): a burst of steps (a
   * whole recording at once) gives frames this often, the rest following in
   * later updates. The result does not depend on it (steps are embedded one
   * after another either way).
   */
  budgetMs?: number;
  /**
   * Complete steps that may wait to be embedded (default: no limit). When a
   * source outruns the embedder and more wait, the oldest waiting steps are
   * dropped — their rows counted in `droppedRows`, their steps in
   * `droppedSteps`, and later rows for them dropped too — so memory and
   * frame latency stay bounded (latency about `backlog` steps' time).
   */
  backlog?: number;
}

/**
 * The options a checkpoint keeps (functions, such as a custom loss, cannot be
 * saved). Of the optimiser: the built-in's options, or the name of a user's
 * optimiser, which must be passed again to restore. Of the affinity: the
 * built-in's options (its perplexity and metric), with which it is made
 * again on restore.
 */
export type SavedOptions =
  & Pick<
    IncrementalOptions,
    "iterationsPerStep" | "window" | "polish" | "late" | "instances" | "wholeSteps" | "quality" | "k" | "exaggeration" | "pcaComponents" | "init" | "seed" | "spec" | "budgetMs" | "backlog"
  >
  & { optimizer?: GradientDescentOptions; customOptimizer?: string; affinity?: PerplexityOptions };

/** Counters a checkpoint carries so a restored embedder continues exactly. */
export interface Counters {
  updates: number;
  totalIterations: number;
  droppedRows: number;
  /** The highest step any accepted row had (−1: none yet). */
  maxStep: number;
  ended: boolean;
  dim: number;
  /** Steps dropped because the backlog was full, and the highest of them (absent in older checkpoints: none). */
  droppedSteps?: number;
  droppedUpTo?: number;
}
