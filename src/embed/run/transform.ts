/**
 * Transform: new instances placed into a fitted tree without moving it, as
 * openTSNE's transform places new points into a fitted t-SNE. Each new
 * point of step t is optimised against the fixed fitted points of step t
 * alone: its affinities to them (`crossAffinities`, in the fitted step's
 * PCA space, at the transform's perplexity) and its own Student-t
 * distribution over them (`anchoredSemantic`); new points do not feel one
 * another. The same engine does the work: the new points of each step are a
 * step of an EvolutionaryEmbedding of their own, in the fitted layout, under
 * the spec's losses at their last phase's values (the displacement well at
 * its narrowest, so new points sit in their lanes as the fitted ones do),
 * the spec's alignment keeping each new instance's track aligned across its
 * own steps, and the spec's optimiser with the fitted step's step size.
 *
 * A new instance starts, in every step, at the median free coordinate of its
 * nearest fitted instances in its last step (openTSNE's "median"
 * initialisation, in the lane's free coordinate), as the batch embedding
 * starts every step of an instance at one free coordinate.
 */
import { readStepTable, type StepTable } from "../../data/step_table.ts";
import { splitColumns } from "../../data/per_step.ts";
import type { FrameTable } from "../../data/frame_table.ts";
import { DimensionError, OptionError } from "../../errors.ts";
import type { Layout } from "../../layouts/layout.ts";
import { type QualityReport, qualityReport, type QualityStep } from "../../quality/report.ts";
import type { Affinity } from "../affinity/affinity.ts";
import { crossAffinities, type ReferenceSpace, referenceSpace } from "../affinity/cross_affinity.ts";
import { EvolutionaryEmbedding } from "../embedding.ts";
import { ReferenceField } from "../kernel/reference_field.ts";
import { type Anchor, anchoredSemantic } from "../losses/anchored_semantic.ts";
import type { Loss } from "../losses/loss.ts";
import { gradientDescent, gradientDescentOptions } from "../optimizer/gradient_descent.ts";
import type { Optimizer } from "../optimizer/optimizer.ts";
import type { StepState } from "../state/state.ts";
import { toFrame } from "./frame.ts";

/** How new instances are placed (the spec's `transform` section, all given). */
export interface TransformSettings {
  iterations: number;
  perplexity: number;
  exaggeration: number;
  neighbors: number;
  /** Barnes-Hut opening angle and exact threshold of the fitted points' field. */
  theta?: number;
  exactBelow?: number;
  /** The PCA components and seed the fitted steps were reduced with. */
  pcaComponents: number;
  seed: number;
  k: number;
  /** Quality figures of the fitted and new points together (default true). */
  quality?: boolean;
  signal?: AbortSignal;
}

/** What the transform is made of: the fitted embedding's affinity (for its `prepare`), and fresh losses and optimiser. */
export interface TransformPlugins {
  affinity: Affinity;
  /**
   * The spec's losses at their last phase's values; each `kernel` one
   * (the semantic loss) is replaced by the anchored one with the weight given.
   */
  losses: (anchored: (weight: number) => Loss) => Loss[];
  optimizer: Optimizer;
  spec?: unknown;
}

export interface TransformResult {
  /** The new instances, in the fitted frame's display coordinates. */
  frame: FrameTable;
  /** Figures of each transformed step's fitted and new points together (absent with `quality: false`). */
  quality?: QualityReport;
  /** The new points' own embedding (its steps: the new instances of each step). */
  embedding: EvolutionaryEmbedding;
  /** Milliseconds: affinities to the fitted points, optimisation, quality. */
  timings: { affinities: number; optimize: number; quality: number };
}

/** The PCA space of each fitted step, made once: a tree is usually transformed into many times. */
const spaces = new WeakMap<StepState, { components: number; seed: number; space: ReferenceSpace }>();

function spaceOf(s: StepState, components: number, seed: number): ReferenceSpace {
  const cached = spaces.get(s);
  if (cached && cached.components === components && cached.seed === seed) return cached.space;
  // The seed the embedding reduced this step with (EvolutionaryEmbedding.reduce).
  const space = referenceSpace(s.features, s.n, s.dim, components, seed + s.step);
  spaces.set(s, { components, seed, space });
  return space;
}

