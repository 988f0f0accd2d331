/**
 * What a reader may allocate. Every size an Arrow file declares (a row
 * count, a FixedSizeList's values per row, an offset, a message's body
 * length) is checked against the bytes that are actually there before
 * anything is allocated from it, so a forged 100 KB file cannot ask for
 * gigabytes, and a declared size larger than the data is an error, never
 * zeros made up to fill it. Data that is honestly large meets ceilings
 * (`DataLimits`) that a caller who trusts it can raise.
 */
import { type Data, Type, type Vector } from "apache-arrow";
import { FormatError, LimitError, OptionError } from "../errors.ts";

/** Ceilings on data read from outside (recordings, checkpoints, tables from elsewhere). */
export interface DataLimits {
  /** The most values one row of a vector column (image, noisy, features) may hold; default 16,777,216 (2^24: a 4×2048×2048 image). */
  maxRowWidth?: number;
  /** The most bytes one record batch may hold as declared, after decompression; default 1 GiB. */
  maxBatchBytes?: number;
}

export const DEFAULT_LIMITS: Readonly<Required<DataLimits>> = Object.freeze({ maxRowWidth: 2 ** 24, maxBatchBytes: 2 ** 30 });

/** The limits with their defaults filled in; OptionError for a ceiling that is not a positive integer. */
export function resolveLimits(limits: DataLimits = {}): Required<DataLimits> {
  for (const [key, value] of Object.entries(limits)) {
    if (!(key in DEFAULT_LIMITS)) throw new OptionError("limits", `"${key}" is not a limit (${Object.keys(DEFAULT_LIMITS).join(", ")})`);
    if (value !== undefined && !(Number.isSafeInteger(value) && value > 0)) throw new OptionError(`limits.${key}`, `must be a positive integer, not ${value}`);
  }
  return { ...DEFAULT_LIMITS, ...Object.fromEntries(Object.entries(limits).filter(([, v]) => v !== undefined)) };
}

/** LimitError when a vector column's values per row exceed the ceiling. */
export function checkRowWidth(width: number, column: string, limits: Required<DataLimits>): void {
  if (width > limits.maxRowWidth) {
    throw new LimitError("maxRowWidth", `column "${column}" declares ${width} values per row, more than the ceiling of ${limits.maxRowWidth}`, { column });
  }
}

/**
 * Checks that every chunk of a column holds the buffers its declared
 * lengths need: values for every row (times the list size of a
 * FixedSizeList), offsets that stay inside their data, string views that
 * point inside their buffers, a validity bitmap where there are nulls, and
 * dictionary indices inside the dictionary. FormatError naming the column
 * otherwise. Cost: O(chunks), plus O(rows) for offsets and views.
 */
export function checkPresent(vector: Vector, column: string): void {
  for (const data of vector.data) checkData(data, column, 0);
}

function short(column: string, what: string): FormatError {
  return new FormatError(`column "${column}" is corrupt: ${what}`, { column });
}

