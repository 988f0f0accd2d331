/** Applies an encoder to a step table, giving it a (new) features column. */
import { Table } from "apache-arrow";
import { checkFinite, vectorColumn } from "../data/columns.ts";
import { readStepTable, type StepTable } from "../data/step_table.ts";
import { markValidated } from "../data/validated.ts";
import { DimensionError } from "../errors.ts";
import type { Encoder, EncoderInput } from "./encoder.ts";

export interface EncodeOptions {
  signal?: AbortSignal;
  /** Rows encoded so far, after each batch of an encoder that batches. */
  onProgress?: (done: number, total: number) => void;
}

/**
 * The table with the encoder's features (a StepTable: the input is read
 * without checking it again, the new features are checked finite).
 */
export async function encodeTable(table: StepTable, encoder: Encoder, options: EncodeOptions = {}): Promise<StepTable> {
  const cols = readStepTable(table, encoder.input === "image" ? { image: true } : {});
  const useFeatures = encoder.input === "features" && cols.features !== undefined;
  const count = cols.instance.length;
  const { signal, onProgress } = options;
  const input: EncoderInput = useFeatures
    ? { values: cols.features!, dim: cols.featureDim!, count, step: cols.step, signal, onProgress }
    : { values: cols.image!, dim: cols.image!.length / Math.max(count, 1), count, imageShape: cols.imageShape, step: cols.step, signal, onProgress };
  const { features, dim } = await encoder.encode(input);
  if (features.length !== input.count * dim) {
    throw new DimensionError(`encoder "${encoder.name}" returned ${features.length} values for ${input.count} rows of ${dim}`, { column: "features" });
  }
  checkFinite(features, "features", dim);
  const columns: Record<string, unknown> = {};
  for (const field of table.schema.fields) if (field.name !== "features") columns[field.name] = table.getChild(field.name);
  columns.features = vectorColumn(features, dim);
  const out = new Table(columns as never);
  for (const [key, value] of table.schema.metadata) out.schema.metadata.set(key, value);
  return markValidated(out, "step");
}
