/**
 * Compressed Arrow IPC bodies (LZ4 frame and ZSTD, as polars, pyarrow and
 * arrow-rs write them), decompressed by two well-kept packages: `lz4-napi`
 * (lz4_flex through Node-API, which Node, Deno and Bun all load) and `fzstd`
 * (pure JavaScript). They
 * are registered with apache-arrow's codec registry the first time a
 * recording is read, unless a codec is registered for that compression
 * already; where a package is not installed, reading such a body is a
 * MissingDependencyError that names it.
 *
 * Each compressed buffer starts with its uncompressed length (int64). It is
 * the only size allocated: it must fit the ceiling (LimitError), and the
 * data must decompress to exactly that many bytes (FormatError), so a
 * buffer is never padded with zeros nor a bomb expanded.
 */
import { CompressionType, compressionRegistry } from "apache-arrow";
import { DiffusionLifeError, FormatError, LimitError, MissingDependencyError } from "../errors.ts";
import { DEFAULT_LIMITS } from "../data/sizes.ts";
import { importOptional } from "../runtime/optional.ts";

type Lz4 = { decompressFrameSync(data: Uint8Array): Uint8Array };
type Zstd = { Decompress: new (ondata: (chunk: Uint8Array, final?: boolean) => void) => { push(chunk: Uint8Array, final?: boolean): void } };

/** The largest buffer a codec decompresses: the largest maxBatchBytes any reader asked for. */
let ceiling = DEFAULT_LIMITS.maxBatchBytes;
let loading: Promise<void> | undefined;

/** Registers the codecs (once) and raises the decompression ceiling to `maxBatchBytes`. */
export function loadCodecs(maxBatchBytes: number): Promise<void> {
  ceiling = Math.max(ceiling, maxBatchBytes);
  return (loading ??= (async () => {
    await register(CompressionType.LZ4_FRAME, "lz4-napi", async () => {
      const lz4 = await importOptional("lz4-napi", "reading LZ4-compressed Arrow IPC", () => import("lz4-napi"));
      return ((lz4 as { default?: Lz4 }).default ?? lz4) as Lz4;
    }, lz4Decode);
    await register(CompressionType.ZSTD, "fzstd", async () => {
      const zstd = await importOptional("fzstd", "reading ZSTD-compressed Arrow IPC", () => import("fzstd"));
      return ((zstd as { default?: Zstd }).default ?? zstd) as Zstd;
    }, zstdDecode);
  })());
}

async function register<M>(type: CompressionType, name: string, load: () => Promise<M>, decode: (module: M, bytes: Uint8Array, size: number) => Uint8Array): Promise<void> {
  if (compressionRegistry.get(type)) return;
  let module: M | undefined, missing: MissingDependencyError | undefined;
  try {
    module = await load();
  } catch (error) {
    if (!(error instanceof MissingDependencyError)) throw error;
    missing = error;
  }
  compressionRegistry.set(type, {
    decode(bytes: Uint8Array): Uint8Array {
      if (missing) throw missing;
      const size = uncompressedLength(bytes, name);
      try {
        return decode(module!, bytes, size);
      } catch (error) {
        if (error instanceof DiffusionLifeError) throw error;
        throw new FormatError(`a ${name === "fzstd" ? "ZSTD" : "LZ4"}-compressed Arrow IPC buffer is corrupt: ${(error as Error).message}`);
      }
    },
  });
}

/**
 * The int64 before the compressed bytes (apache-arrow hands the codec a view
 * that starts just after it), checked against the ceiling.
 */
function uncompressedLength(bytes: Uint8Array, name: string): number {
  if (bytes.byteOffset < 8) throw new FormatError(`a compressed Arrow IPC buffer for ${name} comes without its length prefix`);
  const size = new DataView(bytes.buffer, bytes.byteOffset - 8, 8).getBigInt64(0, true);
  if (size < 0n) throw new FormatError(`a compressed Arrow IPC buffer declares ${size} bytes`);
  if (size > BigInt(ceiling)) {
    throw new LimitError("maxBatchBytes", `a compressed Arrow IPC buffer declares ${size} bytes, more than the ceiling of ${ceiling}`);
  }
  return Number(size);
}

/**
 * LZ4 expands at most 255-fold, so a frame's output is bounded by its input
 * (itself bounded by the body's length); a frame that declares a content
 * size must declare the buffer's.
 */
function lz4Decode(lz4: Lz4, bytes: Uint8Array, size: number): Uint8Array {
  const declared = lz4ContentSize(bytes);
  if (declared !== undefined && declared !== size) throw new FormatError(`an LZ4-compressed Arrow IPC buffer declares ${size} bytes and its frame ${declared}`);
  const out = lz4.decompressFrameSync(bytes);
  if (out.length !== size) throw new FormatError(`an LZ4-compressed Arrow IPC buffer declares ${size} bytes and holds ${out.length}`);
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}

/** The content size an LZ4 frame header declares, if it does. */
function lz4ContentSize(bytes: Uint8Array): number | undefined {
  if (bytes.length < 15 || bytes[0] !== 0x04 || bytes[1] !== 0x22 || bytes[2] !== 0x4d || bytes[3] !== 0x18 || !(bytes[4] & 0x08)) return undefined;
  let value = 0;
  for (let i = 13; i >= 6; i--) value = value * 256 + bytes[i];
  return value;
}

/** The window a ZSTD frame header asks the decoder to allocate may exceed the content by this much at most. */
const MAX_ZSTD_WINDOW = 2 ** 23;

function zstdDecode(zstd: Zstd, bytes: Uint8Array, size: number): Uint8Array {
  const window = zstdWindow(bytes);
  if (window > Math.max(size, MAX_ZSTD_WINDOW)) {
    throw new FormatError(`a ZSTD-compressed Arrow IPC buffer of ${size} bytes asks for a ${window}-byte window`);
  }
  const out = new Uint8Array(size);
  let got = 0;
  const stream = new zstd.Decompress((chunk) => {
    if (got + chunk.length > size) throw new FormatError(`a ZSTD-compressed Arrow IPC buffer declares ${size} bytes and holds more`);
    out.set(chunk, got);
    got += chunk.length;
  });
  stream.push(bytes, true);
  if (got !== size) throw new FormatError(`a ZSTD-compressed Arrow IPC buffer declares ${size} bytes and holds ${got}`);
  return out;
}

/** The window size a ZSTD frame header declares (the frame's content size for a single-segment frame); 0 when it is no frame. */
function zstdWindow(bytes: Uint8Array): number {
  if (bytes.length < 6 || bytes[0] !== 0x28 || bytes[1] !== 0xb5 || bytes[2] !== 0x2f || bytes[3] !== 0xfd) return 0;
  const descriptor = bytes[4];
  if ((descriptor >> 5) & 1) {
    // Single segment: the window is the content size.
    const sizeBytes = [1, 2, 4, 8][descriptor >> 6], at = 5 + [0, 1, 2, 4][descriptor & 3];
    if (at + sizeBytes > bytes.length) return 0;
    let value = 0;
    for (let i = sizeBytes - 1; i >= 0; i--) value = value * 256 + bytes[at + i];
    return sizeBytes === 2 ? value + 256 : value;
  }
  const exponent = bytes[5] >> 3, mantissa = bytes[5] & 7;
  const base = 2 ** (10 + exponent);
  return base + (base / 8) * mantissa;
}
