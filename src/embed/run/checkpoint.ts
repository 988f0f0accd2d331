/**
 * Checkpoints of the incremental embedder: one Arrow IPC file, one row per
 * (instance, step), the embedded steps first (in order, each step's rows in
 * the embedding's order), then the buffered rows of steps not yet embedded.
 *
 * | column                     | Arrow type                 | meaning                                      |
 * |----------------------------|----------------------------|----------------------------------------------|
 * | instance, prompt, step     | as in the step table       |                                              |
 * | features                   | FixedSizeList<Float32>     | the step's features                          |
 * | x, y                       | Float64                    | point in the optimisation frame (0 if buffered) |
 * | gainX, gainY               | Float64                    | optimiser gains                              |
 * | velocityX, velocityY       | Float64                    | optimiser velocity                           |
 * | affinityIndex              | List<Int32>                | row of P_t: columns (rows of the same step)  |
 * | affinityValue              | List<Float64>              | row of P_t: values                           |
 *
 * Schema metadata `diffusion-life.checkpoint`: JSON with the format version,
 * the row count of each embedded and each buffered step, the prompt labels
 * in the embedder's order, the random generator's state, the counters and
 * the saved options. Affinities are stored rather than recomputed, so a
 * checkpoint restores bit for bit in any runtime.
 */
import { Table, tableFromIPC, tableToIPC } from "apache-arrow";
import {
  dictionaryColumn,
  float64Column,
  int32Column,
  listColumn,
  readDictionary,
  readFloat64,
  readInt32,
  readList,
  readVectors,
  vectorColumn,
} from "../../data/columns.ts";
import { SchemaError } from "../../errors.ts";
import type { RandomState } from "../../util/random.ts";
import type { StepInput } from "../../data/per_step.ts";
import type { Counters, SavedOptions } from "./incremental_options.ts";
import { type StepState, stepState } from "../state/state.ts";

export const CHECKPOINT_KEY = "diffusion-life.checkpoint";
const VERSION = 1;

export interface Checkpoint {
  steps: readonly StepState[];
  pending: StepInput[];
  prompts: string[];
  random: RandomState;
  counters: Counters;
  options: SavedOptions;
  layout: string;
}

interface Meta {
  version: number;
  steps: [step: number, rows: number][];
  pending: [step: number, rows: number][];
  prompts: string[];
  /** JSON has no NaN: the spare normal deviate is null when there is none. */
  random: (number | null)[];
  counters: Counters;
  options: SavedOptions;
  layout: string;
}

export function writeCheckpoint(c: Checkpoint): Uint8Array {
  const parts = [...c.steps, ...c.pending];
  const total = parts.reduce((sum, s) => sum + s.instance.length, 0);
  const dim = Math.max(c.counters.dim, 1);
  const cat32 = (pick: (s: StepInput) => Int32Array) => concat(parts.map(pick), new Int32Array(total));
  const state = (pick: (s: StepState) => Float64Array, k: 0 | 1) => {
    const out = new Float64Array(total);
    let row = 0;
    for (const s of c.steps) for (let i = 0; i < s.n; i++) out[row++] = pick(s)[2 * i + k];
    return out;
  };
  const offsets = new Int32Array(total + 1);
  let row = 0;
  for (const s of c.steps) for (let i = 0; i < s.n; i++, row++) offsets[row + 1] = offsets[row] + s.P.rowPtr[i + 1] - s.P.rowPtr[i];
  offsets.fill(offsets[row], row + 1);
  const table = new Table({
    instance: int32Column(cat32((s) => s.instance)),
    prompt: dictionaryColumn(cat32((s) => s.prompt), c.prompts),
    step: int32Column(Int32Array.from(parts.flatMap((s) => Array(s.instance.length).fill(s.step)))),
    features: vectorColumn(concat(parts.map((s) => s.features), new Float32Array(total * dim)), dim),
    x: float64Column(state((s) => s.y, 0)),
    y: float64Column(state((s) => s.y, 1)),
    gainX: float64Column(state((s) => s.gains, 0)),
    gainY: float64Column(state((s) => s.gains, 1)),
    velocityX: float64Column(state((s) => s.velocity, 0)),
    velocityY: float64Column(state((s) => s.velocity, 1)),
    affinityIndex: listColumn(concat(c.steps.map((s) => s.P.col), new Int32Array(offsets[total])), offsets),
    affinityValue: listColumn(concat(c.steps.map((s) => s.P.val), new Float64Array(offsets[total])), offsets),
  } as never);
  const meta: Meta = {
    version: VERSION,
    steps: c.steps.map((s) => [s.step, s.n]),
    pending: c.pending.map((s) => [s.step, s.instance.length]),
    prompts: c.prompts,
    random: c.random.map((v) => (Number.isNaN(v) ? null : v)),
    counters: c.counters,
    options: c.options,
    layout: c.layout,
  };
  table.schema.metadata.set(CHECKPOINT_KEY, JSON.stringify(meta));
  return tableToIPC(table, "file");
}

