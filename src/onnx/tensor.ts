/**
 * Tensors as the ONNX code of this library passes them around: a typed array
 * and its dims. The element type follows from the array, with the names
 * onnxruntime-web uses.
 */
import { ModelError } from "../errors.ts";

export type TensorArray = Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array | Int8Array;
export type ElementType = "float32" | "float64" | "int32" | "int64" | "uint8" | "int8";

export interface TensorData<T extends TensorArray = TensorArray> {
  data: T;
  dims: readonly number[];
}

/** Element types with their ONNX TensorProto.DataType codes. */
export const ONNX_DATA_TYPE: Readonly<Record<ElementType, number>> = {
  float32: 1,
  uint8: 2,
  int8: 3,
  int32: 6,
  int64: 7,
  float64: 11,
};

export function elementType(data: TensorArray): ElementType {
  if (data instanceof Float32Array) return "float32";
  if (data instanceof Float64Array) return "float64";
  if (data instanceof Int32Array) return "int32";
  if (data instanceof BigInt64Array) return "int64";
  if (data instanceof Uint8Array) return "uint8";
  if (data instanceof Int8Array) return "int8";
  throw new ModelError(`unsupported tensor data ${Object.prototype.toString.call(data)}`);
}

/** The name of an ONNX data type code ("float16" etc. for codes this library does not feed). */
export function elementTypeName(code: number): string {
  const known = Object.entries(ONNX_DATA_TYPE).find(([, c]) => c === code)?.[0];
  return known ?? ONNX_TYPE_NAMES[code] ?? `type ${code}`;
}

const ONNX_TYPE_NAMES: Record<number, string> = {
  4: "uint16", 5: "int16", 8: "string", 9: "bool", 10: "float16", 12: "uint32", 13: "uint64", 14: "complex64", 15: "complex128", 16: "bfloat16",
};

export const size = (dims: readonly number[]): number => dims.reduce((a, b) => a * b, 1);
