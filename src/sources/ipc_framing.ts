/**
 * Follows the message framing of an Arrow IPC stream as its bytes go by,
 * ahead of apache-arrow's reader, which gets each chunk only after it went
 * through here. That serves three ends:
 *
 * - A stream that stops between two messages (a writer that closed without
 *   the end-of-stream marker, which the format allows) can be told from one
 *   cut inside a message: apache-arrow reads a stream that stops within the
 *   8-byte prefix of a message as ended.
 * - Sizes are checked before the reader allocates from them: a message's
 *   metadata length and body length, and, for a compressed body, the
 *   uncompressed length each buffer declares in its 8-byte prefix, against
 *   `maxBatchBytes` (LimitError) and against the body (FormatError).
 * - Bytes after the end-of-stream marker are counted, so a reader can
 *   refuse them.
 *
 * Each message is: 0xFFFFFFFF, an int32 metadata length M, M bytes of a
 * flatbuffer `Message` (decoded by apache-arrow's own `Message.decode`),
 * then `Message.bodyLength` body bytes. M = 0 is the end-of-stream marker.
 */
import { Message, type MessageHeader } from "apache-arrow";
import { FormatError, LimitError } from "../errors.ts";
import { DEFAULT_LIMITS, type DataLimits } from "../data/sizes.ts";
import { checkFooter, checkMessageMetadata } from "./ipc_metadata.ts";

/** Metadata of one message larger than this is refused (Arrow's own writers stay far below). */
const MAX_METADATA = 64 * 1024 * 1024;
/** Arrow's compressed buffer prefix: the uncompressed length, −1 when the buffer was left uncompressed. */
const UNCOMPRESSED = -1n;

interface Prefix {
  /** Where the buffer starts in the body. */
  offset: number;
  /** The buffer's stored length (prefix included). */
  length: number;
  bytes: Uint8Array;
  have: number;
}

export class IpcFraming {
  private prefix = new Uint8Array(8);
  private prefixHave = 0;
  private metadata = new Uint8Array(0);
  private metadataHave = 0;
  private bodyLength = 0;
  private bodyAt = 0;
  /** The compressed buffers' 8-byte prefixes still to be read from the body, by offset. */
  private prefixes: Prefix[] = [];
  /** The uncompressed bytes the current body's buffers declared so far. */
  private declared = 0;
  private state: "prefix" | "metadata" | "body" | "end" = "prefix";
  private readonly maxBatchBytes: number;
  /** Bytes that came after the end-of-stream marker. */
  trailing = 0;
  /** Whether a record or dictionary batch with a compressed body went by (its codec must be loaded before it is read). */
  compressed = false;

  constructor(limits: Required<DataLimits> = DEFAULT_LIMITS) {
    this.maxBatchBytes = limits.maxBatchBytes;
  }

  /** Between two messages, or after the end-of-stream marker. */
  get atBoundary(): boolean {
    return this.state === "end" || (this.state === "prefix" && this.prefixHave === 0);
  }

  /** Whether the end-of-stream marker has gone by. */
  get ended(): boolean {
    return this.state === "end";
  }

  /** Follows a chunk; throws LimitError or FormatError for a message whose sizes are refused. */
  push(chunk: Uint8Array): void {
    let i = 0;
    while (i < chunk.length) {
      if (this.state === "end") {
        this.trailing += chunk.length - i;
        return;
      }
      if (this.state === "prefix") {
        const n = Math.min(8 - this.prefixHave, chunk.length - i);
        this.prefix.set(chunk.subarray(i, i + n), this.prefixHave);
        this.prefixHave += n;
        i += n;
        if (this.prefixHave < 8) return;
        const view = new DataView(this.prefix.buffer);
        const length = view.getInt32(4, true);
        this.prefixHave = 0;
        if (view.getInt32(0, true) !== -1) {
          throw new FormatError(`an Arrow IPC message starts with bytes ${[...this.prefix.subarray(0, 4)].map((b) => b.toString(16).padStart(2, "0")).join(" ")}, not the continuation marker ff ff ff ff`);
        }
        if (length === 0) {
          this.state = "end";
        } else if (length < 0 || length > MAX_METADATA) {
          throw new FormatError(`an Arrow IPC message declares ${length} bytes of metadata`);
        } else {
          this.metadata = new Uint8Array(length);
          this.metadataHave = 0;
          this.state = "metadata";
        }
      } else if (this.state === "metadata") {
        const n = Math.min(this.metadata.length - this.metadataHave, chunk.length - i);
        this.metadata.set(chunk.subarray(i, i + n), this.metadataHave);
        this.metadataHave += n;
        i += n;
        if (this.metadataHave < this.metadata.length) return;
        this.beginBody(this.metadata);
      } else {
        const n = Math.min(this.bodyLength - this.bodyAt, chunk.length - i);
        this.readPrefixes(chunk.subarray(i, i + n));
        this.bodyAt += n;
        i += n;
        if (this.bodyAt === this.bodyLength) this.state = "prefix";
      }
    }
  }

