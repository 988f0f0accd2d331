/**
 * Row batches for encoders that work in chunks: bounded memory per model
 * call, progress after each chunk, and a place to stop when cancelled.
 */
import { DimensionError, OptionError, throwIfAborted } from "../errors.ts";
import type { ImageShape } from "../data/step_table.ts";
import type { EncoderInput } from "./encoder.ts";

export function checkBatchSize(batchSize: number): number {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new OptionError("batchSize", `must be a positive integer, got ${batchSize}`);
  return batchSize;
}

/** Calls `work(start, end)` for consecutive row ranges of at most batchSize rows. */
export async function inBatches(
  input: Pick<EncoderInput, "count" | "signal" | "onProgress">,
  batchSize: number,
  what: string,
  work: (start: number, end: number) => void | Promise<void>,
): Promise<void> {
  for (let start = 0; start < input.count; start += batchSize) {
    throwIfAborted(input.signal, what);
    const end = Math.min(start + batchSize, input.count);
    await work(start, end);
    input.onProgress?.(end, input.count);
  }
  throwIfAborted(input.signal, what);
}

/** The image shape of an encoder input, checked against its values: a DimensionError says what does not fit. */
export function imageShapeOf(input: EncoderInput, encoder: string): ImageShape {
  const shape = input.imageShape ?? [1, 1, input.dim];
  const [c, h, w] = shape;
  if (![c, h, w].every((d) => Number.isInteger(d) && d >= 1)) {
    throw new DimensionError(`encoder "${encoder}": image shape [${shape.join(", ")}] is not three positive integers`, { column: "image" });
  }
  if (c * h * w !== input.dim) {
    throw new DimensionError(`encoder "${encoder}": image shape [${shape.join(", ")}] holds ${c * h * w} values, the rows have ${input.dim}`, { column: "image" });
  }
  if (input.values.length !== input.count * input.dim) {
    throw new DimensionError(`encoder "${encoder}": ${input.values.length} values do not make ${input.count} rows of ${input.dim}`, { column: "image" });
  }
  return shape;
}
