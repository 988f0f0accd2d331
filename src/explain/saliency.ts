/**
 * DF-RISE saliency and insertion/deletion over a step table: for the chosen
 * rows (instances × steps), the saliency of the row's x_t (`noisy`) for its
 * own step, and the insertion and deletion curves of that saliency against
 * the random baseline; per step, the mean AUCs. Long: N masks and
 * 2·(stages + 1)·(1 + random orders) denoiser inputs per row, so it reports
 * progress and stops on its signal.
 */
import { OptionError, throwIfAborted } from "../errors.ts";
import { type ImageShape, readStepTable, type StepTable } from "../data/step_table.ts";
import type { Denoiser } from "../sources/denoiser.ts";
import { inputOf, type Provenance } from "./guided.ts";
import { type InsertionDeletion, insertionDeletion, type InsertionOptions } from "./insertion.ts";
import { riseSaliency, type RiseOptions } from "./rise.ts";
import { mean } from "./trajectories.ts";

export interface SaliencyOptions extends Provenance, Omit<RiseOptions, "guidance" | "range" | "signal" | "onProgress"> {
  denoiser: Denoiser;
  /** The steps to explain (default all). */
  steps?: readonly number[];
  /** The instances to explain (default all). */
  instances?: readonly number[];
  /** Insertion and deletion of each saliency (default true), with these options. */
  insertion?: boolean | Omit<InsertionOptions, "guidance" | "range" | "signal">;
  signal?: AbortSignal;
  /** Denoiser inputs evaluated so far and the total, after each batch. */
  onProgress?: (done: number, total: number) => void;
}

export interface SaliencyRow {
  instance: number;
  prompt: string;
  step: number;
  timestep: number;
  /** H×W over x_t. */
  saliency: Float32Array;
  curves?: InsertionDeletion;
  ms: number;
}

export interface SaliencyAtStep {
  step: number;
  rows: number;
  insertionAuc: number;
  deletionAuc: number;
  randomInsertionAuc: number;
  randomDeletionAuc: number;
}

export interface Saliencies {
  rows: SaliencyRow[];
  perStep: SaliencyAtStep[];
  shape: ImageShape;
  /** Masks evaluated per second over the whole run (RISE part only). */
  masksPerSecond: number;
}

export async function explainSaliency(steps: StepTable, options: SaliencyOptions): Promise<Saliencies> {
  const cols = readStepTable(steps, { image: true });
  if (!cols.imageShape) throw new OptionError("steps", "needs images");
  const shape = cols.imageShape;
  const pickSteps = options.steps ? new Set(options.steps) : undefined, pickInstances = options.instances ? new Set(options.instances) : undefined;
  const chosen = [...cols.instance.keys()]
    .filter((r) => (!pickSteps || pickSteps.has(cols.step[r])) && (!pickInstances || pickInstances.has(cols.instance[r])))
    .sort((a, b) => cols.step[a] - cols.step[b] || cols.instance[a] - cols.instance[b]);
  const masks = options.masks ?? 500;
  const ins = options.insertion === false ? undefined : options.insertion === true || options.insertion === undefined ? {} : options.insertion;
  const stages = Math.ceil((shape[1] * shape[2]) / (ins?.pixelsPerStage ?? shape[2]));
  const perRow = masks + 1 + (ins ? 1 + 2 * (stages + 1) * (1 + (ins.randomOrders ?? 1)) : 0);
  const total = chosen.length * perRow;
  const rows: SaliencyRow[] = [];
  let done = 0, riseMs = 0;
  for (const r of chosen) {
    throwIfAborted(options.signal, "the saliency");
    const t0 = performance.now();
    const input = inputOf(cols, r, options);
    const base = done;
    const rise = await riseSaliency(options.denoiser, input, shape, {
      ...options, guidance: options.guidance, range: options.range, signal: options.signal,
      onProgress: (k) => options.onProgress?.((done = base + k), total),
    });
    riseMs += rise.ms;
    const curves = ins ? await insertionDeletion(options.denoiser, input, shape, rise.saliency, { ...ins, guidance: options.guidance, range: options.range, signal: options.signal }) : undefined;
    done = base + perRow;
    options.onProgress?.(done, total);
    rows.push({
      instance: cols.instance[r], prompt: cols.prompts[cols.prompt[r]], step: cols.step[r], timestep: cols.timestep ? cols.timestep[r] : NaN,
      saliency: rise.saliency, curves, ms: performance.now() - t0,
    });
  }
  const perStep: SaliencyAtStep[] = [...new Set(rows.map((row) => row.step))].map((step) => {
    const group = rows.filter((row) => row.step === step);
    const auc = (get: (c: InsertionDeletion) => number | undefined) => mean(group.map((row) => (row.curves ? get(row.curves) ?? NaN : NaN)));
    return {
      step, rows: group.length,
      insertionAuc: auc((c) => c.insertion.auc), deletionAuc: auc((c) => c.deletion.auc),
      randomInsertionAuc: auc((c) => c.randomInsertion?.auc), randomDeletionAuc: auc((c) => c.randomDeletion?.auc),
    };
  });
  return { rows, perStep, shape, masksPerSecond: rows.length ? (rows.length * masks) / (riseMs / 1000) : NaN };
}
