/**
 * A step table cut by step: into per-step inputs of the embedding (features
 * only, rows sorted by instance), or into one step table per step.
 */
import { buildStepTable, readStepTable, type StepColumns, type StepTable } from "./step_table.ts";

/** One step's input to the embedding: the rows of one denoising step, sorted by instance. */
export interface StepInput {
  step: number;
  instance: Int32Array;
  prompt: Int32Array;
  features: Float32Array;
  dim: number;
}

/** Splits a validated step table into per-step inputs, rows sorted by instance. */
export function splitSteps(table: StepTable): StepInput[] {
  return splitColumns(readStepTable(table, { features: true }));
}

/** `splitSteps` on columns already read (with features), for stages that read the table once. */
export function splitColumns(cols: StepColumns): StepInput[] {
  const dim = cols.featureDim!, features = cols.features!;
  const rows = new Map<number, number[]>();
  cols.step.forEach((s, r) => (rows.get(s) ?? rows.set(s, []).get(s)!).push(r));
  return [...rows.keys()].sort((a, b) => a - b).map((step) => {
    const r = rows.get(step)!.sort((a, b) => cols.instance[a] - cols.instance[b]);
    const f = new Float32Array(r.length * dim);
    r.forEach((row, i) => f.set(features.subarray(row * dim, (row + 1) * dim), i * dim));
    return {
      step,
      instance: Int32Array.from(r, (row) => cols.instance[row]),
      prompt: Int32Array.from(r, (row) => cols.prompt[row]),
      features: f,
      dim,
    };
  });
}

/**
 * One step table per step (steps ascending, rows in their order), every
 * column kept: what a replay feeds a live pipeline one step at a time when a
 * recording holds several steps per record batch.
 */
export function tablesPerStep(table: StepTable): StepTable[] {
  const cols = readStepTable(table);
  const rows = new Map<number, number[]>();
  cols.step.forEach((s, r) => (rows.get(s) ?? rows.set(s, []).get(s)!).push(r));
  if (rows.size <= 1) return [table];
  return [...rows.keys()].sort((a, b) => a - b).map((step) => buildStepTable(selectRows(cols, rows.get(step)!)));
}

/** The given rows of a step table's columns, in the given order, every column kept. */
export function selectRows(cols: StepColumns, rows: readonly number[]): StepColumns {
  const n = Math.max(cols.instance.length, 1);
  const pick = <A extends Int32Array | Float32Array>(values: A | undefined): A | undefined => {
    if (!values) return undefined;
    const width = values.length / n;
    const out = new (values.constructor as new (length: number) => A)(rows.length * width);
    rows.forEach((r, i) => out.set(values.subarray(r * width, (r + 1) * width), i * width));
    return out;
  };
  return {
    ...cols,
    instance: pick(cols.instance)!,
    prompt: pick(cols.prompt)!,
    step: pick(cols.step)!,
    timestep: pick(cols.timestep),
    image: pick(cols.image),
    noisy: pick(cols.noisy),
    features: pick(cols.features),
  };
}
