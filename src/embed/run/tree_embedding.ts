/**
 * The estimator face of the library, for users of openTSNE and umap-learn:
 * an object configured once by a spec, then `fit` (the batch embedding of a
 * step table), `transform` (new instances placed into the fitted tree
 * without moving it), `partialFit` (more steps, by the incremental
 * embedder, continuing the fitted tree) and `save` / `load` (the
 * incremental embedder's checkpoint, which keeps the spec). Nothing here
 * embeds by itself: `embedSteps`, `IncrementalEmbedder` and
 * `transformSteps` do the work.
 *
 * ```ts
 * const tree = new TreeEmbedding(spec);           // a spec object or its JSON; default: specs/default.json
 * const { frame, quality } = await tree.fit(reference);   // 1000 generations
 * const today = await tree.transform(todaysSteps);        // placed into the same tree
 * await Deno.writeFile("tree.dlc", await tree.save());
 * ```
 */
import type { FrameTable } from "../../data/frame_table.ts";
import type { StepTable } from "../../data/step_table.ts";
import type { QualityReport } from "../../quality/report.ts";
import type { EvolutionaryEmbedding } from "../embedding.ts";
import { perplexityOptions } from "../affinity/perplexity.ts";
import { gradientDescentOptions } from "../optimizer/gradient_descent.ts";
import { finalValue, make, makeLoss, readSpec, type SpecRun, specOptions } from "../spec/compile.ts";
import { type PluginRegistry, plugins } from "../spec/plugin_registry.ts";
import { checkFields, type CompleteSpec, DEFAULT_SPEC, type EmbeddingSpec, TRANSFORM_FIELDS, type TransformSpec } from "../spec/spec.ts";
import { OptionError, SpecError } from "../../errors.ts";
import { type BatchOptions, embedSteps, type EmbeddingResult } from "./batch.ts";
import { writeCheckpoint } from "./checkpoint.ts";
import { toFrame } from "./frame.ts";
import { IncrementalEmbedder } from "./incremental.ts";
import type { IncrementalOptions, SavedOptions } from "./incremental_options.ts";
import { measureQuality } from "./measure.ts";
import { type TransformResult, transformSteps } from "./transform.ts";

export interface TreeEmbeddingOptions {
  /** Where the spec's plugin names are looked up (default `plugins`, which has the built-ins). */
  registry?: PluginRegistry;
}

export interface FitOptions {
  signal?: AbortSignal;
  onProgress?: BatchOptions["onProgress"];
}

/** The spec's `transform` section, overridden for one call, and what the call reports. */
export interface TransformOptions extends TransformSpec {
  /** Quality figures of the fitted and new points together (default true; they cost O(n²) per step). */
  quality?: boolean;
  signal?: AbortSignal;
}

export class TreeEmbedding {
  /** The spec, complete (every default filled in): what frames and checkpoints record. */
  readonly spec: CompleteSpec;
  private readonly registry: PluginRegistry;
  private fitted?: { embedding: EvolutionaryEmbedding; frame: FrameTable; quality?: QualityReport };
  private stream?: IncrementalEmbedder;

  /** Configured once by a spec (an object, or its JSON text; default: the default spec). SpecError when it is malformed. */
  constructor(spec: EmbeddingSpec | string = DEFAULT_SPEC, options: TreeEmbeddingOptions = {}) {
    this.registry = options.registry ?? plugins;
    this.spec = specOptions(spec, this.registry).spec;
  }

  /** The fitted tree's embedding (its steps, layout and prompts); undefined before a fit. */
  get embedding(): EvolutionaryEmbedding | undefined {
    return this.fitted?.embedding;
  }

  /** The fitted tree's latest frame (after `fit`, `partialFit`, `finish` or `load`). */
  get frame(): FrameTable | undefined {
    return this.fitted?.frame;
  }

  /** Embeds a step table as a new tree (any earlier fit is forgotten) and returns its frame and quality report. */
  async fit(table: StepTable, options: FitOptions = {}): Promise<EmbeddingResult> {
    this.forget();
    const result = await embedSteps(table, { ...this.run().options, ...options });
    this.fitted = { embedding: result.embedding, frame: result.frame, quality: result.quality };
    return result;
  }

  /**
   * Embeds more steps by the incremental embedder (the spec's `incremental`
   * section): after a `fit` it continues the fitted tree, each new step
   * warm-started from the one before; otherwise it starts one. Returns the
   * update's frame (undefined while no step is complete); `finish` ends the
   * stream with the polish pass.
   */
  async partialFit(table: StepTable, options: { signal?: AbortSignal } = {}): Promise<FrameTable | undefined> {
    const stream = await this.streaming();
    stream.push(table);
    const frame = await stream.update(options.signal);
    if (frame) this.fitted = { embedding: stream.embedding, frame };
    return frame;
  }

  /** Ends a `partialFit` stream: embeds what is buffered, polishes all steps and returns the final frame. */
  async finish(options: { signal?: AbortSignal } = {}): Promise<FrameTable> {
    const stream = await this.streaming();
    const frame = await stream.finish(options.signal);
    this.fitted = { embedding: stream.embedding, frame };
    return frame;
  }

