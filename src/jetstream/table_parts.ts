/**
 * A table as NATS messages: each part is a self-contained Arrow IPC stream
 * (schema, dictionaries, one record batch) of consecutive rows, so a reader
 * needs no earlier message to read it, and no part exceeds the server's
 * `max_payload` (1 MiB by default).
 */
import { type Table, tableFromIPC, tableToIPC } from "apache-arrow";
import { DiffusionLifeError, FormatError, LimitError } from "../errors.ts";
import { IpcFraming } from "../sources/ipc_framing.ts";
import { type DataLimits, resolveLimits } from "../data/sizes.ts";

/** Room left in each message for headers. */
export const HEADROOM = 4096;

/** The table cut into IPC streams of at most `maxBytes` each (at least one, even for no rows). */
export function tableParts(table: Table, maxBytes: number): Uint8Array[] {
  const whole = tableToIPC(table, "stream");
  const budget = maxBytes - HEADROOM;
  if (whole.length <= budget || table.numRows <= 1) return checkSize([whole], budget);
  // Rows are of one width (fixed-size lists), so a proportional cut nearly fits; cut finer until it does.
  for (let parts = Math.ceil(whole.length / budget); parts <= table.numRows; parts = Math.ceil(parts * 1.25)) {
    const rows = Math.ceil(table.numRows / parts);
    const out: Uint8Array[] = [];
    for (let from = 0; from < table.numRows; from += rows) out.push(tableToIPC(table.slice(from, Math.min(from + rows, table.numRows)), "stream"));
    if (out.every((bytes) => bytes.length <= budget)) return out;
  }
  return checkSize([tableToIPC(table.slice(0, 1), "stream")], budget);
}

function checkSize(parts: Uint8Array[], budget: number): Uint8Array[] {
  const big = parts.find((p) => p.length > budget);
  if (big) throw new LimitError("maxPayload", `one row takes ${big.length} bytes as Arrow IPC, more than a NATS message holds (${budget + HEADROOM})`);
  return parts;
}

/**
 * Reads one part: bytes that are no Arrow IPC stream are a FormatError, one
 * that declares more than `limits` allow a LimitError (checked before the
 * buffers are allocated).
 */
export function readPart(bytes: Uint8Array, limits?: DataLimits): Table {
  const text = (from: number, to: number) => new TextDecoder().decode(bytes.subarray(from, to));
  if (bytes.length >= 6 && text(0, 6) === "ARROW1") throw new FormatError("an Arrow IPC file, where a message holds an IPC stream");
  // The stream format opens with the continuation marker 0xFFFFFFFF, then the schema's length.
  if (bytes.length < 8 || bytes[0] !== 0xff || bytes[1] !== 0xff || bytes[2] !== 0xff || bytes[3] !== 0xff) {
    throw new FormatError(`not an Arrow IPC stream (${bytes.length} bytes)`);
  }
  const framing = new IpcFraming(resolveLimits(limits));
  framing.push(bytes);
  if (!framing.atBoundary) throw new FormatError(`an Arrow IPC stream cut inside a message (${bytes.length} bytes)`);
  try {
    return tableFromIPC(bytes);
  } catch (error) {
    if (error instanceof DiffusionLifeError) throw error;
    throw new FormatError(`a corrupt Arrow IPC stream: ${(error as Error).message}`);
  }
}
