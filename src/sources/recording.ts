/**
 * Recorded trajectories: step tables read from Arrow IPC, in the file format
 * or the stream format, written by any Arrow implementation (pyarrow, polars,
 * arrow-rs, arrow-js, …). The input can be a path, bytes, a web
 * ReadableStream (stdin, an HTTP body, a socket) or any async iterable of
 * byte chunks.
 *
 * `readRecording` yields one step table per record batch as soon as the
 * batch has arrived, so a generation written live (examples/python) is
 * followed while it runs. Each batch is validated (readStepTable: types,
 * NaN/Infinity, an (instance, step) seen before) and re-built with the library's own column types;
 * prompt codes are kept stable across the batches of one recording. Columns
 * named otherwise in the recording are mapped through `columns`.
 *
 * Compressed bodies (LZ4 frame, ZSTD) are read through `lz4-napi` and `fzstd`
 * (ipc_codecs.ts); string columns may be Utf8, LargeUtf8 or Utf8View (what
 * polars writes).
 *
 * Errors: bytes that are not Arrow IPC give a FormatError; a stream or file
 * that ends in the middle of a message gives a TruncatedError after every
 * complete batch before it was yielded; bytes after a stream's end-of-stream
 * marker are a FormatError; a batch that fails validation throws its typed
 * error with `row` counted from the start of the recording. Declared sizes
 * are checked against the bytes present before anything is allocated from
 * them (FormatError), and against `limits` (LimitError).
 */
import { RecordBatchReader, type RecordBatch, Table, type Vector } from "apache-arrow";
import { CancelledError, DiffusionLifeError, FormatError, OptionError, throwIfAborted, TruncatedError } from "../errors.ts";
import { buildStepTable, checkUniqueRows, IMAGE_SHAPE_KEY, type ImageShape, readStepTable, RowSet, type StepTable } from "../data/step_table.ts";
import { collectSteps } from "./collect.ts";
import type { StepSource } from "./source.ts";
import { type FilePath, readFileChunks } from "../runtime/read_files.ts";
import { checkIpcFile, IpcFraming } from "./ipc_framing.ts";
import { loadCodecs } from "./ipc_codecs.ts";
import { concatBytes } from "../util/bytes.ts";
import { type DataLimits, DEFAULT_LIMITS, resolveLimits } from "../data/sizes.ts";

export type RecordingInput = FilePath | Uint8Array | ArrayBuffer | ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>;

/** The step table's columns, each with the name it has in the recording. */
export interface StepColumnNames {
  instance?: string;
  prompt?: string;
  step?: string;
  timestep?: string;
  image?: string;
  noisy?: string;
  features?: string;
}

export interface RecordingOptions {
  /** Recording column names where they differ, e.g. { instance: "seed", image: "x0" }. */
  columns?: StepColumnNames;
  /** [C, H, W] of `image`, overriding the recording's diffusion-life.image-shape metadata. */
  imageShape?: ImageShape;
  /** Ceilings on values per row and bytes per record batch (defaults: DEFAULT_LIMITS). */
  limits?: DataLimits;
  signal?: AbortSignal;
}

const STEP_COLUMNS = ["instance", "prompt", "step", "timestep", "image", "noisy", "features"] as const;
const FILE_MAGIC = "ARROW1";
/** Streams since Arrow 0.15 start every message with this continuation marker. */
const CONTINUATION = 0xffffffff;

/** One step table per record batch, as the batches arrive. Options are checked at the call. */
export function readRecording(input: RecordingInput, options: RecordingOptions = {}): StepSource {
  const names = columnNames(options.columns);
  if (options.imageShape && !(options.imageShape.length === 3 && options.imageShape.every((d) => Number.isInteger(d) && d > 0))) {
    throw new OptionError("imageShape", `must be [C, H, W] of positive integers, not ${JSON.stringify(options.imageShape)}`);
  }
  const limits = resolveLimits(options.limits);
  return steps(input, names, { ...options, limits });
}

