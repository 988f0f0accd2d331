/**
 * The step table: one row per (instance, step) of a set of generations.
 *
 * | column    | Arrow type               | required                      |
 * |-----------|--------------------------|-------------------------------|
 * | instance  | Int32                    | yes                           |
 * | prompt    | Dictionary<Utf8, Int32>  | yes                           |
 * | step      | Int32 (0 = noisiest)     | yes                           |
 * | timestep  | Float32                  | no (scheduler t or sigma)     |
 * | image     | FixedSizeList<Float32>   | image or features             |
 * | features  | FixedSizeList<Float32>   | image or features             |
 * | noisy     | FixedSizeList<Float32>   | no (x_t the denoiser saw)     |
 *
 * `image` holds C·H·W values (channel-major) of the predicted clean image
 * x̂0; the shape is in the schema metadata under `diffusion-life.image-shape`
 * as JSON `[C, H, W]`. `noisy`, when present, is the noisy input x_t of the
 * same step (variance-preserving, x_t = √ᾱ·x0 + √(1−ᾱ)·ε), with the image's
 * shape and value scale.
 */
import { Table } from "apache-arrow";
import { DimensionError, DuplicateRowError, FormatError, OutOfRangeError, SchemaError } from "../errors.ts";
import {
  checkFinite,
  dictionaryColumn,
  float32Column,
  hasColumn,
  int32Column,
  readDictionary,
  readFloat32,
  readInt32,
  readVectors,
  vectorColumn,
} from "./columns.ts";
import { isValidated, markValidated, type Validated } from "./validated.ts";
import { type DataLimits, resolveLimits } from "./sizes.ts";

export const IMAGE_SHAPE_KEY = "diffusion-life.image-shape";

/**
 * A step table the library validated: built by `stepTable`, yielded by a
 * source, returned by `encodeTable`, or checked by `asStepTable`. Stages
 * that take one (encoders, embedders, the lineage tree, the viewer) read it
 * without checking it again. A plain `Table` becomes one through
 * `asStepTable`.
 */
export type StepTable = Table & Validated<"step">;
export type ImageShape = readonly [channels: number, height: number, width: number];

/** The columns of a step table as plain typed arrays. */
export interface StepColumns {
  instance: Int32Array;
  /** Per-row index into `prompts`. */
  prompt: Int32Array;
  prompts: string[];
  step: Int32Array;
  timestep?: Float32Array;
  /** Row-major C·H·W per row. */
  image?: Float32Array;
  imageShape?: ImageShape;
  /** x_t, row-major C·H·W per row (the shape of `image`). */
  noisy?: Float32Array;
  /** Row-major `featureDim` per row. */
  features?: Float32Array;
  featureDim?: number;
}

/**
 * Builds a step table, validated: the inverse of `readStepTable`. Throws the
 * typed error `readStepTable` would: column lengths that differ
 * (DimensionError), NaN or ±Infinity (NonFiniteError, with the row), a
 * duplicate (instance, step) (DuplicateRowError).
 */
export function stepTable(columns: StepColumns): StepTable {
  const table = buildStepTable(columns);
  checkSteps(columns.step);
  const n = Math.max(columns.instance.length, 1);
  for (const name of ["timestep", "image", "noisy", "features"] as const) {
    const values = columns[name];
    if (values) checkFinite(values, name, values.length / n);
  }
  checkUniqueRows(columns.instance, columns.step);
  return table;
}

/**
 * Builds a step table from columns that are already validated (read from a
 * validated table, or checked by the caller): only their lengths are checked.
 * For the library's own stages; users call `stepTable`.
 */
export function buildStepTable(columns: StepColumns): StepTable {
  const n = columns.instance.length;
  for (const [name, len] of [["prompt", columns.prompt.length], ["step", columns.step.length]] as const) {
    if (len !== n) throw new DimensionError(`column "${name}" has ${len} rows, "instance" has ${n}`, { column: name });
  }
  for (const [name, values, dim] of [
    ["timestep", columns.timestep, 1],
    ["image", columns.image, columns.imageShape ? columns.imageShape[0] * columns.imageShape[1] * columns.imageShape[2] : 0],
    ["noisy", columns.noisy, columns.imageShape ? columns.imageShape[0] * columns.imageShape[1] * columns.imageShape[2] : 0],
    ["features", columns.features, columns.featureDim ?? (columns.features?.length ?? 0) / Math.max(n, 1)],
  ] as const) {
    if (values && dim > 0 && values.length !== n * dim) {
      throw new DimensionError(`column "${name}" has ${values.length} values, not ${n} rows of ${dim}`, { column: name });
    }
  }
  const vectors: Record<string, unknown> = {
    instance: int32Column(columns.instance),
    prompt: dictionaryColumn(columns.prompt, columns.prompts),
    step: int32Column(columns.step),
  };
  if (columns.timestep) vectors.timestep = float32Column(columns.timestep);
  if (columns.image) {
    const shape = columns.imageShape;
    if (!shape) throw new SchemaError("missing-column", `"image" needs an imageShape [C, H, W]`, { column: "image" });
    vectors.image = vectorColumn(columns.image, shape[0] * shape[1] * shape[2]);
  }
  if (columns.noisy) {
    const shape = columns.imageShape;
    if (!shape) throw new SchemaError("missing-column", `"noisy" needs an imageShape [C, H, W]`, { column: "noisy" });
    vectors.noisy = vectorColumn(columns.noisy, shape[0] * shape[1] * shape[2]);
  }
  if (columns.features) vectors.features = vectorColumn(columns.features, columns.featureDim ?? columns.features.length / Math.max(n, 1));
  const table = new Table(vectors as never);
  if (columns.imageShape) table.schema.metadata.set(IMAGE_SHAPE_KEY, JSON.stringify(columns.imageShape));
  return markValidated(table, "step");
}

