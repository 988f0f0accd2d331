/**
 * Building and reading the Arrow columns the data model uses: Int32,
 * Float32, Dictionary<Utf8> and FixedSizeList<Float32> (and, for the exact
 * state of a checkpoint, Float64 and List<Int32 | Float64>). Kept in one
 * place so every table the library writes has exactly the same types.
 */
import {
  Dictionary,
  Field,
  FixedSizeList,
  Float,
  Float32,
  Float64,
  Int32,
  List,
  Precision,
  makeData,
  makeVector,
  Type,
  Utf8,
  type DataType,
  type Table,
  Vector,
} from "apache-arrow";
import { DimensionError, NonFiniteError, OutOfRangeError, SchemaError } from "../errors.ts";
import { checkPresent, checkRowWidth, DEFAULT_LIMITS, type DataLimits } from "./sizes.ts";

export const int32Column = (values: Int32Array): Vector => makeVector(values);
export const float32Column = (values: Float32Array): Vector => makeVector(values);

/** Dictionary<Utf8, Int32> from per-row codes into `labels`. */
export function dictionaryColumn(codes: Int32Array, labels: readonly string[]): Vector {
  const type = new Dictionary(new Utf8(), new Int32());
  const dictionary = makeVector(makeData({ type: new Utf8(), ...utf8Buffers(labels) }));
  return makeVector(makeData({ type, length: codes.length, nullCount: 0, data: codes, dictionary }));
}

/** FixedSizeList<Float32>[dim] over a flat row-major buffer. */
export function vectorColumn(flat: Float32Array, dim: number): Vector {
  if (dim <= 0 || flat.length % dim !== 0) {
    throw new DimensionError(`a buffer of ${flat.length} values does not split into rows of ${dim}`);
  }
  const child = makeData({ type: new Float32(), length: flat.length, nullCount: 0, data: flat });
  const type = new FixedSizeList(dim, new Field("item", new Float32(), false));
  return makeVector(makeData({ type, length: flat.length / dim, nullCount: 0, child }));
}

function utf8Buffers(labels: readonly string[]) {
  const encoder = new TextEncoder();
  const bytes = labels.map((s) => encoder.encode(s));
  const valueOffsets = new Int32Array(labels.length + 1);
  bytes.forEach((b, i) => (valueOffsets[i + 1] = valueOffsets[i] + b.length));
  const data = new Uint8Array(valueOffsets[labels.length]);
  bytes.forEach((b, i) => data.set(b, valueOffsets[i]));
  return { length: labels.length, nullCount: 0, valueOffsets, data };
}

// ---- reading -------------------------------------------------------------

/** A column whose buffers hold what its lengths declare (FormatError otherwise: see checkPresent). */
function column(table: Table, name: string): Vector {
  const col = table.getChild(name);
  if (!col) {
    const have = table.schema.fields.map((f) => f.name).join(", ");
    throw new SchemaError("missing-column", `missing column "${name}" (the table has: ${have})`, { column: name });
  }
  checkPresent(col, name);
  return col;
}

/** SchemaError at the first null row of a column that may hold none. */
function refuseNulls(col: Vector, name: string): void {
  if (col.nullCount === 0) return;
  let row = 0;
  for (const chunk of col.data) {
    for (let i = 0; i < chunk.length; i++, row++) {
      if (!chunk.getValid(i)) throw new SchemaError("wrong-type", `column "${name}" has a null at row ${row}`, { column: name, row });
    }
  }
}

function wrongType(name: string, want: string, got: DataType): never {
  throw new SchemaError("wrong-type", `column "${name}" must be ${want}, not ${got}`, { column: name });
}

/**
 * An integer column as Int32Array, exactly: Int8..Int64 and UInt8..UInt64
 * are accepted when every value fits Int32 (OutOfRangeError naming the row
 * of the first that does not; nothing is wrapped).
 */
