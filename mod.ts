/**
 * diffusion-life: the evolutionary embedding of diffusion trajectories (the
 * Tree of Diffusion Life), streamed as Apache Arrow tables through RxJS.
 *
 * This is the core entry: it imports nothing heavy. The ONNX models
 * (`diffusion-life/onnx`), the MNIST digits (`diffusion-life/mnist`), PNG
 * export (`diffusion-life/png`) and the live viewer (`diffusion-life/viewer`)
 * are entries of their own.
 *
 * @module
 */

// Errors and utilities
export {
  CancelledError,
  DiffusionLifeError,
  DimensionError,
  DuplicateRowError,
  type ErrorCode,
  FormatError,
  GpuUnavailableError,
  LimitError,
  MissingDependencyError,
  ModelError,
  NonFiniteError,
  OptionError,
  OutOfRangeError,
  SchemaError,
  SpecError,
  StepOrderError,
  throwIfAborted,
  TruncatedError,
} from "./src/errors.ts";
export { random, type Random, type RandomState, resumeRandom } from "./src/util/random.ts";
export { pca, type PcaResult } from "./src/linalg/pca.ts";
export type { SparseMatrix } from "./src/linalg/sparse.ts";

// Data model
export { asStepTable, type ImageShape, IMAGE_SHAPE_KEY, readStepTable, type StepColumns, stepTable, type StepTable } from "./src/data/step_table.ts";
export {
  asFrameTable,
  type FrameColumns,
  frameTable,
  type FrameTable,
  type FrameUpdate,
  LAYOUT_KEY,
  QUALITY_KEY,
  readFrameTable,
  setUpdate,
  UPDATE_KEY,
} from "./src/data/frame_table.ts";
export { splitColumns, splitSteps, type StepInput, tablesPerStep } from "./src/data/per_step.ts";
export type { Validated } from "./src/data/validated.ts";
export { type DataLimits, DEFAULT_LIMITS } from "./src/data/sizes.ts";
export { type CircleGuide, type Guide, GUIDES_KEY, type LineGuide, parseGuides, readGuides, setGuides } from "./src/data/guides.ts";
export { writeIpcStream } from "./src/data/ipc_stream.ts";

// Sources
export type { StepSource } from "./src/sources/source.ts";
export { type Denoiser, fromPrediction, type NoiseLevel, type Prediction } from "./src/sources/denoiser.ts";
export { closedFormDenoiser, type ClosedFormData, type ClosedFormDenoiser } from "./src/sources/closed_form.ts";
export { planSampler, sampleDiffusion, type SamplerOptions, type SamplerPlan, type SamplerPrompt } from "./src/sources/sampler.ts";
export type { Scheduler } from "./src/sources/schedulers/scheduler.ts";
export { spacedTimesteps, type SpacingOptions } from "./src/sources/schedulers/scheduler.ts";
export { ddim, type DdimOptions } from "./src/sources/schedulers/ddim.ts";
export { ddpm } from "./src/sources/schedulers/ddpm.ts";
export { euler, type EulerOptions } from "./src/sources/schedulers/euler.ts";
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
export { type ExponentialStage, exponentialTimesteps } from "./src/sources/schedule.ts";
export { collectSteps } from "./src/sources/collect.ts";
export { loadRecording, readRecording, type RecordingInput, type RecordingOptions, type StepColumnNames } from "./src/sources/recording.ts";
export { type ImageFolderOptions, loadImageFolder, readImageFolder } from "./src/sources/image_folder.ts";

// Encoders
export type { Encoder, EncoderInput, EncoderOutput } from "./src/encoders/encoder.ts";
export { type EncodeOptions, encodeTable } from "./src/encoders/encode_table.ts";
export { pixels, type PixelOptions } from "./src/encoders/pixels.ts";
export { pcaEncoder, type PcaOptions } from "./src/encoders/pca_encoder.ts";
export { frequency, type FrequencyOptions } from "./src/encoders/frequency.ts";
export type { Interpolation } from "./src/encoders/resample.ts";

