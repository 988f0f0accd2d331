/**
 * ONNX inference through onnxruntime-web, the same in Node, Deno, Bun and
 * browsers.
 *
 * Backends. "wasm" imports `onnxruntime-web`; under Node, Deno and Bun that
 * resolves (export condition "node") to the package's Node build, which loads
 * dist/ort-wasm-simd-threaded.wasm from beside itself in node_modules, so no
 * `env.wasm.wasmPaths` is needed (a browser bundle may need it: set it on
 * `(await ortModule("wasm")).env` before the first session). "webgpu" imports `onnxruntime-web/webgpu`,
 * whose WebGPU execution provider needs `navigator.gpu`: Deno and browsers
 * have it; Node and Bun have not. "auto" (the default) takes WebGPU only
 * when the adapter is real hardware: a software adapter (Deno's llvmpipe on
 * a machine without a GPU) is slower than wasm, though it computes correctly,
 * which the tests check against wasm.
 *
 * Threads. `threads` sets `env.wasm.numThreads`, which onnxruntime reads once,
 * when its wasm first starts; later values are ignored. Left unset,
 * onnxruntime picks min(4, ⌈cores / 2⌉), and threaded wasm works in all three
 * runtimes (workers on SharedArrayBuffer). Bun cannot start the WebGPU build
 * with threads > 1 (its bundle calls require("node:os")), which never
 * matters because Bun has no WebGPU.
 */
import type * as Ort from "onnxruntime-web";
import { DimensionError, GpuUnavailableError, ModelError, OptionError } from "../errors.ts";
import { requestGpu } from "../runtime/gpu.ts";
import { importOptional } from "../runtime/optional.ts";
import { asBytes, describeValue, findValue, type ModelInfo, readModelInfo } from "./model_info.ts";
import { pruneToOutputs } from "./prune.ts";
import { elementType, size, type TensorArray, type TensorData } from "./tensor.ts";

export type OnnxBackend = "wasm" | "webgpu";

export interface SessionOptions {
  /** "auto" (default): WebGPU on a hardware adapter, else wasm. */
  backend?: OnnxBackend | "auto";
  /** wasm threads, read once per process (see above). */
  threads?: number;
  /** Names the model must have; a ModelError lists what it has instead. */
  inputs?: readonly string[];
  outputs?: readonly string[];
}

export interface OnnxSession {
  readonly backend: OnnxBackend;
  readonly info: ModelInfo;
  /** Runs the model; returns the requested outputs (default: all). */
  run(feeds: Record<string, TensorData>, outputs?: readonly string[]): Promise<Record<string, TensorData>>;
  release(): Promise<void>;
}

type OrtModule = typeof Ort;
const modules: Partial<Record<OnnxBackend, Promise<OrtModule>>> = {};

/** The onnxruntime-web module of a backend, loaded on first use. */
export function ortModule(backend: OnnxBackend): Promise<OrtModule> {
  return (modules[backend] ??= importOptional(
    "onnxruntime-web",
    "ONNX inference",
    () => backend === "webgpu" ? import("onnxruntime-web/webgpu") : import("onnxruntime-web"),
  ).catch((error) => {
    delete modules[backend]; // let a later call try again
    throw error;
  }));
}

/** Whether this runtime has a WebGPU adapter; `hardware` also rules out software and fallback adapters. */
export async function hasWebGpu(hardware: boolean): Promise<boolean> {
  try {
    // onnxruntime requests its own device; this one only proves there is an adapter.
    (await requestGpu({ allowSoftware: !hardware })).device.destroy();
    return true;
  } catch (error) {
    if (error instanceof GpuUnavailableError) return false;
    throw error;
  }
}

