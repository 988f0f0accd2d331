/**
 * diffusion-life: the evolutionary embedding of diffusion trajectories.
 * This file is the public API; everything else is internal.
 */
// Errors and utilities
export * from "./src/errors.ts";
export { random, type Random, type RandomState, resumeRandom } from "./src/util/random.ts";

// Data model
export * from "./src/data/step_table.ts";
export * from "./src/data/frame_table.ts";

// Sources
export { type Denoiser, fromPrediction, type NoiseLevel, type Prediction } from "./src/sources/denoiser.ts";
export { closedFormDenoiser, type ClosedFormData, type ClosedFormDenoiser } from "./src/sources/closed_form.ts";
export { planSampler, sampleDiffusion, type SamplerOptions, type SamplerPlan, type SamplerPrompt } from "./src/sources/sampler.ts";
export type { Scheduler } from "./src/sources/schedulers/scheduler.ts";
export { ddim, type DdimOptions } from "./src/sources/schedulers/ddim.ts";
export { ddpm } from "./src/sources/schedulers/ddpm.ts";
export { euler, type EulerOptions } from "./src/sources/schedulers/euler.ts";
export { collectSteps } from "./src/sources/collect.ts";
export { loadRecording, readRecording, type RecordingInput, type RecordingOptions, type StepColumnNames } from "./src/sources/recording.ts";
export { type ImageFolderOptions, loadImageFolder, readImageFolder } from "./src/sources/image_folder.ts";
export {
  type EmbeddingCondition,
  type LabelCondition,
  onnxDenoiser,
  type OnnxDenoiser,
  type OnnxDenoiserOptions,
} from "./src/sources/onnx_denoiser.ts";
export { closedFormOnnx, type ClosedFormOnnxOptions } from "./src/sources/closed_form_onnx.ts";
export { loadMnist, MNIST_DIM, MNIST_SHAPE, type MnistDigits, mnistSubset } from "./src/sources/mnist.ts";
export {
  DEFAULT_MNIST_PROMPTS,
  mnistDiffusion,
  type MnistDiffusionOptions,
  type MnistPrompt,
  mnistPromptLabel,
  mnistTrajectories,
} from "./src/sources/mnist_diffusion.ts";
export {
  cosineAlphaBar,
  ddimTimesteps,
  linearAlphaBar,
  noiseSchedule,
  type NoiseSchedule,
  SCHEDULE_NAMES,
  type ScheduleName,
  scaledLinearAlphaBar,
} from "./src/sources/schedule.ts";

// Encoders
export type { Encoder, EncoderInput, EncoderOutput } from "./src/encoders/encoder.ts";
export { type EncodeOptions, encodeTable } from "./src/encoders/encode_table.ts";
export { pixels, type PixelOptions } from "./src/encoders/pixels.ts";
export { pcaEncoder, type PcaOptions } from "./src/encoders/pca.ts";
export { pca, type PcaResult } from "./src/linalg/pca.ts";
export { frequency, type FrequencyOptions } from "./src/encoders/frequency.ts";
export type { Interpolation } from "./src/encoders/resample.ts";
export { CLIP_PREPROCESSING, IMAGENET_PREPROCESSING, type ImagePreprocessing } from "./src/encoders/preprocess.ts";
export { onnxImageEncoder, type OnnxImageEncoder, type OnnxImageEncoderOptions } from "./src/encoders/onnx_image.ts";
export { DIGIT_ENCODER_URL, digitEncoder, type DigitEncoderOptions } from "./src/encoders/digit.ts";

// ONNX: sessions on onnxruntime-web, model headers, a graph writer
export { createSession, hasWebGpu, type OnnxBackend, type OnnxSession, type SessionOptions } from "./src/onnx/session.ts";
export { type ModelDim, type ModelInfo, readModelInfo, type ValueInfo } from "./src/onnx/model_info.ts";
export { readModelBytes } from "./src/onnx/model_file.ts";
export { type AttributeValue, type GraphDim, type ModelOptions, type NodeOptions, OnnxGraph, type ValueSpec } from "./src/onnx/writer.ts";
export type { ElementType, TensorArray, TensorData } from "./src/onnx/tensor.ts";

// The evolutionary embedding
export { type Affinity, perplexityAffinity, type PerplexityOptions } from "./src/embed/affinities.ts";
export { type Kernel, type KernelStep, studentT, type StudentTOptions } from "./src/embed/kernel.ts";
export { type Gpu, type GpuAdapterDescription, type GpuOptions, requestGpu } from "./src/gpu/device.ts";
export {
  type Backend,
  type BackendStatus,
  gradientError,
  webgpuKernel,
  type WebGpuKernel,
  type WebGpuKernelOptions,
} from "./src/gpu/webgpu_kernel.ts";
export type { SparseMatrix } from "./src/embed/sparse.ts";
export { type Loss, type LossContext, stepSchedule, type Weight } from "./src/embed/losses/loss.ts";
export { semantic, type SemanticOptions } from "./src/embed/losses/semantic.ts";
export { defaultSigma, displacement, type DisplacementOptions } from "./src/embed/losses/displacement.ts";
export { alignment, type AlignmentOptions } from "./src/embed/losses/alignment.ts";
export { gradientDescent, type Optimizer, type OptimizerOptions } from "./src/embed/optimizer.ts";
export type { StepState } from "./src/embed/state.ts";
export { type EmbeddingOptions, EvolutionaryEmbedding, type OptimizeOptions, type StepInput } from "./src/embed/embedding.ts";
export { type BatchOptions, embedSteps, type EmbeddingResult, splitSteps } from "./src/embed/batch.ts";
export { toFrame } from "./src/embed/frame.ts";
export { measureQuality } from "./src/embed/measure.ts";

// Streaming
export { IncrementalEmbedder, type IncrementalOptions, type IncrementalStats } from "./src/embed/incremental.ts";
export { evolve } from "./src/stream/evolve.ts";
export { encode } from "./src/stream/encode.ts";
export { fromAsync } from "./src/stream/from_async.ts";
export { liveMnistDiffusion } from "./src/stream/live.ts";

// Layouts
export type { Guide, Layout } from "./src/layouts/layout.ts";
export { radial, type RadialOptions } from "./src/layouts/radial.ts";
export { rectilinear, type RectilinearOptions } from "./src/layouts/rectilinear.ts";
export { type BranchPoint, Lineage, LINEAGE_KEY, type LineageOptions, type LineageTree, lineageTree } from "./src/layouts/lineage.ts";

// Quality figures
export * from "./src/quality/mod.ts";

// Rendering
export { renderSvg, type SvgOptions } from "./src/render/svg.ts";
export { GUIDES_KEY, parseGuides, readGuides, setGuides } from "./src/render/guides.ts";
export type { PageOptions } from "./src/render/page.ts";
export { type LineageSvgOptions, renderLineageSvg } from "./src/render/lineage_svg.ts";
export { type PngAssets, type PngOptions, svgToPng } from "./src/render/png.ts";
export { pngAssets } from "./src/io/png_assets.ts";

// The live viewer (the server and the file reads are imported only when started)
export { type LiveOptions, runLive } from "./src/viewer/live.ts";
export { type ViewerEvent, type ViewName, ViewerSession } from "./src/viewer/session.ts";
export { type ViewerAppOptions, type ViewerAsset, type ViewerAssets, viewerApp } from "./src/viewer/app.ts";
export { type Handler, type RunningServer, serve, type ServeOptions } from "./src/io/server.ts";
export { startViewer, viewerAssets } from "./src/io/viewer.ts";
export { writeIpcStream } from "./src/data/ipc_stream.ts";