// The evolutionary embedding: affinities, kernels, losses, optimiser
export type { Affinity, AffinityHint } from "./src/embed/affinity/affinity.ts";
export { type Metric, perplexityAffinity, type PerplexityOptions, unitRows } from "./src/embed/affinity/perplexity.ts";
export { calibrateRow, calibrateRows } from "./src/embed/affinity/calibrate.ts";
export { symmetrize } from "./src/embed/affinity/symmetrize.ts";
export type { Kernel, KernelStep } from "./src/embed/kernel/kernel.ts";
export { isThreaded, type KernelRecipe, type SplitKernel, type ThreadedKernel } from "./src/embed/kernel/threaded.ts";
export { studentT, type StudentTOptions } from "./src/embed/kernel/student_t.ts";
export {
  type Backend,
  type BackendStatus,
  gradientError,
  webgpuKernel,
  type WebGpuKernel,
  type WebGpuKernelOptions,
} from "./src/embed/kernel/webgpu/webgpu_kernel.ts";
export { type Gpu, type GpuAdapterDescription, type GpuOptions, requestGpu } from "./src/runtime/gpu.ts";
export { type Loss, type LossContext, stepSchedule, type Weight, weightAt } from "./src/embed/losses/loss.ts";
export { semantic, type SemanticOptions } from "./src/embed/losses/semantic.ts";
export { defaultSigma, displacement, type DisplacementOptions } from "./src/embed/losses/displacement.ts";
export { alignment, type AlignmentOptions } from "./src/embed/losses/alignment.ts";
export { checkGradient, type CheckGradientOptions, type GradientCheck } from "./src/embed/losses/check_gradient.ts";
export type { Optimizer } from "./src/embed/optimizer/optimizer.ts";
export { gradientDescent, type GradientDescentOptions } from "./src/embed/optimizer/gradient_descent.ts";
export type { StepState } from "./src/embed/state/state.ts";
export type { InitMode } from "./src/embed/state/init.ts";
export { pcaPositions } from "./src/embed/state/init.ts";
export { type EmbeddingOptions, EvolutionaryEmbedding, type OptimizeOptions } from "./src/embed/embedding.ts";

// Runs: batch, incremental, checkpoints
export { type BatchOptions, embedSteps, type EmbeddingResult } from "./src/embed/run/batch.ts";
export { toFrame } from "./src/embed/run/frame.ts";
export { measureQuality } from "./src/embed/run/measure.ts";
export { IncrementalEmbedder, type IncrementalStats } from "./src/embed/run/incremental.ts";
export type { IncrementalOptions } from "./src/embed/run/incremental_options.ts";
export { type FitOptions, type TransformOptions, TreeEmbedding, type TreeEmbeddingOptions } from "./src/embed/run/tree_embedding.ts";
export type { TransformResult } from "./src/embed/run/transform.ts";

// Specs: an embedding as data (JSON), its plugins by name
export {
  type CompleteSpec,
  DEFAULT_SPEC,
  type EmbeddingSpec,
  type IncrementalSpec,
  type LossSpec,
  type OptionTable,
  type OptionType,
  type PhaseSpec,
  type PluginSpec,
  SPEC_KEY,
  SPEC_VERSION,
  type TransformSpec,
} from "./src/embed/spec/spec.ts";
export { checkSpec, loadSpec, readSpec, specJsonSchema, specOptions, type SpecRun } from "./src/embed/spec/compile.ts";
export { type PluginContext, type PluginEntry, type PluginFactory, type PluginKind, type PluginKinds, PluginRegistry, plugins } from "./src/embed/spec/plugin_registry.ts";

// Streaming (RxJS operators)
export { evolve } from "./src/stream/evolve.ts";
export { encode, type EncodeOperatorOptions } from "./src/stream/encode.ts";
export { commit, type CommitmentUpdate, type RowScores, saliency } from "./src/stream/explanations.ts";
export { fromAsync } from "./src/stream/from_async.ts";

// Layouts and the lineage tree
export { autoScale, type FreeSpan, type Layout } from "./src/layouts/layout.ts";
export { isLayout, type LayoutFactory, LayoutRegistry, layouts, UnknownLayoutError } from "./src/layouts/registry.ts";
export { radial, type RadialOptions } from "./src/layouts/radial.ts";
export { rectilinear, type RectilinearOptions } from "./src/layouts/rectilinear.ts";
export { type BranchPoint, committedShares, Lineage, LINEAGE_KEY, type LineageOptions, type LineageTree, lineageTree } from "./src/lineage/lineage.ts";

// Quality figures
export { knn, neighborOverlap } from "./src/quality/exact_knn.ts";
export { knnPreservation, trustworthiness, trustworthinessK } from "./src/quality/trustworthiness.ts";
export { neighborhoodHit } from "./src/quality/neighborhood_hit.ts";
export { alignmentRatio, alignmentRatioOverSteps, movementCorrelation, movementCorrelationOverSteps } from "./src/quality/temporal_coherence.ts";
export { frechetDistance } from "./src/quality/frechet.ts";
export { type QualityReport, qualityReport, type QualityStep, type StepQuality } from "./src/quality/report.ts";

// Rendering (SVG)
export { renderSvg, type SvgOptions } from "./src/render/svg.ts";
export { lineageSvgRenderer, type Renderer, svgRenderer } from "./src/lineage/renderer.ts";
export type { PageOptions } from "./src/render/page.ts";
export { type LineageSvgOptions, renderLineageSvg } from "./src/lineage/lineage_svg.ts";