  /** Checks a message's declared sizes before its body is read. */
  private beginBody(metadata: Uint8Array): void {
    checkMessageMetadata(metadata);
    let message: Message, batch: ReturnType<Message<MessageHeader.RecordBatch>["header"]> | undefined;
    try {
      message = Message.decode(metadata);
      batch = message.isRecordBatch() ? message.header() : message.isDictionaryBatch() ? message.header().data : undefined;
    } catch {
      // Not a message: the reader reports it.
      this.state = "prefix";
      return;
    }
    const bodyLength = Number(message.bodyLength);
    if (!(Number.isSafeInteger(bodyLength) && bodyLength >= 0)) throw new FormatError(`an Arrow IPC message declares a body of ${message.bodyLength} bytes`);
    if (bodyLength > this.maxBatchBytes) {
      throw new LimitError("maxBatchBytes", `an Arrow IPC message declares a body of ${bodyLength} bytes, more than the ceiling of ${this.maxBatchBytes}`);
    }
    this.bodyLength = bodyLength;
    this.bodyAt = 0;
    this.declared = 0;
    this.prefixes = [];
    if (batch) {
      if (batch.compression) this.compressed = true;
      for (const { offset, length } of batch.buffers) {
        if (!(offset >= 0 && length >= 0 && offset + length <= bodyLength)) {
          throw new FormatError(`an Arrow IPC record batch declares a buffer at bytes ${offset}..${offset + length} of a ${bodyLength}-byte body`);
        }
        if (batch.compression && length > 0) {
          if (length < 8) throw new FormatError(`a compressed Arrow IPC buffer of ${length} bytes has no room for its length prefix`);
          this.prefixes.push({ offset, length, bytes: new Uint8Array(8), have: 0 });
        }
      }
      this.prefixes.sort((a, b) => a.offset - b.offset);
    }
    this.state = bodyLength > 0 ? "body" : "prefix";
  }

  /** Collects the compressed buffers' prefixes from a piece of the body that starts at `bodyAt`. */
  private readPrefixes(piece: Uint8Array): void {
    const from = this.bodyAt, to = from + piece.length;
    while (this.prefixes.length > 0 && this.prefixes[0].offset < to) {
      const p = this.prefixes[0];
      const start = p.offset + p.have;
      if (start >= to) break;
      const n = Math.min(8 - p.have, to - start);
      p.bytes.set(piece.subarray(start - from, start - from + n), p.have);
      p.have += n;
      if (p.have < 8) break;
      this.prefixes.shift();
      const size = new DataView(p.bytes.buffer).getBigInt64(0, true);
      if (size < UNCOMPRESSED) throw new FormatError(`a compressed Arrow IPC buffer declares ${size} bytes`);
      this.declared += size === UNCOMPRESSED ? p.length - 8 : Number(size);
      if (this.declared > this.maxBatchBytes) {
        throw new LimitError("maxBatchBytes", `an Arrow IPC record batch declares more than ${this.maxBatchBytes} bytes once decompressed`);
      }
    }
  }
}

/**
 * Checks a whole Arrow IPC file (one that ends with its magic) before
 * apache-arrow opens it: its footer, and each message the footer points at
 * (metadata, body length against `maxBatchBytes` and against the file),
 * as `IpcFraming` checks a stream's. A footer whose own size is impossible
 * is left to the reader, which reports the file as truncated. Says whether
 * any batch is compressed.
 */
export function checkIpcFile(bytes: Uint8Array, limits: Required<DataLimits> = DEFAULT_LIMITS): { compressed: boolean } {
  let compressed = false;
  if (bytes.length < 22) return { compressed };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const size = view.getInt32(bytes.length - 10, true), footerStart = bytes.length - 10 - size;
  if (!(size > 0 && footerStart >= 8)) return { compressed };
  for (const { offset, bodyLength, type } of checkFooter(bytes.subarray(footerStart, bytes.length - 10))) {
    if (!(offset >= 8 && offset + 8 <= footerStart)) throw new FormatError(`the Arrow IPC file's footer points at byte ${offset}, outside its messages`);
    const framing = new IpcFraming(limits);
    const prefix = view.getInt32(offset, true) === -1 ? 8 : 4;
    const length = view.getInt32(offset + prefix - 4, true);
    if (!(length > 0 && offset + prefix + length <= footerStart)) throw new FormatError(`the Arrow IPC file's message at byte ${offset} declares ${length} bytes of metadata`);
    if (!(bodyLength >= 0 && offset + prefix + length + bodyLength <= footerStart)) {
      throw new FormatError(`the Arrow IPC file's footer declares a ${bodyLength}-byte body at byte ${offset}, past its messages`);
    }
    // apache-arrow's file reader loops without end on a block that holds another kind of message.
    const kind = checkMessageMetadata(bytes.subarray(offset + prefix, offset + prefix + length));
    if (kind !== type) throw new FormatError(`the Arrow IPC file's footer points at byte ${offset} for a ${type === 3 ? "record" : "dictionary"} batch, and finds ${["no message", "a schema", "a dictionary batch", "a record batch"][kind] ?? `message type ${kind}`}`);
    // The message's metadata, sizes and compressed buffers' prefixes, as a stream's would be checked.
    const end = offset + prefix + length + bodyLength;
    framing.push(prefix === 8 ? bytes.subarray(offset, end) : concat(Uint8Array.of(255, 255, 255, 255), bytes.subarray(offset, end)));
    compressed ||= framing.compressed;
  }
  return { compressed };
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