export async function createSession(model: Uint8Array | ArrayBuffer, options: SessionOptions = {}): Promise<OnnxSession> {
  const bytes = asBytes(model);
  const info = readModelInfo(bytes);
  for (const name of options.inputs ?? []) findValue(info.inputs, name, "input");
  for (const name of options.outputs ?? []) findValue(info.outputs, name, "output");
  const backend = await chooseBackend(options.backend ?? "auto");
  const ort = await ortModule(backend);
  if (options.threads !== undefined) {
    if (!Number.isInteger(options.threads) || options.threads < 0) throw new OptionError("threads", `must be a non-negative integer, got ${options.threads}`);
    ort.env.wasm.numThreads = options.threads;
  }
  let session: Ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(bytes, { executionProviders: [backend] });
  } catch (error) {
    throw new ModelError(`onnxruntime-web (${backend}) cannot load the model: ${(error as Error).message ?? error}`);
  }
  // onnxruntime runs the whole graph for any outputs asked for: a run for some of them goes to a
  // session on the part of the graph they need (prune.ts), made on first use for that set.
  const partial = new Map<string, Promise<{ session: Ort.InferenceSession; inputs: string[] } | undefined>>();
  const sessionFor = (names: readonly string[]) => {
    const key = [...new Set(names)].sort().join("\u0000");
    let entry = partial.get(key);
    if (!entry) {
      entry = (async () => {
        const pruned = new Set(names).size < info.outputs.length ? pruneToOutputs(bytes, names) : undefined;
        return pruned && { session: await ort.InferenceSession.create(pruned.bytes, { executionProviders: [backend] }), inputs: pruned.inputs };
      })();
      partial.set(key, entry);
    }
    return entry;
  };
  return {
    backend,
    info,
    async run(feeds, outputs) {
      const ortFeeds: Record<string, Ort.Tensor> = {};
      for (const [name, tensor] of Object.entries(feeds)) ortFeeds[name] = toOrt(ort, info, name, tensor);
      for (const input of info.inputs) {
        if (!(input.name in feeds)) throw new ModelError(`no feed for the model's input ${describeValue(input)}`);
      }
      const names = outputs ?? info.outputs.map((o) => o.name);
      for (const name of names) findValue(info.outputs, name, "output");
      let result: Ort.InferenceSession.ReturnType;
      try {
        const part = await sessionFor(names);
        result = part
          ? await part.session.run(Object.fromEntries(part.inputs.map((name) => [name, ortFeeds[name]])), [...names])
          : await session.run(ortFeeds, [...names]);
      } catch (error) {
        throw new ModelError(`onnxruntime-web (${backend}) failed to run the model: ${(error as Error).message ?? error}`);
      }
      const out: Record<string, TensorData> = {};
      for (const name of names) out[name] = { data: await result[name].getData() as TensorArray, dims: result[name].dims };
      return out;
    },
    async release() {
      for (const entry of partial.values()) await (await entry)?.session.release();
      await session.release();
    },
  };
}

async function chooseBackend(wanted: OnnxBackend | "auto"): Promise<OnnxBackend> {
  if (wanted === "wasm") return "wasm";
  if (wanted === "webgpu") {
    if (!(await hasWebGpu(false))) throw new OptionError("backend", `"webgpu" needs navigator.gpu with an adapter, which this runtime does not have`);
    return "webgpu";
  }
  if (wanted === "auto") return (await hasWebGpu(true)) ? "webgpu" : "wasm";
  throw new OptionError("backend", `must be "auto", "wasm" or "webgpu", not ${JSON.stringify(wanted)}`);
}

/** Checks a feed against the model's declared input, then wraps it for onnxruntime. */
function toOrt(ort: OrtModule, info: ModelInfo, name: string, tensor: TensorData): Ort.Tensor {
  const input = findValue(info.inputs, name, "input");
  const type = elementType(tensor.data);
  if (input.type !== type) throw new ModelError(`input "${name}" takes ${input.type}, the feed is ${type}`);
  const { dims } = tensor;
  if (size(dims) !== tensor.data.length) {
    throw new DimensionError(`feed "${name}" has ${tensor.data.length} values, its dims [${dims.join(", ")}] need ${size(dims)}`);
  }
  const shape = input.shape;
  const fits = !shape || (shape.length === dims.length && shape.every((d, i) => typeof d !== "number" || d === dims[i]));
  if (!fits) throw new DimensionError(`feed "${name}" has dims [${dims.join(", ")}], the model's input is ${describeValue(input)}`);
  return new ort.Tensor(type, tensor.data, [...dims]);
}