// The geometry of the latent space: local latent basis, its readings, traversal edits
export { symmetricEigenQL } from "./src/linalg/symmetric_ql.ts";
export { denseOperator, orthonormalizeRows, type SymmetricOperator, topEigen, type TopEigen, type TopEigenOptions, topSingular, type TopSingular } from "./src/linalg/top_eigen.ts";
export type { ClosedFormPosterior } from "./src/sources/closed_form.ts";
export { type BasisEngine, type LocalBasis, rankOf } from "./src/geometry/local_basis.ts";
export { closedFormJacobian, type ClosedFormJacobian, type ClosedFormJacobianOptions } from "./src/geometry/closed_form_jacobian.ts";
export { type FeatureMap, jacobianVectorProducts, type JvpOptions, type Jvps } from "./src/geometry/finite_difference.ts";
export { bandMetric, dctBasis, type DctBasis } from "./src/geometry/dct.ts";
export { grassmannDistance, normalizedGrassmannDistance, principalAngles } from "./src/geometry/grassmann.ts";
export { centroidOf, spectralCentroid, type SpectralCentroid, type SpectralOptions } from "./src/geometry/spectral_centroid.ts";
export {
  conditionsOf,
  type DistanceRow,
  distanceTable,
  GEOMETRY_KEY,
  type GeometryOptions,
  type GeometryRow,
  geometryTable,
  levelAt,
  spearman,
  type StepGeometry,
  stepGeometry,
  type StepSummary,
} from "./src/geometry/readings.ts";
export { type Branch, BRANCHES_KEY, readBranches, traverse, type TraversalEdit, type TraversalOptions } from "./src/geometry/traversal.ts";
export { type BasisSvgOptions, type ReadingsSeries, renderBasisSvg, renderReadingsSvg, renderTraversalSvg } from "./src/geometry/geometry_svg.ts";
export { addGeometry, type GeometryFrame } from "./src/stream/add_geometry.ts";

// Explanations over the steps: commitment, probes, DF-RISE saliency, insertion/deletion, denoising level, concepts and bias
export { chiSquareSurvival, gammaP, gammaQ, logGamma } from "./src/quality/special.ts";
export { gaussianFilter, gaussianKernel, imageSimilarity, type ImageSimilarity, SIMILARITY_KINDS, type SimilarityKind, type SimilarityOptions } from "./src/quality/image_similarity.ts";
export { type Trajectories, trajectories } from "./src/explain/trajectories.ts";
export {
  type ClassScoreOptions,
  type ClassScores,
  classScores,
  type Commitment,
  commitment,
  type CommitmentAtStep,
  type CommitmentDistribution,
  commitmentOf,
  type CommitmentOptions,
  type InstanceCommitment,
} from "./src/explain/commitment.ts";
export {
  type CrossValidation,
  crossValidate,
  type CrossValidationOptions,
  type LogisticModel,
  type LogisticOptions,
  logisticRegression,
  type StepProbe,
  stepProbe,
  type StepProbeOptions,
} from "./src/explain/probe.ts";
export { type ActivationOptions, type ActivationSource, denoiserActivations } from "./src/explain/activations.ts";
export { type ExplainInput, guidedX0, inputOf, type Provenance } from "./src/explain/guided.ts";
export { drawMask, riseSaliency, type RiseOptions, type RiseResult } from "./src/explain/rise.ts";
export { type Curve, type InsertionDeletion, insertionDeletion, type InsertionOptions, saliencyOrder, trapezoidAuc } from "./src/explain/insertion.ts";
export { type Saliencies, type SaliencyAtStep, explainSaliency, type SaliencyOptions, type SaliencyRow } from "./src/explain/saliency.ts";
export { type DenoisingLevel, denoisingLevel, type LevelAtStep, type LevelOptions, type LevelRow } from "./src/explain/level.ts";
export { type ConceptCurve, type ConceptOptions, type Concepts, concepts, diversity } from "./src/explain/concepts.ts";
export { type ChiSquareTest, chiSquareTest, type ClassBias, classBias } from "./src/explain/bias.ts";
export {
  commitmentStepTable,
  commitmentTable,
  conceptTable,
  EXPLAIN_KEY,
  levelTable,
  probeTable,
  readExplainMeta,
  saliencyTable,
} from "./src/explain/explain_tables.ts";
export {
  type FigureOptions,
  renderAucSvg,
  renderCommitmentSvg,
  renderCommittedFrameSvg,
  renderConceptSvg,
  renderLevelSvg,
  renderSaliencySvg,
  type SaliencySvgOptions,
} from "./src/explain/explain_svg.ts";
