/**
 * The two ways in besides the default generator, at the default size (5
 * prompts × 20 instances × 20 steps):
 *
 * - onnx-denoiser: sampling steps per second with the closed-form denoiser
 *   run as an ONNX model (onnxruntime-web, wasm) against the same denoiser in
 *   TypeScript, over the same 1,000 digits (100 per class), in one process.
 * - arrow-ingest: reading recorded step tables (x̂0 and x_t, 784 values each)
 *   from Arrow IPC, stream and file format, from bytes and from a
 *   ReadableStream of 64 KiB chunks, validated and re-built as step tables:
 *   rows per second and MB per second; also 20 steps × 1000 instances.
 */
import { RecordBatchFileWriter, RecordBatchStreamWriter } from "apache-arrow";
import { closedFormDenoiser, noiseSchedule, readRecording, type RecordingInput, sampleDiffusion, type StepTable, stepTable } from "../mod.ts";
import { closedFormOnnx, onnxDenoiser } from "../onnx.ts";
import { DEFAULT_MNIST_PROMPTS, loadMnist, MNIST_DIM, MNIST_SHAPE, mnistPromptLabel, mnistSubset, mnistTrajectories } from "../mnist.ts";
import { type BenchCase, percentile, round, timed } from "./bench.ts";
import { random } from "../src/util/random.ts";

const PROMPTS = DEFAULT_MNIST_PROMPTS.map((p) => ({ label: mnistPromptLabel(p), condition: p === "any" ? -1 : p }));
const INSTANCES = 20, STEPS = 20;

export const onnxDenoiserCase: BenchCase = {
  name: "onnx-denoiser",
  async *run() {
    const sub = mnistSubset(await loadMnist(), 100);
    const data = { images: sub.images, labels: sub.labels, dim: MNIST_DIM };
    const [model, buildMs] = await timed(() => closedFormOnnx(data, { schedule: noiseSchedule("cosine"), shape: MNIST_SHAPE }));
    const [onnx, sessionMs] = await timed(() =>
      onnxDenoiser({ model, shape: MNIST_SHAPE, prediction: "x0", condition: { input: "class_labels", kind: "label", unconditional: -1 }, backend: "wasm" })
    );
    const options = { prompts: PROMPTS, instancesPerPrompt: INSTANCES, steps: STEPS, seed: 0, range: [-1, 1] as const };
    const rows = PROMPTS.length * INSTANCES;
    const results: Record<string, number> = {};
    for (const [name, denoiser] of [["typescript", closedFormDenoiser(data)], ["onnx-wasm", onnx]] as const) {
      const [, ms] = await timed(async () => {
        for await (const _ of sampleDiffusion(denoiser, options));
      });
      results[name] = ms;
      yield {
        denoiser: name,
        instances: rows,
        steps: STEPS,
        trainingImages: sub.count,
        ...(name === "onnx-wasm" ? { modelMB: round(model.length / 2 ** 20, 1), buildMs: round(buildMs, 1), sessionMs: round(sessionMs, 1) } : {}),
        totalMs: round(ms, 1),
        stepsPerSecond: round((STEPS / ms) * 1000, 2),
        imagesPerSecond: Math.round(((rows * STEPS) / ms) * 1000),
      };
    }
    yield { onnxOverTypescript: round(results["onnx-wasm"] / results.typescript, 2) };
    await onnx.release();
  },
};

/** IPC bytes with one record batch per step (all of the table's rows of that step are contiguous). */
function ipcBytes(table: StepTable, format: "stream" | "file", steps: number): Uint8Array {
  const writer = format === "stream" ? new RecordBatchStreamWriter() : new RecordBatchFileWriter();
  const batch = table.batches[0];
  const per = table.numRows / steps;
  for (let s = 0; s < steps; s++) writer.write(batch.slice(s * per, (s + 1) * per));
  writer.finish();
  return writer.toUint8Array(true);
}

function chunks(bytes: Uint8Array, size = 1 << 16): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream({
    pull(c) {
      if (at >= bytes.length) return c.close();
      c.enqueue(bytes.subarray(at, (at += size)));
    },
  });
}

/** Random step table of steps × instances rows with 784-value images (content does not matter to ingest). */
function synthetic(steps: number, instances: number): StepTable {
  const rng = random(1);
  const rows = steps * instances;
  return stepTable({
    instance: Int32Array.from({ length: rows }, (_, r) => r % instances),
    prompt: Int32Array.from({ length: rows }, (_, r) => (r % instances) % 5),
    prompts: PROMPTS.map((p) => p.label),
    step: Int32Array.from({ length: rows }, (_, r) => Math.floor(r / instances)),
    timestep: new Float32Array(rows).fill(1),
    image: Float32Array.from({ length: rows * MNIST_DIM }, () => rng.next()),
    imageShape: MNIST_SHAPE,
  });
}

export const arrowIngestCase: BenchCase = {
  name: "arrow-ingest",
  async *run() {
    const recorded = await mnistTrajectories({ instancesPerPrompt: INSTANCES, steps: STEPS, seed: 0, digitsPerClass: 300 });
    const sets = [
      { data: "default (x̂0 + x_t)", table: recorded, steps: STEPS },
      { data: "20 steps × 1000 instances (x̂0)", table: synthetic(20, 1000), steps: 20 },
    ];
    for (const { data, table, steps } of sets) {
      for (const format of ["stream", "file"] as const) {
        const bytes = ipcBytes(table, format, steps);
        for (const via of ["bytes", "ReadableStream"] as const) {
          const times: number[] = [];
          let rows = 0;
          for (let rep = 0; rep < 3; rep++) {
            const input: RecordingInput = via === "bytes" ? bytes : chunks(bytes);
            const [n, ms] = await timed(async () => {
              let count = 0;
              for await (const t of readRecording(input)) count += t.numRows;
              return count;
            });
            rows = n;
            times.push(ms);
          }
          const ms = percentile(times, 50);
          yield {
            data,
            format,
            via,
            rows,
            MB: round(bytes.length / 1e6, 1),
            ms: round(ms, 1),
            rowsPerSecond: Math.round((rows / ms) * 1000),
            MBPerSecond: round(bytes.length / 1e6 / (ms / 1000), 1),
          };
        }
      }
    }
  },
};
