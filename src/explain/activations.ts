/**
 * A denoiser's internal activations at every row of a step table (e.g. the
 * digit U-Net's bottleneck `h`), for the probes and the concept directions:
 * each row's x_t (`noisy`) goes through the model again, conditioned on the
 * row's prompt, at the row's level. Needs a denoiser that exposes named
 * outputs (`OnnxDenoiser.run`); no guidance (h is the conditional pass's).
 */
import { OptionError, throwIfAborted } from "../errors.ts";
import { readStepTable, type StepTable } from "../data/step_table.ts";
import type { NoiseLevel } from "../sources/denoiser.ts";
import { inputOf, type Provenance } from "./guided.ts";

/** What `OnnxDenoiser` offers: the model's named outputs for a batch. */
export interface ActivationSource {
  readonly dim: number;
  run(xt: Float32Array, level: NoiseLevel, condition: Int32Array, outputs: readonly string[]): Promise<Record<string, Float32Array>>;
}

export interface ActivationOptions extends Omit<Provenance, "guidance"> {
  /** The output to read (default "h"). */
  output?: string;
  /** Rows per run (default 64). */
  batch?: number;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

/** The activations of every row, rows×dim in table row order. */
export async function denoiserActivations(steps: StepTable, source: ActivationSource, options: ActivationOptions): Promise<{ values: Float32Array; dim: number }> {
  const cols = readStepTable(steps, { image: true });
  const output = options.output ?? "h", batch = options.batch ?? 64;
  if (!(Number.isInteger(batch) && batch >= 1)) throw new OptionError("batch", `must be a positive integer, not ${batch}`);
  const n = cols.instance.length;
  const byStep = new Map<number, number[]>();
  for (let r = 0; r < n; r++) (byStep.get(cols.step[r]) ?? byStep.set(cols.step[r], []).get(cols.step[r])!).push(r);
  let values: Float32Array | undefined, dim = 0, done = 0;
  for (const rows of byStep.values()) {
    for (let b0 = 0; b0 < rows.length; b0 += batch) {
      throwIfAborted(options.signal, "reading activations");
      const chunk = rows.slice(b0, b0 + batch);
      const inputs = chunk.map((r) => inputOf(cols, r, options));
      const xt = new Float32Array(chunk.length * source.dim);
      inputs.forEach((input, i) => xt.set(input.xt, i * source.dim));
      const out = (await source.run(xt, inputs[0].level, Int32Array.from(inputs, (i) => i.condition), [output]))[output];
      if (!values) {
        dim = out.length / chunk.length;
        values = new Float32Array(n * dim);
      }
      chunk.forEach((r, i) => values!.set(out.subarray(i * dim, (i + 1) * dim), r * dim));
      options.onProgress?.((done += chunk.length), n);
    }
  }
  return { values: values ?? new Float32Array(0), dim };
}
