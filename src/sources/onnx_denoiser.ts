/**
 * A Denoiser backed by an ONNX model (a U-Net or DiT exported from diffusers,
 * or anything with the same kind of inputs) through onnxruntime-web: the wasm
 * backend everywhere, WebGPU where the runtime has a GPU adapter (src/onnx).
 *
 * Inputs, by name (defaults as diffusers exports them):
 *   sample      [batch, C, H, W] (or [batch, C·H·W]) float32: x_t
 *   timestep    [batch], [1] or a scalar, of the model's declared type
 *               (int64 rounds the value), fed `timestep(level)` (default t)
 *   condition   optional: class labels ([batch], integer or float type) or
 *               embeddings ([batch, …dims] float32), chosen per row by the
 *               sampler's condition index (−1 = unconditional)
 * Output: one tensor of the sample's size, meaning `prediction`.
 *
 * Rows are run `batchSize` at a time (default: all at once); a model whose
 * batch dimension is fixed runs in batches of that size, the last padded.
 */
import { DimensionError, ModelError, OptionError } from "../errors.ts";
import type { ImageShape } from "../data/step_table.ts";
import { readModelBytes } from "../runtime/model_file.ts";
import { describeValue, findValue, type ValueInfo } from "../onnx/model_info.ts";
import { createSession, type OnnxBackend, type OnnxSession } from "../onnx/session.ts";
import type { TensorArray, TensorData } from "../onnx/tensor.ts";
import type { Denoiser, NoiseLevel, Prediction } from "./denoiser.ts";

/** Class labels fed as they are (−1 becomes `unconditional`). */
export interface LabelCondition {
  input: string;
  kind: "label";
  /** The label of the unconditional (null) class, e.g. the class count for DiT (default: −1 is refused). */
  unconditional?: number;
}

/** One embedding tensor per condition index, e.g. text-encoder states [77, 768] per prompt. */
export interface EmbeddingCondition {
  input: string;
  kind: "embedding";
  /** The dims of one row's embedding. */
  dims: readonly number[];
  /** Index c → embedding of prompt c (row-major, the product of dims values). */
  embeddings: readonly Float32Array[];
  /** The embedding for −1 (e.g. of the empty prompt). */
  unconditional?: Float32Array;
}

export interface OnnxDenoiserOptions {
  /** ONNX bytes, or a path or URL to read them from. */
  model: Uint8Array | ArrayBuffer | string | URL;
  /** [C, H, W] of one sample. */
  shape: ImageShape;
  /** What the output means (default "epsilon"). */
  prediction?: Prediction;
  /** Input names (default "sample" and "timestep"). */
  sample?: string;
  timestep?: string;
  /** The value fed as the timestep (default the level's t). */
  timestepValue?: (level: NoiseLevel) => number;
  condition?: LabelCondition | EmbeddingCondition;
  /** Output name (default the model's first output). */
  output?: string;
  /** Rows per run (default all; a fixed batch dimension in the model wins). */
  batchSize?: number;
  /** "auto" (default: WebGPU on a hardware adapter, else wasm), "wasm" or "webgpu". */
  backend?: OnnxBackend | "auto";
}

export interface OnnxDenoiser extends Denoiser {
  predict(xt: Float32Array, level: NoiseLevel, condition: Int32Array, out: Float32Array): Promise<void>;
  /**
   * Runs the model on xt (batch×dim) with the same feeds as `predict` and
   * returns the named outputs (any of the model's, e.g. a U-Net's bottleneck
   * `h`), each batch×(its size per row), as float32, row-major.
   */
  run(xt: Float32Array, level: NoiseLevel, condition: Int32Array, outputs: readonly string[]): Promise<Record<string, Float32Array>>;
  readonly shape: ImageShape;
  readonly backend: OnnxBackend;
  release(): Promise<void>;
}

