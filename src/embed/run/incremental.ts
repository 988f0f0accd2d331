/**
 * The incremental embedder: steps arrive one at a time during a generation,
 * and each is embedded as soon as it is complete. For step t it computes
 * P_t, starts each instance's new point from its own point at step t − 1
 * (lane t; see EvolutionaryEmbedding.addStep), optimises the new step (and
 * an optional window of recent steps) for a bounded number of iterations
 * against the fixed earlier ones, and makes a frame. At the end of the
 * stream an optional polish pass optimises all steps together.
 *
 * Rows and steps (the policy):
 * - A table may hold several steps, or part of a step (rows of any
 *   instances); rows of a step that is not yet embedded are buffered and
 *   merge, whichever table they came in.
 * - A step is *complete*, and embedded by the next update, once a row of a
 *   later step has arrived, once it holds `instances` rows (when that option
 *   is set), as soon as it arrives (with `wholeSteps`), or once the stream
 *   has ended (`end()`). Steps are embedded in ascending order.
 * - A row for a step that is already embedded (or lower than one) is *late*:
 *   `late: "error"` (default) rejects its table with StepOrderError;
 *   `late: "drop"` drops the row and counts it (`droppedRows` in the frames).
 * - A row whose (instance, step) is already buffered rejects its table with
 *   DuplicateRowError (as does a duplicate within one table).
 * - Every step's features have the dimension of the first (DimensionError).
 * A rejected table changes nothing: validation runs before anything is kept.
 *
 * Backpressure: an update takes every step complete when it starts (several
 * steps, when they arrived faster than the embedder could take them one by
 * one: they are *coalesced* into one frame, which says how many). Nothing
 * queues per step: the buffer holds only rows that arrived since the running
 * update started (and the step still open), and one frame follows each
 * update. Steps are embedded one after another inside an update, so the
 * result does not depend on how arrivals were coalesced: it is reproducible
 * from the seed. An update returns its frame once it has run `budgetMs`
 * (after at least one step), so a burst — 2,000 steps at once — gives a
 * frame every `budgetMs`, not one at the end; the steps left wait for the
 * next update. With `backlog`, at most that many complete steps wait: when
 * the source outruns the embedder the oldest waiting steps are dropped and
 * counted (`droppedSteps`, `droppedRows`), which bounds memory and latency;
 * without it (the default) every step is embedded, late if need be.
 */
import { type FrameTable, type FrameUpdate, setUpdate } from "../../data/frame_table.ts";
import { readStepTable, type StepTable } from "../../data/step_table.ts";
import { DimensionError, DuplicateRowError, OptionError, StepOrderError, throwIfAborted } from "../../errors.ts";
import { readCheckpoint, writeCheckpoint } from "./checkpoint.ts";
import { EvolutionaryEmbedding } from "../embedding.ts";
import { gradientDescent, gradientDescentOptions } from "../optimizer/gradient_descent.ts";
import { perplexityAffinity, perplexityOptions } from "../affinity/perplexity.ts";
import type { Counters, IncrementalOptions, SavedOptions } from "./incremental_options.ts";
import { toFrame } from "./frame.ts";
import { measureQuality } from "./measure.ts";
import type { StepState } from "../state/state.ts";
import { StepBuffer } from "./step_buffer.ts";

/** What the embedder holds and has done, for progress displays and tests. */
export interface IncrementalStats {
  embeddedSteps: number;
  pendingSteps: number;
  pendingRows: number;
  /** The most rows and steps the buffer ever held. */
  peakPendingRows: number;
  peakPendingSteps: number;
  updates: number;
  totalIterations: number;
  droppedRows: number;
  /** Steps dropped because the backlog was full (the `backlog` option). */
  droppedSteps: number;
  /** Whether the stream has ended (`end()` or `finish()`; a checkpoint taken after the final frame says so too). */
  ended: boolean;
}

/**
 * Early exaggeration for the first half of a new step's iterations: with so
 * few iterations it is what lets clusters that split at this step separate.
 */
const EXAGGERATION_SHARE = 0.5;

export class IncrementalEmbedder {
  readonly embedding: EvolutionaryEmbedding;
  private readonly options: Required<Pick<IncrementalOptions, "iterationsPerStep" | "window" | "polish" | "late" | "quality" | "k" | "budgetMs" | "wholeSteps">> & {
    instances?: number;
    backlog?: number;
  };
  private readonly saved: SavedOptions;
  private readonly pending = new StepBuffer();
  private counters: Counters = { updates: 0, totalIterations: 0, droppedRows: 0, maxStep: -1, ended: false, dim: -1 };
  private readonly disposal = new AbortController();
  private queue: Promise<unknown> = Promise.resolve();

