/**
 * Step tables, as they come, written as one Arrow IPC stream (what
 * `readRecording` and any Arrow reader follow live): the first table's
 * schema, then each table's record batches. Every step table carries its own
 * prompt dictionary (its own dictionary id), so later batches are re-typed
 * to the first schema; a changed dictionary goes out as a replacement
 * dictionary batch, which the stream format allows.
 */
import { makeData, RecordBatch, RecordBatchStreamWriter, type Schema, Struct } from "apache-arrow";
import type { StepTable } from "./step_table.ts";
import { SchemaError } from "../errors.ts";

/** Writes the tables to `sink` as they come; resolves when the stream is complete. */
export async function writeIpcStream(tables: AsyncIterable<StepTable>, sink: (bytes: Uint8Array) => Promise<void>): Promise<void> {
  const writer = new RecordBatchStreamWriter();
  // The writer's bytes are drained while tables are still coming.
  const pump = (async () => {
    for await (const chunk of writer) await sink(chunk);
  })();
  let schema: Schema | undefined;
  try {
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
    }
  } catch (error) {
    writer.abort(error);
    await pump.catch(() => {});
    throw error;
  }
  writer.finish(); // the end-of-stream marker; closes the writer
  await pump;
}
