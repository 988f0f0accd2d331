/**
 * Batch mode: embed a whole step table at once (all steps known up front).
 */
import { readStepTable, type StepTable } from "../../data/step_table.ts";
import type { FrameTable } from "../../data/frame_table.ts";
import { type QualityReport } from "../../quality/report.ts";
import { EvolutionaryEmbedding, type EmbeddingOptions } from "../embedding.ts";
import { splitColumns } from "../../data/per_step.ts";
import { toFrame } from "./frame.ts";
import { initialFree } from "../state/init.ts";
import { measureQuality } from "./measure.ts";
import { random } from "../../util/random.ts";
import { DimensionError } from "../../errors.ts";

/** The fewest instances a step may have: with fewer, no point has a neighbour besides its one other. */
const MIN_INSTANCES = 3;

export interface BatchOptions extends EmbeddingOptions {
  /** Gradient-descent iterations (default 1000). */
  iterations?: number;
  /** k of the neighbourhood quality figures (default 10). */
  k?: number;
  signal?: AbortSignal;
  onProgress?: (progress: { phase: "affinities" | "optimize" | "quality"; done: number; total: number }) => void;
}

export interface EmbeddingResult {
  frame: FrameTable;
  quality: QualityReport;
  embedding: EvolutionaryEmbedding;
  /** Milliseconds spent in each phase. */
  timings: { affinities: number; optimize: number; quality: number };
}

export async function embedSteps(table: StepTable, options: BatchOptions = {}): Promise<EmbeddingResult> {
  const cols = readStepTable(table, { features: true });
  const steps = splitColumns(cols);
  const few = steps.find((s) => s.instance.length < MIN_INSTANCES);
  if (few) {
    throw new DimensionError(
      `step ${few.step} has ${few.instance.length} instance${few.instance.length === 1 ? "" : "s"}: an embedding needs at least ${MIN_INSTANCES} per step (neighbourhoods, and the quality figures, are undefined below that)`,
      { column: "instance" },
    );
  }
  const embedding = new EvolutionaryEmbedding(options);
  embedding.prompts.push(...cols.prompts);
  const t0 = performance.now();
  // Every instance starts at one free coordinate, from the last (most semantic) step.
  const last = steps[steps.length - 1];
  const free = last && initialFree(embedding.prepared(last), last.instance.length, last.dim, embedding.layout, options.init ?? "pca", random(options.seed ?? 0));
  const startOf = new Map<number, number>();
  last?.instance.forEach((id, i) => startOf.set(id, free[i]));
  await embedding.ready(steps.reduce((most, s) => Math.max(most, s.instance.length), 0));
  steps.forEach((s, i) => {
    embedding.addStep(s, Float64Array.from(s.instance, (id) => startOf.get(id) ?? 0));
    options.onProgress?.({ phase: "affinities", done: i + 1, total: steps.length });
  });
  const t1 = performance.now();
  const iterations = options.iterations ?? 1000;
  try {
    await embedding.optimize(iterations, {
      signal: options.signal,
      onProgress: (done, total) => options.onProgress?.({ phase: "optimize", done, total }),
    });
  } finally {
    embedding.dispose();
  }
  const t2 = performance.now();
  const quality = measureQuality(embedding, options.k);
  options.onProgress?.({ phase: "quality", done: 1, total: 1 });
  const t3 = performance.now();
  return {
    frame: toFrame(embedding, quality),
    quality,
    embedding,
    timings: { affinities: t1 - t0, optimize: t2 - t1, quality: t3 - t2 },
  };
}