  constructor(options: IncrementalOptions = {}) {
    if ("iterations" in options) throw new OptionError("iterations", "is embedSteps' total; the incremental embedder takes iterationsPerStep");
    const iterations = options.iterationsPerStep ?? 20;
    const integer = (name: string, v: number | undefined, min: number) => {
      if (v !== undefined && !(Number.isInteger(v) && v >= min)) throw new OptionError(name, `must be an integer ≥ ${min}, not ${v}`);
    };
    integer("iterationsPerStep", iterations, 1);
    integer("window", options.window, 0);
    integer("polish", options.polish, 0);
    integer("instances", options.instances, 1);
    integer("k", options.k, 1);
    integer("backlog", options.backlog, 1);
    if (options.budgetMs !== undefined && !(options.budgetMs >= 0)) throw new OptionError("budgetMs", `must be a number ≥ 0, not ${options.budgetMs}`);
    if (options.late !== undefined && options.late !== "error" && options.late !== "drop") {
      throw new OptionError("late", `must be "error" or "drop", not ${JSON.stringify(options.late)}`);
    }
    const exaggeration = options.exaggeration ?? { factor: 4, iterations: Math.round(EXAGGERATION_SHARE * iterations) };
    this.embedding = new EvolutionaryEmbedding({ ...options, exaggeration });
    this.options = {
      iterationsPerStep: iterations,
      window: options.window ?? 0,
      polish: options.polish ?? 200,
      late: options.late ?? "error",
      quality: options.quality ?? true,
      k: options.k ?? 10,
      budgetMs: options.budgetMs ?? 250,
      wholeSteps: options.wholeSteps ?? false,
      instances: options.instances,
      backlog: options.backlog,
    };
    const { optimizer, pcaComponents, init, seed, spec } = options;
    // The built-in optimiser is saved by its options; a user's by its name, and is passed again to restore.
    const builtIn = optimizer ? gradientDescentOptions(optimizer) : {};
    // So is the built-in affinity (its metric and perplexity apply to the steps still to come).
    const affinity = options.affinity ? perplexityOptions(options.affinity) : {};
    this.saved = {
      ...this.options,
      exaggeration,
      pcaComponents,
      init,
      seed,
      ...(builtIn ? { optimizer: builtIn } : { customOptimizer: optimizer!.name }),
      ...(affinity ? { affinity } : {}),
      ...(spec !== undefined ? { spec } : {}),
    };
  }

  /**
   * Buffers a step table's rows (validated; see the policy above). Throws a
   * typed error, keeping nothing of the table, when a row is a duplicate or
   * late (with `late: "error"`), or the table is malformed.
   */
  push(table: StepTable): void {
    this.checkOpen();
    const cols = readStepTable(table, { features: true });
    const n = cols.instance.length, dim = cols.featureDim!;
    if (n === 0) return;
    if (this.counters.dim >= 0 && dim !== this.counters.dim) {
      throw new DimensionError(`features have ${dim} values per row; earlier steps had ${this.counters.dim}`, { column: "features" });
    }
    const last = this.embedding.steps[this.embedding.steps.length - 1]?.step ?? -Infinity;
    const droppedUpTo = this.counters.droppedUpTo ?? -Infinity;
    const keep: number[] = [];
    for (let r = 0; r < n; r++) {
      const step = cols.step[r];
      if (step <= last) {
        if (this.options.late === "error") {
          throw new StepOrderError(`row ${r} is for step ${step}, but step ${last} is already embedded`, { row: r });
        }
        continue;
      }
      if (step <= droppedUpTo) continue; // a step the backlog dropped: its later rows go too
      if (this.pending.has(step, cols.instance[r])) throw new DuplicateRowError(cols.instance[r], step, r);
      keep.push(r);
    }
    // Validated: from here on nothing throws.
    this.counters.dim = dim;
    this.counters.droppedRows += n - keep.length;
    const code = cols.prompts.map((label) => {
      const i = this.embedding.prompts.indexOf(label);
      return i >= 0 ? i : this.embedding.prompts.push(label) - 1;
    });
    const byStep = new Map<number, number[]>();
    for (const r of keep) (byStep.get(cols.step[r]) ?? byStep.set(cols.step[r], []).get(cols.step[r])!).push(r);
    for (const [step, rows] of byStep) {
      const features = new Float32Array(rows.length * dim);
      rows.forEach((r, i) => features.set(cols.features!.subarray(r * dim, (r + 1) * dim), i * dim));
      this.pending.add(step, {
        instance: Int32Array.from(rows, (r) => cols.instance[r]),
        prompt: Int32Array.from(rows, (r) => code[cols.prompt[r]]),
        features,
      });
      this.counters.maxStep = Math.max(this.counters.maxStep, step);
    }
    this.markComplete(true);
  }