export function readCheckpoint(bytes: Uint8Array): Checkpoint {
  const table = tableFromIPC(bytes);
  const raw = table.schema.metadata.get(CHECKPOINT_KEY);
  if (!raw) throw new SchemaError("missing-column", `not a checkpoint: no "${CHECKPOINT_KEY}" metadata`);
  const meta = JSON.parse(raw) as Meta;
  if (meta.version !== VERSION) throw new SchemaError("wrong-type", `checkpoint format ${meta.version} is not ${VERSION}`);
  const instance = readInt32(table, "instance"), step = readInt32(table, "step");
  const { codes, labels } = readDictionary(table, "prompt");
  const prompt = Int32Array.from(codes, (code) => meta.prompts.indexOf(labels[code]));
  const { values: features, dim } = readVectors(table, "features");
  const [x, y, gx, gy, vx, vy] = ["x", "y", "gainX", "gainY", "velocityX", "velocityY"].map((name) => readFloat64(table, name));
  const index = readList(table, "affinityIndex", "int32"), value = readList(table, "affinityValue", "float64");

  let row = 0;
  const input = ([s, n]: [number, number]): StepInput => {
    const from = row;
    row += n;
    if (step[from] !== s) throw new SchemaError("wrong-type", `checkpoint rows ${from}..${row - 1} are not step ${s}`, { column: "step", row: from });
    return {
      step: s,
      instance: instance.slice(from, row),
      prompt: prompt.slice(from, row),
      features: features.slice(from * dim, row * dim),
      dim,
    };
  };
  const interleave = (a: Float64Array, b: Float64Array, from: number, n: number) => {
    const out = new Float64Array(2 * n);
    for (let i = 0; i < n; i++) [out[2 * i], out[2 * i + 1]] = [a[from + i], b[from + i]];
    return out;
  };
  const steps = meta.steps.map((segment) => {
    const from = row, s = input(segment), n = s.instance.length;
    const base = index.offsets[from];
    const state = stepState({
      ...s,
      n,
      P: {
        n,
        rowPtr: Int32Array.from(index.offsets.subarray(from, from + n + 1), (o) => o - base),
        col: index.values.slice(base, index.offsets[from + n]),
        val: value.values.slice(base, index.offsets[from + n]),
      },
      y: interleave(x, y, from, n),
    });
    state.gains.set(interleave(gx, gy, from, n));
    state.velocity.set(interleave(vx, vy, from, n));
    return state;
  });
  // Checkpoints made before the rename call iterationsPerStep "iterations".
  const { iterations, ...options } = meta.options as SavedOptions & { iterations?: number };
  return {
    steps,
    pending: meta.pending.map(input),
    prompts: meta.prompts,
    random: meta.random.map((v) => v ?? NaN) as unknown as RandomState,
    counters: meta.counters,
    options: iterations === undefined ? options : { iterationsPerStep: iterations, ...options },
    layout: meta.layout,
  };
}

function concat<T extends Int32Array | Float32Array | Float64Array>(parts: ArrayLike<number>[], out: T): T {
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