/** Places the instances of `table` into the fitted embedding, which it does not change. */
export async function transformSteps(fitted: EvolutionaryEmbedding, table: StepTable, plugins: TransformPlugins, settings: TransformSettings): Promise<TransformResult> {
  const t0 = performance.now();
  const cols = readStepTable(table, { features: true });
  const inputs = splitColumns(cols);
  const byStep = new Map(fitted.steps.map((s) => [s.step, s]));
  const dim = fitted.steps[0]?.dim;
  for (const input of inputs) {
    if (!byStep.has(input.step)) {
      const steps = fitted.steps.map((s) => s.step);
      throw new OptionError("steps", `step ${input.step} is not in the fitted tree (its steps: ${steps[0]}–${steps[steps.length - 1]}); transform places instances into fitted steps`);
    }
    if (input.dim !== dim) throw new DimensionError(`features have ${input.dim} values per row; the fitted steps have ${dim}`, { column: "features" });
  }
  const layout = pinned(fitted.layout);
  const g = new Float64Array(2);

  // Affinities to the fitted points, and where each new instance starts.
  const prepared = inputs.map((input) => plugins.affinity.prepare?.(input.features, input.instance.length, input.dim) ?? input.features);
  const cross = inputs.map((input, k) =>
    crossAffinities(spaceOf(byStep.get(input.step)!, settings.pcaComponents, settings.seed), prepared[k], input.instance.length, settings.perplexity, settings.neighbors)
  );
  const start = new Map<number, number>();
  for (let k = inputs.length - 1; k >= 0; k--) {
    const input = inputs[k], reference = byStep.get(input.step)!, { neighbors, k: kn } = cross[k];
    const free = Float64Array.from(reference.instance, (_, j) => layout.free(reference.y[2 * j], reference.y[2 * j + 1], g));
    input.instance.forEach((id, i) => {
      if (!start.has(id)) start.set(id, medianFree(Array.from(neighbors.subarray(i * kn, (i + 1) * kn), (j) => free[j]), layout.circular));
    });
  }

  // The new points' own embedding, in the fitted layout.
  const anchors = new Map<StepState, Anchor>();
  const { optimizer, perStep } = scaledOptimizer(plugins.optimizer);
  const embedding = new EvolutionaryEmbedding({
    layout,
    affinity: { name: "anchored", compute: (_f, n) => ({ n, rowPtr: new Int32Array(n + 1), col: new Int32Array(0), val: new Float64Array(0) }) },
    losses: plugins.losses((weight) => anchoredSemantic({ anchors, weight })),
    optimizer,
    exaggeration: { factor: settings.exaggeration, iterations: settings.iterations },
    pcaComponents: 0,
    seed: settings.seed,
    spec: plugins.spec,
  });
  embedding.prompts.push(...fitted.prompts);
  const code = cols.prompts.map((label) => {
    const i = embedding.prompts.indexOf(label);
    return i >= 0 ? i : embedding.prompts.push(label) - 1;
  });
  inputs.forEach((input, k) => {
    const reference = byStep.get(input.step)!;
    const s = embedding.addStep(
      { ...input, prompt: Int32Array.from(input.prompt, (p) => code[p]), features: prepared[k] },
      Float64Array.from(input.instance, (id) => start.get(id)!),
    );
    anchors.set(s, { P: cross[k].P, reference: reference.y, field: new ReferenceField(reference.y, reference.n, settings) });
    perStep.set(s, reference.n);
  });
  const t1 = performance.now();
  try {
    // Where the fitted tree ended: every schedule at its end.
    await embedding.optimize(settings.iterations, { progress: [1, 1], signal: settings.signal });
  } finally {
    embedding.dispose();
  }
  const t2 = performance.now();
  const quality = settings.quality === false ? undefined : combinedQuality(embedding, byStep, settings.k);
  const t3 = performance.now();
  return { frame: toFrame(embedding, quality, fitted), quality, embedding, timings: { affinities: t1 - t0, optimize: t2 - t1, quality: t3 - t2 } };
}

