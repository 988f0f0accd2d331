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
 * Schema metadata: `diffusion-life.layout` (the layout name) and
 * `diffusion-life.quality` (JSON of the quality report, see src/quality).
 */
import { Table } from "apache-arrow";
import { dictionaryColumn, float32Column, int32Column, readDictionary, readFloat32, readInt32 } from "./columns.ts";

export const LAYOUT_KEY = "diffusion-life.layout";
export const QUALITY_KEY = "diffusion-life.quality";

export type FrameTable = Table;

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
}

export function frameTable(columns: FrameColumns): FrameTable {
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
  return table;
}

/** Reads a frame table, validating the contract columns. */
export function readFrameTable(table: FrameTable): FrameColumns {
  const { codes, labels } = readDictionary(table, "prompt");
  const core = new Set(["instance", "prompt", "step", "x", "y"]);
  const native: Record<string, Float32Array> = {};
  for (const f of table.schema.fields) if (!core.has(f.name)) native[f.name] = readFloat32(table, f.name);
  const quality = table.schema.metadata.get(QUALITY_KEY);
  return {
    instance: readInt32(table, "instance"),
    prompt: codes,
    prompts: labels,
    step: readInt32(table, "step"),
    x: readFloat32(table, "x"),
    y: readFloat32(table, "y"),
    native,
    layout: table.schema.metadata.get(LAYOUT_KEY) ?? "unknown",
    quality: quality ? JSON.parse(quality) : undefined,
  };
}