  /**
   * Places the instances of a step table into the fitted tree, which does
   * not move: each new point is optimised against the fixed fitted points
   * of its step (its affinities to them, as openTSNE's transform), its
   * track aligned across its own steps. Every step of the table must be a
   * fitted step. The frame holds the new instances only, drawn where the
   * fitted frame draws (the same display arrangement).
   */
  async transform(table: StepTable, options: TransformOptions = {}): Promise<TransformResult> {
    const fitted = this.fitted;
    if (!fitted) throw new Error("TreeEmbedding.transform: fit (or load) a tree first");
    const spec = this.spec, registry = this.registry;
    const { quality, signal, ...given } = options;
    const settings = { ...spec.transform, ...checkedTransform(given) };
    const kernel = spec.kernel.type === "student-t" ? { theta: spec.kernel.theta as number, exactBelow: spec.kernel.exactBelow as number } : {};
    return await transformSteps(fitted.embedding, table, {
      affinity: make(registry, "affinity", spec.affinity, "affinity"),
      optimizer: make(registry, "optimizer", spec.optimizer, "optimizer"),
      losses: (anchored) =>
        spec.losses.map((_, i) => {
          const loss = makeLoss(registry, spec, i, true);
          if (!loss.kernel) return loss;
          loss.dispose?.();
          const w = finalValue(spec, i, "weight");
          return anchored(typeof w === "number" ? w : 1);
        }),
      spec,
    }, { ...settings, ...kernel, pcaComponents: spec.pcaComponents, seed: spec.seed, k: spec.k, quality, signal });
  }

  /**
   * The tree as a checkpoint (Arrow IPC, the incremental embedder's format):
   * every fitted step with its features, affinities, points and optimiser
   * state, and the spec. `TreeEmbedding.load` (or `IncrementalEmbedder.restore`) reads it.
   */
  async save(): Promise<Uint8Array> {
    if (this.stream) return await this.stream.checkpoint();
    const fitted = this.fitted;
    if (!fitted) throw new Error("TreeEmbedding.save: nothing is fitted yet");
    const { embedding } = fitted, steps = embedding.steps, options = this.incrementalOptions();
    const saved: SavedOptions = {
      iterationsPerStep: options.iterationsPerStep,
      window: options.window,
      polish: options.polish,
      late: "error",
      quality: true,
      k: options.k,
      exaggeration: options.exaggeration,
      pcaComponents: options.pcaComponents,
      init: options.init,
      seed: options.seed,
      spec: this.spec,
      ...savedPlugins(options),
    };
    return writeCheckpoint({
      steps,
      pending: [],
      prompts: embedding.prompts,
      random: embedding.randomState(),
      counters: {
        updates: 0,
        totalIterations: this.run().options.iterations,
        droppedRows: 0,
        maxStep: steps[steps.length - 1]?.step ?? -1,
        ended: false,
        dim: steps[0]?.dim ?? -1,
      },
      options: saved,
      layout: embedding.layout.name,
    });
  }

  /**
   * A tree saved by `save` (or any checkpoint that recorded a spec), ready
   * to transform into or to continue with `partialFit`. The spec comes from
   * the checkpoint; its plugins from `options.registry`.
   */
  static load(bytes: Uint8Array, options: TreeEmbeddingOptions = {}): TreeEmbedding {
    const spec = readSpec(bytes, options.registry);
    if (!spec) throw new Error("TreeEmbedding.load: the checkpoint records no spec (made by IncrementalEmbedder without one?)");
    const tree = new TreeEmbedding(spec, options);
    const stream = IncrementalEmbedder.restore(bytes, tree.incrementalOptions());
    const embedding = stream.embedding;
    tree.stream = stream;
    const quality = measureQuality(embedding, tree.spec.k);
    tree.fitted = { embedding, frame: toFrame(embedding, quality), quality };
    return tree;
  }

  /** Releases threads and the fitted state. */
  dispose(): void {
    this.forget();
  }

  private forget(): void {
    this.stream?.dispose();
    this.stream = undefined;
    this.fitted?.embedding.dispose();
    this.fitted = undefined;
  }

  private run(): SpecRun {
    return specOptions(this.spec, this.registry);
  }

  private incrementalOptions(): IncrementalOptions & { k: number } {
    const { iterations: _total, ...options } = this.run().options;
    const inc = this.spec.incremental;
    return {
      ...options,
      iterationsPerStep: inc.iterationsPerStep,
      window: inc.window,
      polish: inc.polish,
      exaggeration: { factor: inc.exaggeration, iterations: inc.exaggerationIterations },
    };
  }

  /** The incremental embedder, started (continuing a batch fit, through its checkpoint) if need be. */
  private async streaming(): Promise<IncrementalEmbedder> {
    if (this.stream) return this.stream;
    const options = this.incrementalOptions();
    this.stream = this.fitted ? IncrementalEmbedder.restore(await this.save(), options) : new IncrementalEmbedder(options);
    return this.stream;
  }
}

/** How a checkpoint names the optimiser and the affinity: the built-ins by their options. */
function savedPlugins(options: IncrementalOptions): Pick<SavedOptions, "optimizer" | "customOptimizer" | "affinity"> {
  const optimizer = options.optimizer && gradientDescentOptions(options.optimizer);
  const affinity = options.affinity && perplexityOptions(options.affinity);
  return {
    ...(optimizer ? { optimizer } : { customOptimizer: options.optimizer?.name }),
    ...(affinity ? { affinity } : {}),
  };
}

/** A call's transform options, checked as the spec's `transform` section is (OptionError naming the option). */
function checkedTransform(given: TransformSpec): Partial<Required<TransformSpec>> {
  const defined = Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined));
  try {
    checkFields(defined, TRANSFORM_FIELDS, "");
  } catch (e) {
    if (e instanceof SpecError) throw new OptionError(e.path, e.message.replace(/^spec field [^:]*: /, ""));
    throw e;
  }
  return defined;
}
