/**
 * The evolutionary embedding (TDL/EvolvED): one 2-D point per (instance,
 * step), optimised under the sum of the configured losses. Steps are added
 * one at a time, so the same object serves the batch embedder and the
 * incremental one that warm-starts each newly arrived step.
 */
import { DimensionError, NonFiniteError, OptionError, OutOfRangeError, StepOrderError, throwIfAborted } from "../errors.ts";
import { type Backend, backendKernel } from "./kernel/webgpu/webgpu_kernel.ts";
import { pca } from "../linalg/pca.ts";
import type { Layout } from "../layouts/layout.ts";
import { radial } from "../layouts/radial.ts";
import { random, type Random, type RandomState, resumeRandom } from "../util/random.ts";
import type { Affinity, AffinityHint } from "./affinity/affinity.ts";
import { perplexityAffinity } from "./affinity/perplexity.ts";
import type { StepInput } from "../data/per_step.ts";
import { type InitMode, initialFree } from "./state/init.ts";
import { alignment } from "./losses/alignment.ts";
import { displacement } from "./losses/displacement.ts";
import type { Loss, LossContext } from "./losses/loss.ts";
import { semantic } from "./losses/semantic.ts";
import type { Kernel } from "./kernel/kernel.ts";
import { studentT } from "./kernel/student_t.ts";
import { gradientDescent } from "./optimizer/gradient_descent.ts";
import type { Optimizer } from "./optimizer/optimizer.ts";
import { linkSteps, type StepState, stepState } from "./state/state.ts";

export interface EmbeddingOptions {
  layout?: Layout;
  affinity?: Affinity;
  /** The objective; default semantic + displacement + alignment. */
  losses?: Loss[];
  /**
   * Where the default semantic loss computes its gradient: "cpu" (default),
   * "webgpu" (any adapter that passes validation, software ones included)
   * or "auto" (a hardware adapter that passes validation); both fall back
   * to the CPU. With your own `losses`, give semantic() a webgpuKernel().
   */
  backend?: Backend;
  /**
   * The WebGPU entry point of `backend` (default `navigator.gpu`): in Node,
   * e.g. `create([])` from the `webgpu` package (Dawn), which finds a GPU
   * where Vulkan does.
   */
  gpu?: GPU;
  /**
   * What moves the points from the losses' gradient: default
   * `gradientDescent()`; its options go through `gradientDescent(options)`.
   */
  optimizer?: Optimizer;
  /** Early exaggeration of the attraction: factor and number of iterations. */
  exaggeration?: { factor: number; iterations: number };
  /** PCA components a step's features are reduced to before its affinities (0: never). */
  pcaComponents?: number;
  init?: InitMode;
  seed?: number;
  /**
   * The declarative spec these options were made from (JSON; see
   * src/embed/spec), when they were: frames record it (`diffusion-life.spec`)
   * and checkpoints keep it, so a picture can be made again from its file.
   */
  spec?: unknown;
}

export interface OptimizeOptions {
  /** Which steps move; the others are held fixed. Default: all. */
  active?: (state: StepState, index: number) => boolean;
  /** Where this run sits in the overall schedule (σ, weights), as progress fractions. */
  progress?: [from: number, to: number];
  /** Whether this run starts with early exaggeration (default true). */
  exaggerate?: boolean;
  signal?: AbortSignal;
  /** Called every `reportEvery` iterations and at the end. */
  onProgress?: (done: number, total: number) => void;
  reportEvery?: number;
}

export class EvolutionaryEmbedding {
  /** The layout, fitted to the first step's size. */
  layout: Layout;
  /** The low-dimensional kernel: the first loss's that has one (the semantic loss's), else Student-t. The quality report's KL uses it. */
  readonly kernel: Kernel;
  readonly steps: StepState[] = [];
  readonly prompts: string[] = [];
  /** The spec the options were made from (`EmbeddingOptions.spec`), if any. */
  readonly spec?: unknown;
  private readonly affinity: Affinity;
  private readonly losses: Loss[];
  private readonly optimizer: Optimizer;
  private readonly exaggeration: { factor: number; iterations: number };
  private readonly pcaComponents: number;
  private readonly init: InitMode;
  private rng: Random;
  private readonly seed: number;
  private readonly point = new Float64Array(2);
  private readonly g = new Float64Array(2);