export async function onnxDenoiser(options: OnnxDenoiserOptions): Promise<OnnxDenoiser> {
  const { shape } = options;
  if (!Array.isArray(shape) || shape.length !== 3 || !shape.every((d) => Number.isInteger(d) && d > 0)) {
    throw new OptionError("shape", `must be [C, H, W] of positive integers, not ${JSON.stringify(shape)}`);
  }
  const prediction = options.prediction ?? "epsilon";
  if (!["epsilon", "v", "x0"].includes(prediction)) throw new OptionError("prediction", `must be "epsilon", "v" or "x0", not ${JSON.stringify(prediction)}`);
  const timestepValue = options.timestepValue ?? ((level: NoiseLevel) => level.t);
  const bytes = typeof options.model === "string" || options.model instanceof URL ? await readModelBytes(options.model) : options.model;
  const names = {
    sample: options.sample ?? "sample",
    timestep: options.timestep ?? "timestep",
    condition: options.condition?.input,
  };
  const session = await createSession(bytes, {
    backend: options.backend,
    inputs: [names.sample, names.timestep, ...(names.condition ? [names.condition] : [])],
    outputs: options.output ? [options.output] : undefined,
  });
  const { info } = session;
  const output = options.output ?? info.outputs[0].name;
  const extra = info.inputs.filter((i) => !Object.values(names).includes(i.name));
  if (extra.length) throw new ModelError(`the model's input${extra.length > 1 ? "s" : ""} ${extra.map((i) => `"${i.name}"`).join(", ")} ha${extra.length > 1 ? "ve" : "s"} no feed (set sample, timestep or condition)`);

  const dim = shape[0] * shape[1] * shape[2];
  const sampleInput = findValue(info.inputs, names.sample, "input");
  const rank = sampleInput.shape?.length ?? 4;
  if (rank !== 4 && rank !== 2) throw new ModelError(`input "${names.sample}" must be [batch, C, H, W] or [batch, C·H·W], not rank ${rank}`);
  if (sampleInput.type !== "float32") throw new ModelError(`input "${names.sample}" takes ${sampleInput.type}; only float32 samples are fed`);
  checkDims(sampleInput, rank === 4 ? shape : [dim], "input");
  const outputValue = findValue(info.outputs, output, "output");
  if (outputValue.type !== "float32" && outputValue.type !== "float64") throw new ModelError(`output "${output}" is ${outputValue.type}; the prediction must be float32 or float64`);
  checkDims(outputValue, outputValue.shape?.length === 2 ? [dim] : shape, "output");
  const fixedBatch = typeof sampleInput.shape?.[0] === "number" ? sampleInput.shape[0] : undefined;
  const batchSize = fixedBatch ?? options.batchSize ?? Infinity;
  if (!(batchSize >= 1) || (batchSize !== Infinity && !Number.isInteger(batchSize))) {
    throw new OptionError("batchSize", `must be a positive integer, not ${options.batchSize}`);
  }
  const timestepInput = findValue(info.inputs, names.timestep, "input");
  if ((timestepInput.shape?.length ?? 0) > 1) throw new ModelError(`input "${names.timestep}" must be a scalar, [1] or [batch], not ${describeValue(timestepInput)}`);
  filled(timestepInput, 0, 0, "timestep"); // refuses a type that cannot be fed, before any sampling
  const condition = options.condition;
  if (condition?.kind === "embedding") checkEmbeddings(condition);
  if (condition) {
    const input = findValue(info.inputs, condition.input, "input");
    filled(input, 0, 0, "condition");
    if (condition.kind === "embedding") checkDims(input, condition.dims, "input");
    else if ((input.shape?.length ?? 1) !== 1) throw new ModelError(`the label input "${condition.input}" must be [batch], not ${describeValue(input)}`);
  }

  /** Runs the rows in batches; `take` receives each batch's outputs with its first row and row count. */
  async function runRows(xt: Float32Array, level: NoiseLevel, conditions: Int32Array, outputs: readonly string[], take: (result: Record<string, TensorData>, r0: number, used: number, b: number) => void): Promise<void> {
    const rows = conditions.length;
    if (xt.length !== rows * dim) throw new DimensionError(`xt holds ${xt.length} values, not ${rows}×${dim}`);
    const t = timestepValue(level);
    for (let r0 = 0; r0 < rows; r0 += Math.min(batchSize, rows)) {
      const used = Math.min(batchSize, rows - r0);
      const b = fixedBatch ?? used;
      const sample = new Float32Array(b * dim);
      sample.set(xt.subarray(r0 * dim, (r0 + used) * dim));
      const feeds: Record<string, TensorData> = {
        [names.sample]: { data: sample, dims: rank === 4 ? [b, ...shape] : [b, dim] },
        [names.timestep]: timestepFeed(timestepInput, t, b),
      };
      if (condition) feeds[condition.input] = conditionFeed(session, condition, conditions.subarray(r0, r0 + used), b, r0);
      take(await session.run(feeds, outputs), r0, used, b);
    }
  }

  async function predict(xt: Float32Array, level: NoiseLevel, conditions: Int32Array, out: Float32Array): Promise<void> {
    const rows = conditions.length;
    if (out.length !== rows * dim) throw new DimensionError(`out holds ${out.length} values, not ${rows}×${dim}`);
    await runRows(xt, level, conditions, [output], (results, r0, used, b) => {
      const result = results[output];
      if (result.data.length !== b * dim) {
        throw new ModelError(`output "${output}" has ${result.data.length} values (dims [${result.dims.join(", ")}]), not ${b}×${dim}`);
      }
      for (let i = 0; i < used * dim; i++) out[r0 * dim + i] = Number(result.data[i]);
    });
  }

  async function run(xt: Float32Array, level: NoiseLevel, conditions: Int32Array, outputs: readonly string[]): Promise<Record<string, Float32Array>> {
    for (const name of outputs) findValue(info.outputs, name, "output");
    const rows = conditions.length;
    const out: Record<string, Float32Array> = {};
    await runRows(xt, level, conditions, outputs, (results, r0, used, b) => {
      for (const name of outputs) {
        const { data, dims } = results[name];
        const per = data.length / b;
        if (!Number.isInteger(per)) throw new ModelError(`output "${name}" has ${data.length} values (dims [${dims.join(", ")}]), not ${b} rows`);
        const target = out[name] ??= new Float32Array(rows * per);
        if (target.length !== rows * per) throw new ModelError(`output "${name}" changes its size per row between batches`);
        for (let i = 0; i < used * per; i++) target[r0 * per + i] = Number(data[i]);
      }
    });
    return out;
  }

  return { predict, run, prediction, dim, shape, backend: session.backend, release: () => session.release() };
}

