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
import { DiffusionLifeError, FormatError, NonFiniteError, SchemaError, TruncatedError } from "../../errors.ts";
import { type DataLimits, resolveLimits } from "../../data/sizes.ts";
import { checkUniqueRows } from "../../data/step_table.ts";
import { checkIpcFile } from "../../sources/ipc_framing.ts";
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

/**
 * Reads a checkpoint, checked as any file from outside is: a truncated one
 * is a TruncatedError, bytes that are not a checkpoint or contradict
 * themselves (metadata that does not parse or does not fit the rows, rows
 * out of step order, affinities that point outside their step, lengths that
 * the buffers do not hold) a FormatError or SchemaError, NaN or ±Infinity a
 * NonFiniteError.
 */
export function readCheckpoint(bytes: Uint8Array, limits?: DataLimits): Checkpoint {
  const ceilings = resolveLimits(limits);
  const text = (from: number, to: number) => new TextDecoder().decode(bytes.subarray(from, to));
  if (bytes.length < 6 || text(0, 6) !== "ARROW1") throw new FormatError(`not a checkpoint: ${bytes.length} bytes that are no Arrow IPC file`);
  if (bytes.length < 12 || text(bytes.length - 6, bytes.length) !== "ARROW1") throw new TruncatedError(`the checkpoint ends before its footer (${bytes.length} bytes)`);
  checkIpcFile(bytes, ceilings);
  let table: Table;
  try {
    table = tableFromIPC(bytes);
  } catch (error) {
    if (error instanceof DiffusionLifeError) throw error;
    throw new FormatError(`the checkpoint is corrupt: ${(error as Error).message}`);
  }
  const raw = table.schema.metadata.get(CHECKPOINT_KEY);
  if (!raw) throw new SchemaError("missing-column", `not a checkpoint: no "${CHECKPOINT_KEY}" metadata`);
  const meta = parseMeta(raw);
  if (meta.version !== VERSION) throw new SchemaError("wrong-type", `checkpoint format ${meta.version} is not ${VERSION}`);
  const instance = readInt32(table, "instance"), step = readInt32(table, "step");
  const { codes, labels } = readDictionary(table, "prompt");
  const prompt = Int32Array.from(codes, (code) => meta.prompts.indexOf(labels[code]));
  const unknown = prompt.indexOf(-1);
  if (unknown >= 0) throw new FormatError(`checkpoint row ${unknown} has the prompt "${labels[codes[unknown]]}", which its metadata does not list`, { column: "prompt", row: unknown });
  const { values: features, dim } = readVectors(table, "features", true, ceilings);
  const [x, y, gx, gy, vx, vy] = ["x", "y", "gainX", "gainY", "velocityX", "velocityY"].map((name) => readFloat64(table, name));
  const index = readList(table, "affinityIndex", "int32"), value = readList(table, "affinityValue", "float64");
  checkRows(meta, table.numRows, { instance, step, x, y, gx, gy, vx, vy, index, value });

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

const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

/** The metadata, its shape checked (FormatError naming the field that is wrong). */
function parseMeta(raw: string): Meta {
  let meta: Meta;
  try {
    meta = JSON.parse(raw);
  } catch (error) {
    throw new FormatError(`the checkpoint's metadata is not JSON: ${(error as Error).message}`);
  }
  const bad = (field: string) => new FormatError(`the checkpoint's metadata has no valid "${field}"`);
  if (meta === null || typeof meta !== "object") throw bad("version");
  const segments = (list: unknown) => Array.isArray(list) && list.every((s) => Array.isArray(s) && s.length === 2 && isCount(s[0]) && Number.isSafeInteger(s[1]) && s[1] >= 0 && s[0] <= 2147483647);
  if (!segments(meta.steps)) throw bad("steps");
  if (!segments(meta.pending)) throw bad("pending");
  if (!Array.isArray(meta.prompts) || !meta.prompts.every((p) => typeof p === "string")) throw bad("prompts");
  if (!Array.isArray(meta.random) || meta.random.length !== 5 || !meta.random.every((v, i) => (i === 4 ? v === null || Number.isFinite(v) : Number.isSafeInteger(v) && Math.abs(v as number) < 2 ** 32))) throw bad("random");
  const c = meta.counters as unknown as Record<string, unknown>;
  if (c === null || typeof c !== "object" || !["updates", "totalIterations", "droppedRows", "dim"].every((k) => isCount(c[k])) || !Number.isSafeInteger(c.maxStep) || typeof c.ended !== "boolean") throw bad("counters");
  if (meta.options === null || typeof meta.options !== "object" || Array.isArray(meta.options)) throw bad("options");
  if (typeof meta.layout !== "string") throw bad("layout");
  for (let i = 1; i < meta.steps.length; i++) {
    if (meta.steps[i][0] <= meta.steps[i - 1][0]) throw new FormatError(`the checkpoint's embedded steps are not in order (${meta.steps[i - 1][0]}, then ${meta.steps[i][0]})`);
  }
  return meta;
}

/** The rows agree with the metadata: their count, their steps, finite state, affinities within their step. */
function checkRows(meta: Meta, rows: number, c: {
  instance: Int32Array; step: Int32Array; x: Float64Array; y: Float64Array; gx: Float64Array; gy: Float64Array; vx: Float64Array; vy: Float64Array;
  index: { values: Int32Array; offsets: Int32Array }; value: { values: Float64Array; offsets: Int32Array };
}): void {
  const total = [...meta.steps, ...meta.pending].reduce((sum, [, n]) => sum + n, 0);
  if (total !== rows) throw new FormatError(`the checkpoint's metadata counts ${total} rows, its table holds ${rows}`);
  for (const [name, values] of [["instance", c.instance], ["step", c.step], ["x", c.x], ["y", c.y], ["gainX", c.gx], ["gainY", c.gy], ["velocityX", c.vx], ["velocityY", c.vy]] as const) {
    if (values.length !== rows) throw new FormatError(`the checkpoint's column "${name}" has ${values.length} rows, the table ${rows}`, { column: name });
    for (let r = 0; r < values.length; r++) if (!Number.isFinite(values[r])) throw new NonFiniteError(name, r);
  }
  let row = 0;
  for (const [s, n] of [...meta.steps, ...meta.pending]) {
    for (let r = row; r < row + n; r++) {
      if (c.step[r] !== s) throw new FormatError(`checkpoint row ${r} is step ${c.step[r]}, its metadata says ${s}`, { column: "step", row: r });
    }
    checkUniqueRows(c.instance.subarray(row, row + n), c.step.subarray(row, row + n), undefined, row);
    row += n;
  }
  const { offsets } = c.index;
  if (c.value.offsets.some((o, r) => o !== offsets[r])) throw new FormatError(`the checkpoint's affinity indices and values differ in length`, { column: "affinityValue" });
  row = 0;
  for (const [, n] of meta.steps) {
    for (let e = offsets[row]; e < offsets[row + n]; e++) {
      const col = c.index.values[e], v = c.value.values[e];
      if (!(col >= 0 && col < n)) throw new FormatError(`a checkpoint affinity points at row ${col} of a step of ${n}`, { column: "affinityIndex" });
      if (!Number.isFinite(v)) throw new NonFiniteError("affinityValue", row);
    }
    row += n;
  }
}

function concat<T extends Int32Array | Float32Array | Float64Array>(parts: ArrayLike<number>[], out: T): T {
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