/** The whole recording as one step table. */
export function loadRecording(input: RecordingInput, options: RecordingOptions = {}): Promise<StepTable> {
  return collectSteps(readRecording(input, options));
}

function columnNames(columns: StepColumnNames = {}): Record<(typeof STEP_COLUMNS)[number], string> {
  for (const [key, value] of Object.entries(columns)) {
    if (!(STEP_COLUMNS as readonly string[]).includes(key)) throw new OptionError("columns", `"${key}" is not a step table column (${STEP_COLUMNS.join(", ")})`);
    if (typeof value !== "string" || value === "") throw new OptionError("columns", `the name for "${key}" must be a non-empty string`);
  }
  return Object.fromEntries(STEP_COLUMNS.map((c) => [c, columns[c] ?? c])) as Record<(typeof STEP_COLUMNS)[number], string>;
}

async function* steps(input: RecordingInput, names: Record<(typeof STEP_COLUMNS)[number], string>, options: RecordingOptions & { limits: Required<DataLimits> }): AsyncGenerator<StepTable> {
  const prompts: string[] = [];
  const codes = new Map<string, number>();
  const seen = new RowSet();
  let rows = 0, index = 0;
  for await (const { batch, metadata } of recordBatches(byteChunks(input), options.limits, options.signal)) {
    throwIfAborted(options.signal, "reading the recording");
    const vectors: Record<string, Vector> = {};
    for (const column of STEP_COLUMNS) {
      const vector = batch.getChild(names[column]);
      if (vector) vectors[column] = vector;
    }
    const table = new Table(vectors);
    for (const [key, value] of metadata) table.schema.metadata.set(key, value);
    if (options.imageShape) table.schema.metadata.set(IMAGE_SHAPE_KEY, JSON.stringify(options.imageShape));
    let columns;
    try {
      columns = readStepTable(table, { limits: options.limits });
    } catch (error) {
      throw inRecording(error, names, index, rows);
    }
    // readStepTable checks duplicates within the batch; these are across batches.
    checkUniqueRows(columns.instance, columns.step, seen, rows);
    const global = columns.prompts.map((label) => {
      if (!codes.has(label)) codes.set(label, prompts.push(label) - 1);
      return codes.get(label)!;
    });
    yield buildStepTable({ ...columns, prompt: columns.prompt.map((c) => global[c]), prompts: [...prompts] });
    rows += batch.numRows;
    index++;
  }
}

/** A batch's error, with the recording's column name and the row counted from the recording's start. */
function inRecording(error: unknown, names: Record<string, string>, index: number, rows: number): unknown {
  if (!(error instanceof DiffusionLifeError)) return error;
  const renamed = error.column && names[error.column] !== error.column ? ` (column "${names[error.column]}" of the recording)` : "";
  const where = error.row !== undefined ? ` (record batch ${index}, which starts at row ${rows})` : "";
  return Object.assign(error, {
    message: `${error.message}${renamed}${where}`,
    row: error.row === undefined ? undefined : error.row + rows,
  });
}

/** The record batches of an IPC file or stream, with the schema's metadata. */
async function* recordBatches(chunks: AsyncIterable<Uint8Array>, limits: Required<DataLimits>, signal?: AbortSignal): AsyncGenerator<{ batch: RecordBatch; metadata: Map<string, string> }> {
  const source = new ByteSource(chunks, signal, limits);
  // Closes the input (a file handle) whichever way reading ends, a bad header included.
  try {
    const head = await source.peek(8);
    if (head.length === 0) throw new FormatError("the recording is empty: no Arrow IPC data");
    const text = new TextDecoder().decode(head.subarray(0, 6));
    if (head.length < 8 && (FILE_MAGIC.startsWith(text) || head.every((b) => b === 0xff))) {
      throw new TruncatedError(`the Arrow IPC data ends after ${head.length} bytes`);
    }
    if (text === FILE_MAGIC) {
      yield* fileBatches(await source.readAll(), limits, signal);
      return;
    }
    if (head.length < 4 || new DataView(head.buffer, head.byteOffset, 4).getUint32(0, true) !== CONTINUATION) {
      throw new FormatError(`not Arrow IPC: the data starts with bytes ${[...head.subarray(0, 8)].map((b) => b.toString(16).padStart(2, "0")).join(" ")}, neither the file magic "ARROW1" nor a stream message`);
    }
    yield* streamBatches(source, signal);
  } finally {
    await source.close();
  }
}