// apache-arrow keeps a chunk's buffers sliced to its rows: values, offsets,
// views and dictionary indices start at the chunk's first row, as do the
// children of a FixedSizeList or Struct; `offset` counts only in the
// validity bitmap and a Bool's bits.
function checkData(data: Data, column: string, depth: number): void {
  if (depth > 64) throw short(column, "its types nest more than 64 deep");
  const { type, offset, length } = data;
  if (!(Number.isSafeInteger(offset) && offset >= 0 && Number.isSafeInteger(length) && length >= 0)) {
    throw short(column, `it declares ${length} rows from offset ${offset}`);
  }
  if (data.nullCount > 0 && type.typeId !== Type.Null && (data.nullBitmap?.length ?? 0) * 8 < offset + length) {
    throw short(column, `it declares ${data.nullCount} nulls but has no validity bitmap for its ${length} rows`);
  }
  switch (type.typeId) {
    case Type.Int:
    case Type.Float:
    case Type.Date:
    case Type.Time:
    case Type.Timestamp:
    case Type.Interval:
    case Type.Duration:
    case Type.Decimal:
    case Type.FixedSizeBinary:
      need(data.values?.length ?? 0, length * data.stride, column, "values");
      break;
    case Type.Bool:
      need((data.values?.length ?? 0) * 8, offset + length, column, "bits");
      break;
    case Type.Dictionary: {
      need(data.values?.length ?? 0, length, column, "dictionary indices");
      const size = data.dictionary?.length ?? 0;
      const indices = data.values as ArrayLike<number | bigint>;
      for (let i = 0; i < length; i++) {
        const index = Number(indices[i]);
        if (!(index >= 0 && index < size) && data.getValid(i)) throw short(column, `row ${i} points at dictionary entry ${index} of ${size}`);
      }
      if (data.dictionary) for (const d of data.dictionary.data) checkData(d, column, depth + 1);
      break;
    }
    case Type.Utf8:
    case Type.Binary:
    case Type.LargeUtf8:
    case Type.LargeBinary:
      checkOffsets(data, column, data.values?.length ?? 0, "bytes");
      break;
    case Type.List:
    case Type.LargeList:
    case Type.Map: {
      const child = data.children[0];
      if (!child) throw short(column, "a list without its values");
      checkData(child, column, depth + 1);
      checkOffsets(data, column, child.length, "values");
      break;
    }
    case Type.FixedSizeList: {
      const child = data.children[0];
      if (!child) throw short(column, "a list without its values");
      checkData(child, column, depth + 1);
      const size = (type as unknown as { listSize: number }).listSize;
      if (!(Number.isSafeInteger(size) && size >= 0)) throw short(column, `it declares ${size} values per row`);
      need(child.length, length * size, column, `values (${length} rows of ${size})`);
      break;
    }
    case Type.Struct:
      for (const child of data.children) {
        checkData(child, column, depth + 1);
        need(child.length, length, column, "rows in a field");
      }
      break;
    case Type.Utf8View:
    case Type.BinaryView:
      checkViews(data, column);
      break;
    case Type.Null:
      break;
    default:
      // Unions and the like are never read by the library (its readers refuse them by type): not checked.
      break;
  }
}

function need(have: number, want: number, column: string, what: string): void {
  if (have < want) throw short(column, `it declares ${want} ${what} but its buffer holds ${have}`);
}

/** Offsets present for every row, non-decreasing, inside [0, limit]. */
function checkOffsets(data: Data, column: string, limit: number, what: string): void {
  const offsets = data.valueOffsets as ArrayLike<number | bigint> | undefined;
  need(offsets?.length ?? 0, data.length === 0 ? 0 : data.length + 1, column, "offsets");
  if (!offsets || data.length === 0) return;
  let previous = Number(offsets[0]);
  if (!(previous >= 0)) throw short(column, `offset ${previous} is negative`);
  for (let i = 1; i <= data.length; i++) {
    const at = Number(offsets[i]);
    if (!(at >= previous)) throw short(column, `offsets go back from ${previous} to ${at} at row ${i - 1}`);
    previous = at;
  }
  if (previous > limit) throw short(column, `its offsets reach ${previous} ${what} but it holds ${limit}`);
}

/** Utf8View / BinaryView: 16-byte views, each inline (≤ 12 bytes) or pointing inside a variadic buffer. */
function checkViews(data: Data, column: string): void {
  const views = data.values as unknown as Uint8Array | undefined;
  need(views?.length ?? 0, data.length * 16, column, "bytes of string views");
  if (!views || data.length === 0) return;
  const view = new DataView(views.buffer, views.byteOffset, views.byteLength);
  const buffers = data.variadicBuffers ?? [];
  for (let i = 0; i < data.length; i++) {
    const size = view.getInt32(16 * i, true);
    if (size < 0) throw short(column, `row ${i} declares ${size} bytes`);
    if (size <= 12) continue;
    const index = view.getInt32(16 * i + 8, true), at = view.getInt32(16 * i + 12, true);
    const buffer = buffers[index];
    if (!buffer || at < 0 || at + size > buffer.length) {
      throw short(column, `row ${i} points at bytes ${at}..${at + size} of data buffer ${index}, which ${buffer ? `holds ${buffer.length}` : "is missing"}`);
    }
  }
}
