/**
 * Reads an ONNX model's header — IR version, opsets, graph inputs and outputs
 * with their element types and shapes — and rejects bytes that are not an
 * ONNX ModelProto with a ModelError that says what is wrong, before
 * onnxruntime sees them (its own messages name no cause).
 */
import { ModelError } from "../errors.ts";
import { int64, onnx, type OnnxProto } from "./proto.ts";
import { elementTypeName } from "./tensor.ts";

/** A dimension: a number when fixed, the symbolic name (or undefined) when free. */
export type ModelDim = number | string | undefined;

export interface ValueInfo {
  name: string;
  /** "float32", "int64", … (any ONNX type name, "float16" included). */
  type: string;
  /** Undefined when the model does not declare it. */
  shape?: ModelDim[];
}

export interface ModelInfo {
  irVersion: number;
  /** Opset version per domain ("" = the default ONNX domain). */
  opsets: Record<string, number>;
  producer: string;
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  metadata: Record<string, string>;
}

export function asBytes(model: Uint8Array | ArrayBuffer): Uint8Array {
  if (model instanceof Uint8Array) return model;
  if (model instanceof ArrayBuffer) return new Uint8Array(model);
  throw new ModelError(`a model must be given as a Uint8Array or ArrayBuffer of ONNX bytes, not ${Object.prototype.toString.call(model)}`);
}

export function readModelInfo(model: Uint8Array | ArrayBuffer): ModelInfo {
  const bytes = asBytes(model);
  if (bytes.length === 0) throw new ModelError("the model is empty (0 bytes)");
  const { ModelProto } = onnx(); // outside the try: a missing onnx-proto is not a bad model
  let proto: OnnxProto.ModelProto;
  try {
    proto = ModelProto.decode(bytes);
  } catch (error) {
    throw new ModelError(`not an ONNX model: the ${bytes.length} bytes do not decode as an ONNX ModelProto (${(error as Error).message})`);
  }
  const irVersion = int64(proto.irVersion);
  if (irVersion < 1) throw new ModelError(`not an ONNX model: no IR version in the ${bytes.length} bytes`);
  if (!proto.graph) throw new ModelError("not an ONNX model: it has no graph");
  const initialized = new Set((proto.graph.initializer ?? []).map((t) => t.name));
  // Inputs that have an initializer are weights with defaults, not feeds.
  const inputs = (proto.graph.input ?? []).filter((v) => !initialized.has(v.name ?? "")).map(valueInfo);
  const outputs = (proto.graph.output ?? []).map(valueInfo);
  if (outputs.length === 0) throw new ModelError("the model's graph has no outputs");
  const opsets: Record<string, number> = {};
  for (const o of proto.opsetImport ?? []) opsets[o.domain ?? ""] = int64(o.version);
  const metadata: Record<string, string> = {};
  for (const p of proto.metadataProps ?? []) metadata[p.key ?? ""] = p.value ?? "";
  return { irVersion, opsets, producer: proto.producerName ?? "", inputs, outputs, metadata };
}

function valueInfo(v: OnnxProto.IValueInfoProto): ValueInfo {
  const tensor = v.type?.tensorType;
  if (!tensor) return { name: v.name ?? "", type: "non-tensor" };
  return {
    name: v.name ?? "",
    type: elementTypeName(tensor.elemType ?? 0),
    shape: tensor.shape ? (tensor.shape.dim ?? []).map((d) => (int64(d.dimValue) > 0 ? int64(d.dimValue) : d.dimParam || undefined)) : undefined,
  };
}

/** The value named `name` among `values`, or a ModelError listing the ones there are. */
export function findValue(values: readonly ValueInfo[], name: string, what: "input" | "output"): ValueInfo {
  const found = values.find((v) => v.name === name);
  if (!found) throw new ModelError(`the model has no ${what} "${name}"; its ${what}s: ${values.map(describeValue).join(", ") || "none"}`);
  return found;
}

export function describeValue(v: ValueInfo): string {
  return `"${v.name}" ${v.type}[${v.shape?.map((d) => d ?? "?").join(", ") ?? "any shape"}]`;
}