/**
 * A file is read whole (its footer is at the end). One whose footer is
 * missing or broken — a truncated file — is read as the stream it contains
 * after the 8-byte magic, so the complete batches still come out (files
 * whose writer put the schema only in the footer, as arrow-js does, have
 * none to give).
 */
async function* fileBatches(bytes: Uint8Array, limits: Required<DataLimits>, signal?: AbortSignal) {
  // A complete file's footer and the messages it points at are checked before apache-arrow decodes them.
  if (new TextDecoder().decode(bytes.subarray(bytes.length - 6)) === FILE_MAGIC && checkIpcFile(bytes, limits).compressed) await loadCodecs(limits.maxBatchBytes);
  let reader;
  try {
    if (new TextDecoder().decode(bytes.subarray(bytes.length - 6)) !== FILE_MAGIC) throw new Error("no closing magic");
    reader = RecordBatchReader.from(bytes).open();
    if (!reader.isFile()) throw new Error("no footer");
  } catch {
    const truncated = `the Arrow IPC file ends before its footer (${bytes.length} bytes)`;
    try {
      yield* streamBatches(new ByteSource(once(bytes.subarray(8)), signal, limits), signal);
    } catch (error) {
      if (error instanceof FormatError || error instanceof TruncatedError) throw new TruncatedError(`${truncated}; ${error.message}`);
      throw error;
    }
    throw new TruncatedError(`${truncated}; every complete record batch was read`);
  }
  const metadata = reader.schema.metadata;
  try {
    for (const batch of reader) if (batch.numRows > 0) yield { batch, metadata };
  } catch (error) {
    if (error instanceof DiffusionLifeError) throw error;
    throw new FormatError(`the Arrow IPC file is corrupt: ${(error as Error).message}`);
  }
}

async function* streamBatches(source: ByteSource, signal?: AbortSignal) {
  let count = 0;
  try {
    const reader = await (await RecordBatchReader.from(source.chunks())).open();
    if (!reader.schema) throw new TruncatedError(`the Arrow IPC stream ends before its schema (${source.bytes} bytes)`);
    const metadata = reader.schema.metadata;
    for await (const batch of reader) {
      throwIfAborted(signal, "reading the recording");
      // A stream with a schema and no batch reads as one empty batch.
      if (batch.numRows === 0) continue;
      count++;
      yield { batch, metadata };
    }
    if (!source.framing.atBoundary) throw new Error("ends inside a message prefix");
    if (source.framing.ended) {
      await source.rest();
      if (source.framing.trailing > 0) {
        throw new FormatError(`the Arrow IPC stream goes on for ${source.framing.trailing} bytes after its end-of-stream marker (after ${count} record batches)`);
      }
    }
  } catch (error) {
    if (error instanceof DiffusionLifeError) throw error;
    if (source.ended) {
      throw new TruncatedError(`the Arrow IPC stream ends in the middle of a message after ${count} complete record batches (${source.bytes} bytes)`);
    }
    throw new FormatError(`the Arrow IPC stream is corrupt after ${count} record batches: ${(error as Error).message}`);
  } finally {
    await source.close();
  }
}

async function* once(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes;
}

/** Byte chunks from any input kind. */
function byteChunks(input: RecordingInput): AsyncIterable<Uint8Array> {
  if (typeof input === "string" || input instanceof URL) return readFileChunks(input);
  if (input instanceof Uint8Array) return once(input);
  if (input instanceof ArrayBuffer) return once(new Uint8Array(input));
  if (typeof (input as ReadableStream).getReader === "function") return readableChunks(input as ReadableStream<Uint8Array>);
  if (typeof (input as AsyncIterable<Uint8Array>)[Symbol.asyncIterator] === "function") return input as AsyncIterable<Uint8Array>;
  throw new OptionError("input", `must be a path, a URL, bytes, a ReadableStream or an async iterable of bytes, not ${Object.prototype.toString.call(input)}`);
}