export function readInt32(table: Table, name: string): Int32Array {
  const col = column(table, name);
  if (col.type.typeId !== Type.Int) wrongType(name, "Int32", col.type);
  refuseNulls(col, name);
  const out = new Int32Array(col.length);
  const exact = (col.type as Int32).bitWidth <= 16 || ((col.type as Int32).bitWidth === 32 && (col.type as Int32).isSigned);
  let row = 0;
  for (const chunk of col.data) {
    const values = chunk.values as ArrayLike<number | bigint>;
    if (exact) {
      out.set((values as Int32Array).subarray(0, chunk.length), row);
      row += chunk.length;
      continue;
    }
    for (let i = 0; i < chunk.length; i++, row++) {
      const v = values[i];
      if (v < -2147483648 || v > 2147483647) {
        throw new OutOfRangeError(`column "${name}" holds ${v} at row ${row}, outside the Int32 range its ids must fit`, { column: name, row });
      }
      out[row] = Number(v);
    }
  }
  return out;
}

/** A float column as Float32Array, checked finite (unless `finite` is false: a table already validated). */
export function readFloat32(table: Table, name: string, finite = true): Float32Array {
  const col = column(table, name);
  if (col.type.typeId !== Type.Float && col.type.typeId !== Type.Int) wrongType(name, "Float32", col.type);
  refuseNulls(col, name);
  const out = Float32Array.from(col.toArray() as ArrayLike<number>, Number);
  if (finite) checkFinite(out, name, 1);
  return out;
}

const STRINGS: readonly Type[] = [Type.Utf8, Type.LargeUtf8, Type.Utf8View];

/** Dictionary<Utf8> (or plain Utf8, LargeUtf8, Utf8View: polars' String) column as per-row codes and labels. */
export function readDictionary(table: Table, name: string): { codes: Int32Array; labels: string[] } {
  const col = column(table, name);
  if (STRINGS.includes(col.type.typeId)) return encodeStrings(col, name);
  if (col.type.typeId !== Type.Dictionary || !STRINGS.includes((col.type as Dictionary).dictionary.typeId)) wrongType(name, "Dictionary<Utf8>", col.type);
  // Batches may carry different dictionaries (delta or replacement), so
  // labels are re-coded into one table-wide list.
  return encodeStrings(col, name);
}

function encodeStrings(col: Vector, name: string): { codes: Int32Array; labels: string[] } {
  const labels: string[] = [];
  const index = new Map<string, number>();
  const codes = new Int32Array(col.length);
  let i = 0;
  for (const v of col) {
    if (v === null || v === undefined) throw new SchemaError("wrong-type", `column "${name}" has a null at row ${i}`, { column: name, row: i });
    const s = String(v);
    let code = index.get(s);
    if (code === undefined) {
      code = labels.length;
      index.set(s, code);
      labels.push(s);
    }
    codes[i++] = code;
  }
  return { codes, labels };
}

/**
 * A FixedSizeList<Float32> (or List<Float32> of one length) column as one
 * flat row-major Float32Array, checked finite (unless `finite` is false: a
 * table already validated). Null rows or values are a SchemaError; a row
 * wider than `limits.maxRowWidth` a LimitError, before anything is allocated.
 */
export function readVectors(table: Table, name: string, finite = true, limits: Required<DataLimits> = DEFAULT_LIMITS): { values: Float32Array; dim: number } {
  const col = column(table, name);
  const t = col.type;
  refuseNulls(col, name);
  if (t.typeId === Type.FixedSizeList) {
    const child = (t as FixedSizeList).children[0].type;
    if (child.typeId !== Type.Float || (child as Float).precision === Precision.HALF) wrongType(name, "FixedSizeList<Float32>", t);
    const dim = (t as FixedSizeList).listSize;
    checkRowWidth(dim, name, limits);
    for (const chunk of col.data) refuseNulls(new Vector([chunk.children[0]]), name);
    const values = new Float32Array(col.length * dim);
    let offset = 0;
    for (const chunk of col.data) {
      // The chunk's values start at its first row (apache-arrow slices them with the chunk).
      const length = chunk.length * dim;
      values.set((chunk.children[0].values as Float32Array | Float64Array).subarray(0, length), offset);
      offset += length;
    }
    if (finite) checkFinite(values, name, dim);
    return { values, dim };
  }
  if (t.typeId === Type.List || t.typeId === Type.LargeList) {
    const child = (t as List).valueType;
    if (child.typeId !== Type.Float && child.typeId !== Type.Int) wrongType(name, "FixedSizeList<Float32>", t);
    for (const chunk of col.data) refuseNulls(new Vector([chunk.children[0]]), name);
    let dim = -1;
    const rows: ArrayLike<number>[] = [];
    let i = 0;
    for (const v of col) {
      const row = v.toArray() as ArrayLike<number>;
      if (dim < 0) checkRowWidth((dim = row.length), name, limits);
      else if (row.length !== dim) {
        throw new DimensionError(`column "${name}" changes length from ${dim} to ${row.length} at row ${i}`, { column: name, row: i });
      }
      rows.push(row);
      i++;
    }
    dim = Math.max(dim, 0);
    const values = new Float32Array(rows.length * dim);
    rows.forEach((r, k) => values.set(Float32Array.from(r, Number), k * dim));
    if (finite) checkFinite(values, name, dim);
    return { values, dim };
  }
  return wrongType(name, "FixedSizeList<Float32>", t);
}

