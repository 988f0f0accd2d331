/**
 * Builds ONNX model files: a small graph builder over the protobufjs classes
 * of onnx.proto. Used to write the shipped digit encoder and the tiny models
 * the tests check onnxruntime against.
 *
 *   const g = new OnnxGraph("affine");
 *   g.input("x", { shape: ["batch", 3] });
 *   const w = g.initializer("w", { data: new Float32Array(6), dims: [3, 2] });
 *   g.node("MatMul", ["x", w], {}, { outputs: ["y"] });
 *   g.output("y", { shape: ["batch", 2] });
 *   const bytes = g.toBytes({ opset: 17 });
 */
import { ModelError } from "../errors.ts";
import { onnx, type OnnxProto } from "./proto.ts";
import { elementType, type ElementType, ONNX_DATA_TYPE, size, type TensorData } from "./tensor.ts";

/** A fixed size, or a name for a size fixed only when the model runs ("batch"). */
export type GraphDim = number | string;

export interface ValueSpec {
  /** Default "float32". */
  type?: ElementType;
  shape: readonly GraphDim[];
}

/**
 * An attribute value. Integers become INT, other numbers FLOAT, arrays INTS
 * or FLOATS by the same rule, strings STRING, tensors TENSOR; `{ float }` and
 * `{ floats }` force floats for values that happen to be whole.
 */
export type AttributeValue = number | readonly number[] | string | { float: number } | { floats: readonly number[] } | TensorData;

export interface NodeOptions {
  /** Output names (default: one generated name), or how many generated names. */
  outputs?: readonly string[] | number;
  name?: string;
  /** Operator domain (default "" = ONNX). */
  domain?: string;
}

export interface ModelOptions {
  /** Opset of the default ONNX domain (default 17). */
  opset?: number;
  producer?: string;
  doc?: string;
  /** Stored as the model's metadata_props. */
  metadata?: Record<string, string>;
}

/** IR version 8 (ONNX 1.10–1.12) is what the onnx.proto of `onnx-proto` defines. */
const IR_VERSION = 8;

export class OnnxGraph {
  readonly #inputs: OnnxProto.IValueInfoProto[] = [];
  readonly #outputs: OnnxProto.IValueInfoProto[] = [];
  readonly #initializers: OnnxProto.ITensorProto[] = [];
  readonly #nodes: OnnxProto.INodeProto[] = [];
  /** Every value name defined so far: inputs, initializers, node outputs. */
  readonly #defined = new Set<string>();
  #counter = 0;

  constructor(readonly name = "graph") {}

  /** Declares a graph input; returns its name. */
  input(name: string, spec: ValueSpec): string {
    this.#define(name, "input");
    this.#inputs.push(valueInfo(name, spec));
    return name;
  }

  /** Adds a constant tensor (weights); returns its name. */
  initializer(name: string, tensor: TensorData): string {
    this.#define(name, "initializer");
    this.#initializers.push(tensorProto(name, tensor));
    return name;
  }

  /** Adds a node; returns the name of its first output. */
  node(op: string, inputs: readonly string[], attributes: Record<string, AttributeValue> = {}, options: NodeOptions = {}): string {
    const nodeName = options.name ?? `${op}_${this.#counter++}`;
    for (const input of inputs) {
      // "" marks an optional input left out.
      if (input !== "" && !this.#defined.has(input)) throw new ModelError(`node "${nodeName}" (${op}) reads "${input}", which nothing defines before it`);
    }
    const outputs = typeof options.outputs === "object"
      ? [...options.outputs]
      : Array.from({ length: options.outputs ?? 1 }, (_, i) => `${nodeName}_out${i}`);
    for (const output of outputs) this.#define(output, `output of node "${nodeName}"`);
    this.#nodes.push(onnx().NodeProto.create({
      name: nodeName,
      opType: op,
      domain: options.domain ?? "",
      input: [...inputs],
      output: outputs,
      attribute: Object.entries(attributes).map(([key, value]) => attribute(key, value)),
    }));
    return outputs[0];
  }

  /** Declares a defined value as a graph output. */
  output(name: string, spec: ValueSpec): string {
    if (!this.#defined.has(name)) throw new ModelError(`graph output "${name}" is not defined by any input, initializer or node`);
    if (this.#outputs.some((o) => o.name === name)) throw new ModelError(`"${name}" is already a graph output`);
    this.#outputs.push(valueInfo(name, spec));
    return name;
  }

  /** The serialised ModelProto. */
  toBytes(options: ModelOptions = {}): Uint8Array {
    if (this.#outputs.length === 0) throw new ModelError(`graph "${this.name}" has no outputs`);
    const opset = options.opset ?? 17;
    const domains = new Set(this.#nodes.map((n) => n.domain ?? "").filter((d) => d !== ""));
    const model = onnx().ModelProto.create({
      irVersion: IR_VERSION,
      producerName: options.producer ?? "diffusion-life",
      docString: options.doc ?? "",
      opsetImport: [{ domain: "", version: opset }, ...[...domains].map((domain) => ({ domain, version: 1 }))],
      metadataProps: Object.entries(options.metadata ?? {}).map(([key, value]) => ({ key, value })),
      graph: {
        name: this.name,
        input: this.#inputs,
        output: this.#outputs,
        initializer: this.#initializers,
        node: this.#nodes,
      },
    });
    return onnx().ModelProto.encode(model).finish();
  }

  #define(name: string, what: string): void {
    if (name === "") throw new ModelError(`an ${what} needs a non-empty name`);
    if (this.#defined.has(name)) throw new ModelError(`"${name}" (${what}) is already defined in graph "${this.name}"`);
    this.#defined.add(name);
  }
}

function valueInfo(name: string, spec: ValueSpec): OnnxProto.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: ONNX_DATA_TYPE[spec.type ?? "float32"],
        shape: { dim: spec.shape.map((d) => (typeof d === "number" ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

function tensorProto(name: string, { data, dims }: TensorData): OnnxProto.ITensorProto {
  if (size(dims) !== data.length) throw new ModelError(`tensor "${name}" has ${data.length} values, its dims [${dims.join(", ")}] need ${size(dims)}`);
  // raw_data is little-endian, as typed arrays are on every platform these runtimes run on.
  return {
    name,
    dims: [...dims],
    dataType: ONNX_DATA_TYPE[elementType(data)],
    rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice(),
  };
}

function attribute(name: string, value: AttributeValue): OnnxProto.IAttributeProto {
  const T = onnx().AttributeProto.AttributeType;
  if (typeof value === "number") return Number.isInteger(value) ? { name, type: T.INT, i: value } : { name, type: T.FLOAT, f: value };
  if (typeof value === "string") return { name, type: T.STRING, s: new TextEncoder().encode(value) };
  if (isNumberArray(value)) {
    return value.every(Number.isInteger) ? { name, type: T.INTS, ints: [...value] } : { name, type: T.FLOATS, floats: [...value] };
  }
  if ("float" in value) return { name, type: T.FLOAT, f: value.float };
  if ("floats" in value) return { name, type: T.FLOATS, floats: [...value.floats] };
  return { name, type: T.TENSOR, t: tensorProto(name, value) };
}

function isNumberArray(value: AttributeValue): value is readonly number[] {
  return Array.isArray(value);
}