  constructor(options: EmbeddingOptions = {}) {
    this.layout = options.layout ?? radial();
    this.affinity = options.affinity ?? perplexityAffinity();
    if (options.losses && options.backend) throw new OptionError("backend", "applies to the default losses; with your own, give semantic() a webgpuKernel()");
    if (options.gpu && (options.backend ?? "cpu") === "cpu") throw new OptionError("gpu", 'applies with backend "webgpu" or "auto"');
    this.losses = options.losses ?? [semantic({ kernel: backendKernel(options.backend ?? "cpu", options.gpu) }), displacement(), alignment()];
    this.kernel = this.losses.find((l) => l.kernel)?.kernel ?? studentT();
    if (options.optimizer && typeof options.optimizer.update !== "function") {
      throw new OptionError("optimizer", "must be an Optimizer; the built-in's options go through gradientDescent({ … })");
    }
    this.optimizer = options.optimizer ?? gradientDescent();
    this.exaggeration = options.exaggeration ?? { factor: 4, iterations: 100 };
    this.pcaComponents = options.pcaComponents ?? 50;
    this.init = options.init ?? "pca";
    this.seed = options.seed ?? 0;
    this.spec = options.spec;
    this.rng = random(this.seed);
    if (this.pcaComponents < 0) throw new OptionError("pcaComponents", "must be ≥ 0");
  }

  /**
   * Adds a step after the last one. Each instance starts at its free
   * coordinate in the previous step (a warm start); instances new to the
   * embedding start from `start` when given, else from the initialisation.
   * `start` is either each point's free coordinate (n values), placed on
   * the step's lane, or `{ y }`: each point's position in the optimisation
   * frame (n×2, row-major), an initialisation of your own (a saved layout;
   * the first two principal components, for a t-SNE of one step without
   * lanes), which every point starts from, warm start or not.
   *
   * @example
   * embedding.addStep(step, { y: positions });
   */
  addStep(input: StepInput, start?: Float64Array | { y: Float64Array }): StepState {
    if (!(Number.isSafeInteger(input.step) && input.step >= 0)) {
      throw new OutOfRangeError(`step ${input.step} is not a step: steps count from 0, the noisiest`, { column: "step" });
    }
    const last = this.steps[this.steps.length - 1];
    if (last && input.step <= last.step) {
      throw new StepOrderError(`step ${input.step} arrived after step ${last.step} was embedded`);
    }
    const n = input.instance.length;
    const free = start instanceof Float64Array ? start : undefined, y = start instanceof Float64Array ? undefined : start?.y;
    if (free && free.length !== n) throw new DimensionError(`addStep: ${free.length} free coordinates for the ${n} instances of step ${input.step}`);
    if (y && y.length !== 2 * n) throw new DimensionError(`addStep: start.y holds ${y.length} values for the ${n} instances of step ${input.step}, expected ${2 * n} (n×2)`);
    const bad = y?.findIndex((v) => !Number.isFinite(v)) ?? -1;
    if (bad >= 0) throw new NonFiniteError("start.y", bad >> 1);
    if (!last) this.layout = this.layout.fit(n);
    const features = this.prepared(input);
    const reduced = this.reduce({ ...input, features });
    const state = stepState({
      step: input.step,
      n,
      instance: input.instance,
      prompt: input.prompt,
      features,
      dim: input.dim,
      P: this.affinity.compute(reduced.values, n, reduced.dim, last && neighborHint(last, input.instance)),
      y: new Float64Array(2 * n),
    });
    if (y) state.y.set(y);
    else {
      const previous = new Map<number, number>();
      if (last) last.instance.forEach((id, i) => previous.set(id, this.layout.free(last.y[2 * i], last.y[2 * i + 1], this.g)));
      // Initial coordinates are needed only for instances new to the embedding.
      const known = input.instance.every((id) => previous.has(id));
      const initial = free ?? (known ? undefined : initialFree(reduced.values, n, reduced.dim, this.layout, this.init, this.rng));
      for (let i = 0; i < n; i++) {
        const f = previous.get(input.instance[i]) ?? initial![i];
        this.layout.place(input.step, f, 0.1 * this.rng.normal(), this.point);
        state.y[2 * i] = this.point[0];
        state.y[2 * i + 1] = this.point[1];
      }
    }
    if (last) linkSteps(last, state);
    this.steps.push(state);
    return state;
  }

  /**
   * Runs `iterations` of gradient descent over the active steps, yielding to
   * the event loop every few milliseconds so that progress can be shown and
   * an abort signal can stop it.
   */
  async optimize(iterations: number, options: OptimizeOptions = {}): Promise<void> {
    const active = Uint8Array.from(this.steps, (s, i) => (options.active ? +options.active(s, i) : 1));
    const [from, to] = options.progress ?? [0, 1];
    const exaggerate = options.exaggerate ?? true;
    const every = options.reportEvery ?? 50;
    const context = (it: number): LossContext => ({
      steps: this.steps,
      active,
      layout: this.layout,
      progress: from + ((to - from) * it) / iterations,
      exaggeration: exaggerate && it < this.exaggeration.iterations ? this.exaggeration.factor : 1,
    });
    throwIfAborted(options.signal, "embedding");
    // Losses that begin on other threads are completed last, so that this thread computes the others meanwhile.
    const order = [...this.losses.filter((l) => !l.begin), ...this.losses.filter((l) => l.begin)];
    for (const loss of this.losses) await loss.prepare?.(context(0));
    try {
      let lastYield = performance.now();
      for (let it = 0; it < iterations; it++) {
        if (performance.now() - lastYield > 40) {
          await new Promise((resolve) => setTimeout(resolve, 0));
          lastYield = performance.now();
        }
        throwIfAborted(options.signal, "embedding");
        const ctx = context(it);
        for (const loss of order) loss.begin?.(ctx);
        for (const loss of order) {
          const pending = loss.gradient(ctx);
          if (pending) await pending;
        }
        this.steps.forEach((s, i) => active[i] && this.optimizer.update(s, it));
        if (options.onProgress && ((it + 1) % every === 0 || it + 1 === iterations)) options.onProgress(it + 1, iterations);
      }
    } finally {
      for (const loss of this.losses) await loss.finish?.();
    }
  }