export function hasColumn(table: Table, name: string): boolean {
  return table.schema.fields.some((f) => f.name === name);
}

/** Throws NonFiniteError naming the column and the row of the first NaN or ±Infinity among rows of `dim` values. */
export function checkFinite(values: Float32Array, name: string, dim: number): void {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) throw new NonFiniteError(name, Math.floor(i / Math.max(dim, 1)));
  }
}

// ---- exact state (checkpoints) ---------------------------------------------

export const float64Column = (values: Float64Array): Vector => makeVector(values);

/** List<Int32> or List<Float64>: row r holds values[offsets[r] .. offsets[r + 1]). */
export function listColumn(values: Int32Array | Float64Array, offsets: Int32Array): Vector {
  const child = values instanceof Int32Array
    ? makeData({ type: new Int32(), length: values.length, nullCount: 0, data: values })
    : makeData({ type: new Float64(), length: values.length, nullCount: 0, data: values });
  const type = new List(new Field("item", child.type, false));
  return makeVector(makeData({ type, length: offsets.length - 1, nullCount: 0, valueOffsets: offsets, child }));
}

/** A Float64 column, bit for bit. */
export function readFloat64(table: Table, name: string): Float64Array {
  const col = column(table, name);
  if (col.type.typeId !== Type.Float || (col.type as Float).precision !== Precision.DOUBLE) wrongType(name, "Float64", col.type);
  refuseNulls(col, name);
  return Float64Array.from(col.toArray() as Float64Array);
}

/** A List<Int32> or List<Float64> column as one flat buffer and row offsets. */
export function readList(table: Table, name: string, item: "int32"): { values: Int32Array; offsets: Int32Array };
export function readList(table: Table, name: string, item: "float64"): { values: Float64Array; offsets: Int32Array };
export function readList(table: Table, name: string, item: "int32" | "float64"): { values: Int32Array | Float64Array; offsets: Int32Array } {
  const col = column(table, name);
  const want = item === "int32" ? "List<Int32>" : "List<Float64>";
  const child = col.type.typeId === Type.List ? (col.type as List).valueType : undefined;
  const fits = item === "int32"
    ? child?.typeId === Type.Int && (child as Int32).bitWidth === 32
    : child?.typeId === Type.Float && (child as Float).precision === Precision.DOUBLE;
  if (!fits) wrongType(name, want, col.type);
  refuseNulls(col, name);
  // A chunk's offsets start at its first row; they index its values (checkPresent: inside them).
  const offsets = new Int32Array(col.length + 1);
  let row = 0;
  for (const chunk of col.data) {
    const at = chunk.valueOffsets as Int32Array;
    for (let r = 0; r < chunk.length; r++, row++) offsets[row + 1] = offsets[row] + at[r + 1] - at[r];
  }
  const values = item === "int32" ? new Int32Array(offsets[col.length]) : new Float64Array(offsets[col.length]);
  row = 0;
  for (const chunk of col.data) {
    const at = chunk.valueOffsets as Int32Array, data = chunk.children[0];
    refuseNulls(new Vector([data]), name);
    values.set((data.values as Int32Array | Float64Array).subarray(at[0], at[chunk.length]), offsets[row]);
    row += chunk.length;
  }
  return { values, offsets };
}