  /** Marks the end of the stream: every buffered step is complete. */
  end(): void {
    this.counters.ended = true;
    this.markComplete();
  }

  /** Whether a step is complete and waiting for `update`. */
  get ready(): boolean {
    return this.pending.complete() !== undefined;
  }

  /**
   * Embeds the steps complete now, each warm-started from the previous one
   * and optimised for `iterationsPerStep`, and returns the frame (undefined when no
   * step is complete). Updates, the finish and checkpoints run one at a
   * time, in call order. The signal, or `dispose()`, stops it within one
   * batch of iterations (CancelledError).
   */
  update(signal?: AbortSignal): Promise<FrameTable | undefined> {
    return this.serial(async () => {
      const started = performance.now();
      const run = await this.embedComplete(this.stopper(signal));
      if (!run) return undefined;
      const quality = this.options.quality ? measureQuality({ steps: run.added, layout: this.embedding.layout, kernel: this.embedding.kernel }, this.options.k) : undefined;
      return this.frame(quality, { ...run, started, final: false, polish: 0 });
    });
  }

  /**
   * The end of the stream: embeds whatever is still buffered, runs the
   * polish pass over all steps and returns the final frame, with the
   * quality figures of every step. An embedder left unfinished should be
   * disposed, which releases its threads.
   */
  finish(signal?: AbortSignal): Promise<FrameTable> {
    return this.serial(async () => {
      const stop = this.stopper(signal);
      const started = performance.now();
      this.end();
      // Every step still buffered, however long it takes: the budget paces updates, not the end.
      const runs = [];
      for (let run = await this.embedComplete(stop); run; run = await this.embedComplete(stop)) runs.push(run);
      const polish = this.embedding.steps.length > 0 ? this.options.polish : 0;
      // All steps together, through the σ schedule again; the clusters are formed, so no exaggeration.
      if (polish > 0) await this.embedding.optimize(polish, { signal: stop, exaggerate: false });
      throwIfAborted(stop, "incremental embedding");
      // The stream is over: release the losses' threads (the embedding keeps working should more come).
      this.embedding.dispose();
      this.counters.totalIterations += polish;
      const quality = measureQuality(this.embedding, this.options.k);
      const added = runs.flatMap((r) => r.added), iterations = runs.reduce((sum, r) => sum + r.iterations, polish);
      return this.frame(quality, { added, iterations, since: runs[0]?.since ?? started, started, final: true, polish });
    });
  }