/** A ReadableStream's chunks; stopping early cancels the stream, which also ends a read still waiting. */
function readableChunks(stream: ReadableStream<Uint8Array>): AsyncIterable<Uint8Array> {
  return {
    [Symbol.asyncIterator]() {
      const reader = stream.getReader();
      return {
        next: () => reader.read() as Promise<IteratorResult<Uint8Array>>,
        async return() {
          await reader.cancel();
          return { done: true, value: undefined };
        },
      };
    },
  };
}

/** Chunks with a look-ahead, a byte count, whether the input has ended, and the framing of the chunks handed out as a stream. */
class ByteSource {
  private readonly iterator: AsyncIterator<Uint8Array>;
  private readonly buffered: Uint8Array[] = [];
  readonly framing: IpcFraming;
  private readonly maxBatchBytes: number;
  /** Rejects when the signal fires, so a read waiting on a stalled input ends at once. */
  private readonly aborted?: Promise<never>;
  bytes = 0;
  ended = false;

  constructor(chunks: AsyncIterable<Uint8Array>, signal?: AbortSignal, limits?: Required<DataLimits>) {
    this.iterator = chunks[Symbol.asyncIterator]();
    this.framing = new IpcFraming(limits);
    this.maxBatchBytes = (limits ?? DEFAULT_LIMITS).maxBatchBytes;
    if (signal) {
      this.aborted = new Promise<never>((_, reject) => {
        const cancel = () => reject(new CancelledError("reading the recording"));
        if (signal.aborted) cancel();
        else signal.addEventListener("abort", cancel, { once: true });
      });
      this.aborted.catch(() => {});
    }
  }

  private async pull(): Promise<boolean> {
    const next = this.iterator.next();
    const { done, value } = await (this.aborted ? Promise.race([next, this.aborted]) : next);
    if (done) {
      this.ended = true;
      return false;
    }
    if (!(value instanceof Uint8Array)) throw new OptionError("input", `yielded ${Object.prototype.toString.call(value)}, not bytes`);
    this.bytes += value.length;
    this.buffered.push(value);
    return true;
  }

  /** At least n bytes from the start (fewer when the input is shorter), without consuming them. */
  async peek(n: number): Promise<Uint8Array> {
    while (this.buffered.reduce((s, c) => s + c.length, 0) < n && (await this.pull()));
    return concatBytes(this.buffered);
  }

  /** Lets the input go (closes a file) when reading stops before its end. */
  async close(): Promise<void> {
    if (!this.ended) await this.iterator.return?.();
  }

  /** Follows whatever the input still holds through the framing (the bytes after a stream's end). */
  async rest(): Promise<void> {
    while (this.buffered.length || (await this.pull())) this.framing.push(this.buffered.shift()!);
  }

  async readAll(): Promise<Uint8Array> {
    while (await this.pull());
    return concatBytes(this.buffered.splice(0));
  }

  /**
   * The chunks, each followed by an empty one when the bytes so far end at a
   * message boundary: apache-arrow's reader asks for one more chunk before
   * it hands out a message that ends exactly at a chunk's end, and the empty
   * chunk answers that at once instead of waiting for the next message.
   */
  async *chunks(): AsyncGenerator<Uint8Array> {
    while (this.buffered.length || (await this.pull())) {
      const chunk = this.buffered.shift()!;
      this.framing.push(chunk);
      // The codecs load only for a recording that needs them, before the reader meets the compressed body.
      if (this.framing.compressed) await loadCodecs(this.maxBatchBytes);
      yield chunk;
      if (this.buffered.length === 0 && this.framing.atBoundary) yield new Uint8Array(0);
    }
  }
}