/** The fitted layout as it is: `fit` (which the new embedding calls with its own size) returns it unchanged. */
function pinned(layout: Layout): Layout {
  const fixed: Layout = Object.create(layout);
  Object.defineProperty(fixed, "fit", { value: () => fixed });
  return fixed;
}

/**
 * The built-in optimiser with, for each step of new points, the step size
 * the fitted step had: its learning rate scaled by (new points / fitted
 * points), since the losses' gradients scale with 1 / (new points). A
 * user's optimiser is used as it is.
 */
function scaledOptimizer(base: Optimizer): { optimizer: Optimizer; perStep: Map<StepState, number> } {
  const perStep = new Map<StepState, number>();
  const options = gradientDescentOptions(base);
  if (!options) return { optimizer: base, perStep };
  const made = new Map<StepState, Optimizer>();
  return {
    perStep,
    optimizer: {
      name: base.name,
      update(s, iteration) {
        let o = made.get(s);
        if (!o) {
          const fittedN = perStep.get(s) ?? s.n, rate = options.learningRate ?? "auto";
          const fittedRate = rate === "auto" ? Math.max(fittedN / 4, 50) : rate;
          made.set(s, (o = gradientDescent({ ...options, learningRate: (fittedRate * s.n) / fittedN })));
        }
        o.update(s, iteration);
      },
    },
  };
}

/** The median of free coordinates; a circular one is unwrapped around the first (the nearest neighbour's) first. */
export function medianFree(values: number[], circular: boolean): number {
  if (values.length === 0) return 0;
  const base = values[0];
  const offsets = values.map((v) => (circular ? Math.atan2(Math.sin(v - base), Math.cos(v - base)) : v - base)).sort((a, b) => a - b);
  const m = offsets.length >> 1;
  const median = offsets.length % 2 ? offsets[m] : (offsets[m - 1] + offsets[m]) / 2;
  const f = base + median;
  return circular ? Math.atan2(Math.sin(f), Math.cos(f)) : f;
}

/**
 * The quality figures of the fitted and new points of each transformed step
 * together, measured as a frame's are: the fitted instances present in
 * all of these steps, then the new ones present in all of them.
 */
function combinedQuality(added: EvolutionaryEmbedding, byStep: Map<number, StepState>, k: number): QualityReport {
  const common = (states: StepState[]) => {
    const sets = states.map((s) => new Set(s.instance));
    return states.length === 0 ? [] : [...states[0].instance].filter((id) => sets.every((set) => set.has(id))).sort((a, b) => a - b);
  };
  const fittedStates = added.steps.map((s) => byStep.get(s.step)!);
  const fittedIds = common(fittedStates), newIds = common(added.steps);
  const g = new Float64Array(2), layout = added.layout;
  const input = added.steps.map((s, at): QualityStep => {
    const parts: [StepState, number[]][] = [[fittedStates[at], fittedIds], [s, newIds]];
    const n = fittedIds.length + newIds.length, dim = s.dim;
    const features = new Float32Array(n * dim), position = new Float64Array(2 * n), free = new Float64Array(n), prompt = new Int32Array(n);
    let r = 0;
    for (const [state, ids] of parts) {
      const row = new Map<number, number>();
      state.instance.forEach((id, i) => row.set(id, i));
      for (const id of ids) {
        const i = row.get(id)!;
        features.set(state.features.subarray(i * dim, (i + 1) * dim), r * dim);
        position[2 * r] = state.y[2 * i];
        position[2 * r + 1] = state.y[2 * i + 1];
        free[r] = layout.free(state.y[2 * i], state.y[2 * i + 1], g);
        // Prompt codes of the fitted steps are the fitted embedding's, which the new embedding's list begins with.
        prompt[r++] = state.prompt[i];
      }
    }
    return { step: s.step, features, dim, position, free, prompt };
  });
  return qualityReport(input, { k, circular: layout.circular });
}
