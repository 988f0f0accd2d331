/**
 * diffusion-life/onnx: ONNX models through onnxruntime-web (wasm everywhere,
 * WebGPU where the runtime has a GPU) — a denoiser, image encoders, the
 * shipped digit encoder — and an ONNX graph writer. Needs the optional
 * packages `onnxruntime-web` and `onnx-proto`.
 *
 * @module
 */
export { createSession, hasWebGpu, type OnnxBackend, type OnnxSession, type SessionOptions } from "./src/onnx/session.ts";
export { type ModelDim, type ModelInfo, readModelInfo, type ValueInfo } from "./src/onnx/model_info.ts";
export { type AttributeValue, type GraphDim, type ModelOptions, type NodeOptions, OnnxGraph, type ValueSpec } from "./src/onnx/writer.ts";
export type { ElementType, TensorArray, TensorData } from "./src/onnx/tensor.ts";
export { readModelBytes } from "./src/runtime/model_file.ts";
export {
  type EmbeddingCondition,
  type LabelCondition,
  onnxDenoiser,
  type OnnxDenoiser,
  type OnnxDenoiserOptions,
} from "./src/sources/onnx_denoiser.ts";
export { closedFormOnnx, type ClosedFormOnnxOptions } from "./src/sources/closed_form_onnx.ts";
export { DIGIT_UNET_URL, digitUnet, type DigitUnetOptions } from "./src/sources/digit_unet.ts";
export { onnxImageEncoder, type OnnxImageEncoder, type OnnxImageEncoderOptions } from "./src/encoders/onnx_image.ts";
export { CLIP_PREPROCESSING, IMAGENET_PREPROCESSING, type ImagePreprocessing } from "./src/encoders/preprocess.ts";
export { DIGIT_ENCODER_URL, digitEncoder, type DigitEncoderOptions } from "./src/encoders/digit.ts";
export { compareToFull, type JacobianMethod, onnxJacobian, type OnnxJacobian, type OnnxJacobianOptions, type SketchError } from "./src/geometry/onnx_jacobian.ts";
