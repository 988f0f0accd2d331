/**
 * The frame table: what the embedder emits, one row per (instance, step).
 *
 * | column        | Arrow type              | meaning                                  |
 * |---------------|-------------------------|------------------------------------------|
 * | instance      | Int32                   | as in the step table                     |
 * | prompt        | Dictionary<Utf8, Int32> | as in the step table                     |
 * | step          | Int32                   | as in the step table                     |
 * | x, y          | Float32                 | renderer coordinates of the layout       |
 * | (native two)  | Float32                 | radial: radius, angle; rectilinear: lane, offset |
 *
 * Schema metadata: `diffusion-life.layout` (the layout name),
 * `diffusion-life.quality` (JSON of the quality report, see src/quality) and,
 * in frames that `evolve` streams, `diffusion-life.update`: JSON of
 * `FrameUpdate`, e.g.
 *
 * ```json
 * { "update": 3, "steps": [4, 5], "coalesced": 2, "iterations": 300, "totalIterations": 900,
 *   "ms": 61.2, "latencyMs": 75.0, "pendingRows": 0, "droppedRows": 0, "final": false, "polish": 0 }
 * ```
 *
 * `steps` are the steps embedded by this update; `coalesced` (their count)
 * is more than 1 when steps arrived faster than the embedder could take them
 * one by one. The quality report of an update frame covers just those steps;
 * the final frame's (`final: true`, after the polish pass) covers every step.
 */
import { Table } from "apache-arrow";
import { DimensionError } from "../errors.ts";
import { checkFinite, dictionaryColumn, float32Column, int32Column, readDictionary, readFloat32, readInt32 } from "./columns.ts";
import { isValidated, markValidated, type Validated } from "./validated.ts";

export const LAYOUT_KEY = "diffusion-life.layout";
export const QUALITY_KEY = "diffusion-life.quality";
export const UPDATE_KEY = "diffusion-life.update";

/** What a streamed frame says about the update that produced it. */
export interface FrameUpdate {
  /** 1 for the first update of the stream, then 2, 3, … (the final frame included). */
  update: number;
  /** Steps embedded by this update, ascending (none in the final frame). */
  steps: number[];
  /** How many steps this update took at once. */
  coalesced: number;
  /** Gradient-descent iterations this update ran (over its steps and the polish pass). */
  iterations: number;
  /** Iterations since the stream began. */
  totalIterations: number;
  /** Milliseconds this update computed. */
  ms: number;
  /** Milliseconds from the moment its earliest step was complete to this frame. */
  latencyMs: number;
  /** Rows buffered for later updates when this frame was made. */
  pendingRows: number;
  /** Rows dropped so far: late (with the "drop" policy), or of steps the backlog dropped. */
  droppedRows: number;
  /** Steps dropped so far because more than `backlog` complete steps waited (absent or 0: none). */
  droppedSteps?: number;
  /** The frame emitted on completion, after the polish pass. */
  final: boolean;
  /** Iterations of the polish pass (final frame only; 0 otherwise). */
  polish: number;
}

/**
 * A frame table the library validated: built by `frameTable` (an embedder's
 * frames), or checked by `asFrameTable`. Renderers and the viewer read it
 * without checking it again. A plain `Table` (a frame read back from a
 * file) becomes one through `asFrameTable`.
 */
export type FrameTable = Table & Validated<"frame">;

export interface FrameColumns {
  instance: Int32Array;
  prompt: Int32Array;
  prompts: string[];
  step: Int32Array;
  x: Float32Array;
  y: Float32Array;
  /** Named native coordinates of the layout, e.g. { radius, angle }. */
  native: Record<string, Float32Array>;
  layout: string;
  /** Optional JSON-able quality report, stored in the metadata. */
  quality?: unknown;
  /** Set in frames that `evolve` streams. */
  update?: FrameUpdate;
}

/**
 * Builds a frame table, validated: every column as long as `instance`
 * (DimensionError), coordinates finite (NonFiniteError, with the row).
 */
export function frameTable(columns: FrameColumns): FrameTable {
  const n = columns.instance.length;
  const coordinates: [string, Float32Array][] = [["x", columns.x], ["y", columns.y], ...Object.entries(columns.native)];
  for (const [name, values] of [["prompt", columns.prompt], ["step", columns.step], ...coordinates] as const) {
    if (values.length !== n) throw new DimensionError(`column "${name}" has ${values.length} rows, "instance" has ${n}`, { column: name });
  }
  for (const [name, values] of coordinates) checkFinite(values, name, 1);
  const vectors: Record<string, unknown> = {
    instance: int32Column(columns.instance),
    prompt: dictionaryColumn(columns.prompt, columns.prompts),
    step: int32Column(columns.step),
    x: float32Column(columns.x),
    y: float32Column(columns.y),
  };
  for (const [name, values] of Object.entries(columns.native)) vectors[name] = float32Column(values);
  const table = new Table(vectors as never);
  table.schema.metadata.set(LAYOUT_KEY, columns.layout);
  if (columns.quality !== undefined) table.schema.metadata.set(QUALITY_KEY, JSON.stringify(columns.quality));
  if (columns.update !== undefined) setUpdate(table, columns.update);
  return markValidated(table, "frame");
}

/**
 * Checks a table from elsewhere (a frame read back from a file) once and
 * returns it as a FrameTable, the same object; a FrameTable is returned as
 * it is. Throws the typed errors of `readFrameTable`.
 */
export function asFrameTable(table: Table): FrameTable {
  if (!isValidated(table, "frame")) readFrameTable(table);
  return markValidated(table, "frame");
}

/** Stores what an update did in a frame's metadata; returns the same table. */
export function setUpdate<T extends Table>(table: T, update: FrameUpdate): T {
  table.schema.metadata.set(UPDATE_KEY, JSON.stringify(update));
  return table;
}

/**
 * Reads a frame table's columns. A table the library has not validated
 * (not a FrameTable it built or checked) is validated first: the contract
 * columns present with their types, coordinates finite (typed errors).
 */
export function readFrameTable(table: Table): FrameColumns {
  const check = !isValidated(table, "frame");
  const { codes, labels } = readDictionary(table, "prompt");
  const core = new Set(["instance", "prompt", "step", "x", "y"]);
  const native: Record<string, Float32Array> = {};
  for (const f of table.schema.fields) if (!core.has(f.name)) native[f.name] = readFloat32(table, f.name, check);
  const quality = table.schema.metadata.get(QUALITY_KEY);
  const update = table.schema.metadata.get(UPDATE_KEY);
  return {
    instance: readInt32(table, "instance"),
    prompt: codes,
    prompts: labels,
    step: readInt32(table, "step"),
    x: readFloat32(table, "x", check),
    y: readFloat32(table, "y", check),
    native,
    layout: table.schema.metadata.get(LAYOUT_KEY) ?? "unknown",
    quality: quality ? JSON.parse(quality) : undefined,
    update: update ? JSON.parse(update) : undefined,
  };
}
