/**
 * diffusion-life: the evolutionary embedding of diffusion trajectories.
 * This file is the public API; everything else is internal.
 */
// Errors and utilities
export * from "./src/errors.ts";
export { random, type Random } from "./src/util/random.ts";

// Data model
export * from "./src/data/step_table.ts";
export * from "./src/data/frame_table.ts";

// Sources
export type { Denoiser } from "./src/sources/denoiser.ts";
export { closedFormDenoiser, type ClosedFormData, type ClosedFormDenoiser, type ClosedFormOptions } from "./src/sources/closed_form.ts";
export { loadMnist, MNIST_DIM, MNIST_SHAPE, type MnistDigits, mnistSubset } from "./src/sources/mnist.ts";
export {
  DEFAULT_MNIST_PROMPTS,
  mnistDiffusion,
  type MnistDiffusionOptions,
  type MnistPrompt,
  mnistPromptLabel,
  mnistTrajectories,
} from "./src/sources/mnist_diffusion.ts";
export { cosineAlphaBar, ddimTimesteps, linearAlphaBar, noiseSchedule, type NoiseSchedule, type ScheduleName } from "./src/sources/schedule.ts";

// Encoders
export type { Encoder, EncoderInput, EncoderOutput } from "./src/encoders/encoder.ts";
export { encodeTable } from "./src/encoders/encode_table.ts";
export { pixels, type PixelOptions } from "./src/encoders/pixels.ts";
export { pcaEncoder, type PcaOptions } from "./src/encoders/pca.ts";
export { pca, type PcaResult } from "./src/linalg/pca.ts";

// The evolutionary embedding
export { type Affinity, perplexityAffinity, type PerplexityOptions } from "./src/embed/affinities.ts";
export { type Kernel, studentT } from "./src/embed/kernel.ts";
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

// Layouts
export type { Guide, Layout } from "./src/layouts/layout.ts";
export { radial, type RadialOptions } from "./src/layouts/radial.ts";
export { rectilinear, type RectilinearOptions } from "./src/layouts/rectilinear.ts";

// Quality figures
export * from "./src/quality/mod.ts";

// Rendering
export { renderSvg, type SvgOptions } from "./src/render/svg.ts";
export { GUIDES_KEY, parseGuides, readGuides, setGuides } from "./src/render/guides.ts";