  /**
   * Starts the affinity's threads for steps of n points and resolves once
   * they are started (`Affinity.ready`), so that a large first step's exact
   * neighbour search is shared out over them: `addStep` is synchronous and
   * cannot wait for them itself. The losses start their threads too
   * (`Loss.ready`), which then come up while the affinities are computed.
   *
   * @example
   * await embedding.ready(step.instance.length);
   * embedding.addStep(step);
   */
  async ready(n: number): Promise<void> {
    await Promise.all([this.affinity.ready?.(n), ...this.losses.map((loss) => loss.ready?.(n))]);
  }

  /** Releases the threads the losses and the affinity hold; the embedding still works afterwards. */
  dispose(): void {
    for (const loss of this.losses) loss.dispose?.();
    this.affinity.dispose?.();
  }

  /** The random generator's state, which a checkpoint needs to continue exactly. */
  randomState(): RandomState {
    return this.rng.save();
  }

  /**
   * Resumes a fresh embedding from a checkpoint: its steps (in order, with
   * their optimiser state) and its random generator's state, so that it
   * continues exactly as the embedding that was saved.
   */
  restore(steps: readonly StepState[], randomState: RandomState): void {
    if (this.steps.length > 0) throw new OptionError("restore", "the embedding already has steps");
    if (steps.length > 0) this.layout = this.layout.fit(steps[0].n);
    steps.forEach((s, i) => {
      if (i > 0) linkSteps(steps[i - 1], s);
      this.steps.push(s);
    });
    this.rng = resumeRandom(randomState);
  }

  /** Loss values at the end of the schedule, by loss name. */
  lossValues(): Record<string, number> {
    const ctx: LossContext = { steps: this.steps, active: new Uint8Array(this.steps.length).fill(1), layout: this.layout, progress: 1, exaggeration: 1 };
    return Object.fromEntries(this.losses.map((l) => [l.name, l.value(ctx)]));
  }

  /** A step's features as the affinity measures them (`Affinity.prepare`: unit rows for the cosine metric), which the step keeps. */
  prepared(input: StepInput): Float32Array {
    return this.affinity.prepare?.(input.features, input.instance.length, input.dim) ?? input.features;
  }

  private reduce(input: StepInput): { values: ArrayLike<number>; dim: number } {
    const n = input.instance.length, c = this.pcaComponents;
    if (c === 0 || input.dim <= c || n <= c) return { values: input.features, dim: input.dim };
    const { scores, components } = pca(input.features, n, input.dim, c, this.seed + input.step);
    return { values: scores, dim: components };
  }
}

/**
 * The previous step's P as a neighbour graph for a step with the given
 * instances: its rows and columns re-indexed by instance (new instances get
 * empty rows, vanished ones column −1). P is the state a checkpoint keeps, so
 * a restored embedding gets the same hint.
 */
function neighborHint(last: StepState, instance: Int32Array): AffinityHint {
  const { rowPtr: pr, col: pc } = last.P;
  // The usual stream: the same instances in the same rows, so P serves as it is.
  if (instance.length === last.n && instance.every((id, i) => id === last.instance[i])) return { rowPtr: pr, col: pc };
  const row = new Map<number, number>();
  instance.forEach((id, i) => row.set(id, i));
  const prevRow = Int32Array.from(instance, () => -1), nowRow = Int32Array.from(last.instance, (id) => row.get(id) ?? -1);
  nowRow.forEach((i, p) => i >= 0 && (prevRow[i] = p));
  const rowPtr = new Int32Array(instance.length + 1);
  prevRow.forEach((p, i) => (rowPtr[i + 1] = rowPtr[i] + (p < 0 ? 0 : pr[p + 1] - pr[p])));
  const col = new Int32Array(rowPtr[instance.length]);
  prevRow.forEach((p, i) => {
    if (p < 0) return;
    for (let e = pr[p], o = rowPtr[i]; e < pr[p + 1]; e++, o++) col[o] = nowRow[pc[e]];
  });
  return { rowPtr, col };
}