/** Refuses a value whose fixed dims after the batch differ from what is fed (symbolic dims pass). */
function checkDims(value: ValueInfo, dims: readonly number[], what: "input" | "output"): void {
  const declared = value.shape?.slice(1);
  if (!declared) return;
  const fits = declared.length === dims.length && declared.every((d, i) => typeof d !== "number" || d === dims[i]);
  if (!fits) throw new ModelError(`${what} "${value.name}" is ${describeValue(value)}; it must be [batch, ${dims.join(", ")}]`);
}

function timestepFeed(input: ValueInfo, t: number, batch: number): TensorData {
  const dims = !input.shape || input.shape.length === 0 ? [] : input.shape[0] === 1 ? [1] : [batch];
  const count = dims.length === 0 ? 1 : dims[0];
  return { data: filled(input, t, count, "timestep"), dims };
}

function filled(input: ValueInfo, value: number, count: number, what: string): TensorArray {
  switch (input.type) {
    case "float32": return new Float32Array(count).fill(value);
    case "float64": return new Float64Array(count).fill(value);
    case "int32": return new Int32Array(count).fill(Math.round(value));
    case "int64": return new BigInt64Array(count).fill(BigInt(Math.round(value)));
    default: throw new ModelError(`the ${what} input "${input.name}" is ${input.type}; float32, float64, int32 and int64 are fed`);
  }
}

function checkEmbeddings(c: EmbeddingCondition): void {
  const size = c.dims.reduce((a, b) => a * b, 1);
  [...c.embeddings, ...(c.unconditional ? [c.unconditional] : [])].forEach((e, i) => {
    if (!(e instanceof Float32Array) || e.length !== size) {
      throw new OptionError("condition", `embedding ${i === c.embeddings.length ? "unconditional" : i} must be a Float32Array of ${size} values (dims [${c.dims}])`);
    }
  });
}

function conditionFeed(session: OnnxSession, c: LabelCondition | EmbeddingCondition, conditions: Int32Array, batch: number, offset: number): TensorData {
  const input = findValue(session.info.inputs, c.input, "input");
  const pick = (r: number) => {
    const index = conditions[r];
    if (index !== -1) return index;
    if (c.unconditional === undefined) throw new OptionError("condition", `row ${offset + r} is unconditional (−1), and no unconditional ${c.kind} was given`);
    return undefined;
  };
  if (c.kind === "label") {
    const data = filled(input, 0, batch, "condition");
    for (let r = 0; r < conditions.length; r++) {
      const label = pick(r) ?? (c as LabelCondition).unconditional!;
      if (data instanceof BigInt64Array) data[r] = BigInt(label);
      else data[r] = label;
    }
    return { data, dims: [batch] };
  }
  const size = c.dims.reduce((a, b) => a * b, 1);
  const data = new Float32Array(batch * size);
  for (let r = 0; r < conditions.length; r++) {
    const index = pick(r);
    const embedding = index === undefined ? c.unconditional! : c.embeddings[index];
    if (!embedding) throw new OptionError("condition", `row ${offset + r} asks for condition ${index}; there are ${c.embeddings.length} embeddings`);
    data.set(embedding, r * size);
  }
  return { data, dims: [batch, ...c.dims] };
}
