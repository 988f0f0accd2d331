/**
 * Step tables, as they come, written as one Arrow IPC stream (what
 * `readRecording` and any Arrow reader follow live): the first table's
 * schema, then each table's record batches. Every step table carries its own
 * prompt dictionary (its own dictionary id), so later batches are re-typed
 * to the first schema; a changed dictionary goes out as a replacement
 * dictionary batch, which the stream format allows.
 *
 * Backpressure: each table's bytes are handed to the sink, and the next
 * table is not asked for until the sink has taken them, so a slow or stalled
 * reader holds the producer (one table's bytes are ever in flight).
 */
import { AsyncByteQueue, makeData, RecordBatch, RecordBatchStreamWriter, type Schema, Struct } from "apache-arrow";
import type { StepTable } from "./step_table.ts";
import { SchemaError } from "../errors.ts";

/** Collects what the writer writes, to be taken (and awaited into the sink) after each table. */
class Collected extends AsyncByteQueue {
  private chunks: Uint8Array[] = [];

  override write(value: Uint8Array): void {
    if (value.byteLength > 0) this.chunks.push(value);
  }

  /** The bytes written since the last take, as one array (empty when none). */
  take(): Uint8Array {
    const chunks = this.chunks;
    this.chunks = [];
    if (chunks.length === 1) return chunks[0];
    const out = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
    chunks.reduce((offset, c) => (out.set(c, offset), offset + c.byteLength), 0);
    return out;
  }
}

/**
 * Writes the tables to `sink` as they come; resolves when the stream is
 * complete. The next table is read only once the sink has taken the bytes
 * of the one before (its promise resolved).
 */
export async function writeIpcStream(tables: AsyncIterable<StepTable>, sink: (bytes: Uint8Array) => Promise<void>): Promise<void> {
  const collected = new Collected();
  const writer = new RecordBatchStreamWriter().reset(collected);
  const flush = async () => {
    const bytes = collected.take();
    if (bytes.byteLength > 0) await sink(bytes);
  };
  let schema: Schema | undefined;
  for await (const table of tables) {
    schema ??= table.schema;
    const names = (s: Schema) => s.fields.map((f) => f.name).join(", ");
    if (names(table.schema) !== names(schema)) {
      throw new SchemaError("wrong-type", `a step table has columns ${names(table.schema)}, the first had ${names(schema)}`);
    }
    for (const batch of table.batches) {
      const data = makeData({
        type: new Struct(schema.fields),
        length: batch.numRows,
        nullCount: 0,
        children: batch.data.children.map((child, i) => child.clone(schema!.fields[i].type)),
      });
      writer.write(new RecordBatch(schema, data));
    }
    await flush();
  }
  writer.finish(); // the end-of-stream marker; closes the writer
  await flush();
}