/**
 * Checks a table from elsewhere (an IPC file, a table built by hand) once
 * and returns it as a StepTable, the same object; a StepTable is returned
 * as it is. Throws the typed errors of `readStepTable`.
 */
export function asStepTable(table: Table): StepTable {
  if (!isValidated(table, "step")) readStepTable(table);
  return markValidated(table, "step");
}

/**
 * Reads a step table's columns. A table the library has not validated (not
 * a StepTable it built or checked) is validated first, throwing a typed
 * error naming the column and the problem: missing column, wrong type,
 * NaN/Infinity, a vector length that changes, or a duplicate (instance,
 * step), a negative step, an id outside Int32 (OutOfRangeError), buffers
 * shorter than the lengths they declare (FormatError) or wider than
 * `limits` allow (LimitError). `need` asks for columns a stage cannot do
 * without (SchemaError when missing); with `features`, the image is not read.
 */
export function readStepTable(table: Table, need: { features?: boolean; image?: boolean; limits?: DataLimits } = {}): StepColumns {
  const check = !isValidated(table, "step");
  const limits = resolveLimits(need.limits);
  const instance = readInt32(table, "instance");
  const step = readInt32(table, "step");
  const { codes: prompt, labels: prompts } = readDictionary(table, "prompt");
  if (check) {
    for (const [name, length] of [["instance", instance.length], ["step", step.length], ["prompt", prompt.length]] as const) {
      if (length !== table.numRows) throw new FormatError(`column "${name}" has ${length} rows, the table ${table.numRows}`, { column: name });
    }
    checkSteps(step);
  }
  const out: StepColumns = { instance, prompt, prompts, step };
  if (hasColumn(table, "timestep")) out.timestep = readFloat32(table, "timestep", check);
  if (!hasColumn(table, "image") && !hasColumn(table, "features")) {
    throw new SchemaError("missing-column", `a step table needs an "image" or a "features" column`, { column: "features" });
  }
  if (need.features && !hasColumn(table, "features")) {
    throw new SchemaError("missing-column", `missing column "features" (encode the images first)`, { column: "features" });
  }
  if (hasColumn(table, "image") && (need.image || !need.features)) {
    const { values, dim } = readVectors(table, "image", check, limits);
    out.image = values;
    out.imageShape = imageShape(table, dim);
  } else if (need.image) {
    throw new SchemaError("missing-column", `missing column "image"`, { column: "image" });
  }
  if (out.imageShape && hasColumn(table, "noisy")) {
    const { values, dim } = readVectors(table, "noisy", check, limits);
    const [c, h, w] = out.imageShape;
    if (dim !== c * h * w) throw new DimensionError(`"noisy" has ${dim} values per row, "image" has ${c * h * w}`, { column: "noisy" });
    out.noisy = values;
  }
  if (hasColumn(table, "features")) {
    const { values, dim } = readVectors(table, "features", check, limits);
    out.features = values;
    out.featureDim = dim;
  }
  if (check) checkUniqueRows(instance, step);
  return out;
}

function imageShape(table: Table, dim: number): ImageShape {
  const raw = table.schema.metadata.get(IMAGE_SHAPE_KEY);
  if (!raw) {
    // Without metadata, assume one square channel when that is possible.
    const side = Math.round(Math.sqrt(dim));
    if (side * side === dim) return [1, side, side];
    throw new SchemaError("missing-column", `"image" has ${dim} values per row and no ${IMAGE_SHAPE_KEY} metadata`, { column: "image" });
  }
  let shape: unknown;
  try {
    shape = JSON.parse(raw);
  } catch {
    shape = undefined;
  }
  if (!(Array.isArray(shape) && shape.length === 3 && shape.every((d) => Number.isSafeInteger(d) && d > 0))) {
    throw new DimensionError(`${IMAGE_SHAPE_KEY} metadata must be [C, H, W] of positive integers, not ${JSON.stringify(raw.slice(0, 80))}`, { column: "image" });
  }
  if (shape[0] * shape[1] * shape[2] !== dim) {
    throw new DimensionError(`image shape ${raw} does not match ${dim} values per row`, { column: "image" });
  }
  return [shape[0], shape[1], shape[2]];
}

/** OutOfRangeError at the first negative step (0 is the noisiest). */
export function checkSteps(step: Int32Array): void {
  const row = step.findIndex((s) => s < 0);
  if (row >= 0) throw new OutOfRangeError(`step ${step[row]} at row ${row} is negative: steps count from 0, the noisiest`, { column: "step", row });
}

/**
 * Remembers (instance, step) pairs over every Int32 value exactly (a set of
 * instances per step: no packed key, which would collide for large ids).
 */
export class RowSet {
  private readonly byStep = new Map<number, Set<number>>();

  /** Adds the pair; false when it was there already. */
  add(instance: number, step: number): boolean {
    let instances = this.byStep.get(step);
    if (!instances) this.byStep.set(step, (instances = new Set()));
    if (instances.has(instance)) return false;
    instances.add(instance);
    return true;
  }
}

/** Throws DuplicateRowError at the first (instance, step) seen before. */
export function checkUniqueRows(instance: Int32Array, step: Int32Array, seen = new RowSet(), rowBase = 0): void {
  for (let i = 0; i < instance.length; i++) {
    if (!seen.add(instance[i], step[i])) throw new DuplicateRowError(instance[i], step[i], rowBase + i);
  }
}