  /** Whether the row (instance, step) is embedded or buffered: what a source that delivers again must not push twice. */
  holds(instance: number, step: number): boolean {
    if (this.pending.has(step, instance)) return true;
    const embedded = this.embedding.steps.find((s) => s.step === step);
    if (!embedded) return false;
    // A step's rows are sorted by instance.
    let lo = 0, hi = embedded.n - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1, id = embedded.instance[mid];
      if (id === instance) return true;
      if (id < instance) lo = mid + 1;
      else hi = mid - 1;
    }
    return false;
  }

  get stats(): IncrementalStats {
    const { rows, steps } = this.pending.size();
    return {
      embeddedSteps: this.embedding.steps.length,
      pendingSteps: steps,
      pendingRows: rows,
      peakPendingRows: this.pending.peak.rows,
      peakPendingSteps: this.pending.peak.steps,
      updates: this.counters.updates,
      totalIterations: this.counters.totalIterations,
      droppedRows: this.counters.droppedRows,
      droppedSteps: this.counters.droppedSteps ?? 0,
      ended: this.counters.ended,
    };
  }

  /**
   * The embedder's whole state as an Arrow IPC file: every embedded step
   * (features, affinities, points, gains, velocities), the buffered rows,
   * the random generator, the counters and the options that can be saved.
   * It waits for a running update to finish, so it always holds whole steps.
   */
  checkpoint(): Promise<Uint8Array> {
    return this.serial(() => writeCheckpoint({
      steps: this.embedding.steps,
      pending: this.pending.all(this.counters.dim),
      prompts: this.embedding.prompts,
      random: this.embedding.randomState(),
      counters: this.counters,
      options: this.saved,
      layout: this.embedding.layout.name,
    }));
  }

  /**
   * An embedder that continues exactly where the checkpointed one stopped.
   * The saved options apply unless `options` overrides them; a custom layout,
   * affinity, loss or optimiser must be passed again (the layout's and the
   * optimiser's names are checked). The built-in optimiser is restored with
   * its saved options.
   */
  static restore(bytes: Uint8Array, options: IncrementalOptions = {}): IncrementalEmbedder {
    const c = readCheckpoint(bytes);
    const { optimizer: builtIn, customOptimizer, affinity, ...saved } = c.options;
    if (customOptimizer !== undefined && options.optimizer?.name !== customOptimizer) {
      throw new OptionError("optimizer", `the checkpoint was made with the optimiser "${customOptimizer}": pass it again`);
    }
    const embedder = new IncrementalEmbedder({
      ...saved,
      ...options,
      optimizer: options.optimizer ?? gradientDescent(builtIn),
      affinity: options.affinity ?? perplexityAffinity(affinity),
    });
    if (embedder.embedding.layout.name !== c.layout) {
      throw new OptionError("layout", `the checkpoint was made with the ${c.layout} layout, not ${embedder.embedding.layout.name}`);
    }
    embedder.embedding.prompts.push(...c.prompts);
    embedder.embedding.restore(c.steps, c.random);
    embedder.counters = { ...c.counters };
    for (const p of c.pending) embedder.pending.add(p.step, p);
    embedder.markComplete();
    return embedder;
  }

  /** Stops and frees everything the embedder holds; later calls throw CancelledError. */
  dispose(): void {
    this.disposal.abort();
    this.pending.clear();
    this.embedding.steps.length = 0;
    this.embedding.dispose();
  }

  private checkOpen(): void {
    throwIfAborted(this.disposal.signal, "incremental embedding");
  }

  /** Runs `work` after everything queued before it. */
  private serial<T>(work: () => T | Promise<T>): Promise<T> {
    const run = this.queue.then(() => {
      this.checkOpen();
      return work();
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** A signal that fires on the caller's signal or on dispose(). */
  private stopper(signal: AbortSignal | undefined): AbortSignal {
    return signal ? AbortSignal.any([signal, this.disposal.signal]) : this.disposal.signal;
  }

  /**
   * Embeds the complete steps in order, each optimised on its own (with
   * the window); undefined when none is complete.
   */
  private async embedComplete(stop: AbortSignal): Promise<{ added: StepState[]; iterations: number; since: number } | undefined> {
    const complete = this.pending.complete();
    if (!complete) return undefined;
    const added: StepState[] = [];
    let iterations = 0;
    const started = performance.now();
    // A large first step's exact search waits for the affinity's threads (once; the steps are looked up afresh after).
    const first = this.pending.next(complete.upTo);
    if (first !== undefined) await this.embedding.ready(this.pending.rows(first));
    // Steps up to `upTo` that arrive meanwhile (filling gaps) are taken too, in order, while the budget lasts.
    for (let step = this.pending.next(complete.upTo); step !== undefined; step = this.pending.next(complete.upTo)) {
      if (added.length > 0 && performance.now() - started >= this.options.budgetMs) break;
      throwIfAborted(stop, "incremental embedding");
      added.push(this.embedding.addStep(this.pending.take(step, this.counters.dim)));
      const first = this.embedding.steps.length - 1 - this.options.window;
      await this.embedding.optimize(this.options.iterationsPerStep, { active: (_, i) => i >= first, signal: stop });
      iterations += this.options.iterationsPerStep;
    }
    throwIfAborted(stop, "incremental embedding");
    this.counters.totalIterations += iterations;
    return { added, iterations, since: complete.since };
  }

  /** Marks the complete steps; after a push, drops the oldest waiting beyond the backlog (the stream's end adds none). */
  private markComplete(afterPush = false): void {
    this.pending.markComplete(this.counters.maxStep, this.counters.ended, this.options.instances, this.options.wholeSteps);
    const { backlog } = this.options;
    if (backlog === undefined || !afterPush) return;
    const waiting = this.pending.completeSteps();
    for (const step of waiting.slice(0, Math.max(0, waiting.length - backlog))) {
      this.counters.droppedRows += this.pending.drop(step);
      this.counters.droppedSteps = (this.counters.droppedSteps ?? 0) + 1;
      this.counters.droppedUpTo = Math.max(this.counters.droppedUpTo ?? -Infinity, step);
    }
  }

  private frame(
    quality: unknown,
    u: { added: StepState[]; iterations: number; started: number; since: number; final: boolean; polish: number },
  ): FrameTable {
    const now = performance.now();
    this.counters.updates++;
    const update: FrameUpdate = {
      update: this.counters.updates,
      steps: u.added.map((s) => s.step),
      coalesced: u.added.length,
      iterations: u.iterations,
      totalIterations: this.counters.totalIterations,
      ms: now - u.started,
      latencyMs: now - u.since,
      pendingRows: this.pending.size().rows,
      droppedRows: this.counters.droppedRows,
      droppedSteps: this.counters.droppedSteps ?? 0,
      final: u.final,
      polish: u.polish,
    };
    return setUpdate(toFrame(this.embedding, quality), update);
  }
}
