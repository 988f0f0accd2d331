/**
 * Insertion and deletion (the visual-analysis work's `auc_run`, after
 * RISE): does the saliency order find the pixels the denoiser needs?
 *
 * Pixels of x_t are taken in order of decreasing saliency, `pixelsPerStage`
 * at a time (default the image width, as the code's stride: 28 for the
 * digits, 28 stages); every channel of a pixel moves together.
 *   insertion: start from x_t blurred (an 11×11 Gaussian, σ 5, zero padding,
 *              as its `gkern`), put x_t's pixels back;
 *   deletion:  start from x_t, replace its pixels by zeros.
 * At every stage (the start included: stages + 1 points) the input is
 * denoised (with guidance) and its x̂0 scored against the unmasked x̂0: by the
 * mean of a similarity map (default the full SSIM: the structure term alone
 * rates a flat output, σ = 0, as perfectly similar to anything, and deleting
 * to zeros can make the output flat), or, with an
 * encoder, by the cosine similarity of the two images' features — the
 * distance in a concept encoder's space standing in for the code's per-image
 * FID, which is ill-posed for single images. AUC by the trapezoid rule over
 * the fraction of pixels in [0, 1] (the code's `normal_auc`). A good
 * saliency order gives a high insertion AUC and a low deletion AUC; the
 * same stages in random orders give the baseline.
 */
import { DimensionError, OptionError, throwIfAborted } from "../errors.ts";
import type { ImageShape } from "../data/step_table.ts";
import type { Denoiser } from "../sources/denoiser.ts";
import type { Encoder } from "../encoders/encoder.ts";
import { gaussianFilter, gaussianKernel, imageSimilarity, type SimilarityKind, type SimilarityOptions } from "../quality/image_similarity.ts";
import { random } from "../util/random.ts";
import { type ExplainInput, guidedX0 } from "./guided.ts";

export interface InsertionOptions {
  /** Pixels moved per stage (default the image width). */
  pixelsPerStage?: number;
  /** The blur insertion starts from (default { size: 11, sigma: 5 }). */
  blur?: { size: number; sigma: number };
  /** The similarity whose mean scores a stage (default "ssim"). */
  similarity?: SimilarityKind;
  similarityOptions?: SimilarityOptions;
  /** Score by the cosine similarity of this encoder's features of the two x̂0 instead. */
  encoder?: Encoder;
  /** Random orders averaged for the baseline (default 1; 0: none). */
  randomOrders?: number;
  /** Classifier-free guidance scale (default 1). */
  guidance?: number;
  /** The model's clean range (default [−1, 1]). */
  range?: readonly [number, number];
  /** Seed of the random orders (default 0). */
  seed?: number;
  signal?: AbortSignal;
}

export interface Curve {
  /** Score at each stage, stages + 1 values (0 pixels moved first). */
  scores: Float64Array;
  auc: number;
}

export interface InsertionDeletion {
  insertion: Curve;
  deletion: Curve;
  /** Mean over the random orders (absent with randomOrders 0). */
  randomInsertion?: Curve;
  randomDeletion?: Curve;
  stages: number;
  /** Denoiser inputs evaluated. */
  evaluations: number;
}

/** The area under `scores`, equally spaced over [0, 1], by the trapezoid rule. */
export function trapezoidAuc(scores: ArrayLike<number>): number {
  const n = scores.length;
  if (n < 2) throw new DimensionError(`an AUC needs at least 2 points, not ${n}`);
  let s = 0;
  for (let i = 0; i < n; i++) s += scores[i];
  return (s - scores[0] / 2 - scores[n - 1] / 2) / (n - 1);
}

/** Pixel indices by decreasing value (ties by index). */
export function saliencyOrder(saliency: ArrayLike<number>): Int32Array {
  return Int32Array.from({ length: saliency.length }, (_, i) => i).sort((a, b) => saliency[b] - saliency[a] || a - b);
}

/** Insertion and deletion curves of `saliency` (H×W) for one input. */
export async function insertionDeletion(denoiser: Denoiser, input: ExplainInput, shape: ImageShape, saliency: ArrayLike<number>, options: InsertionOptions = {}): Promise<InsertionDeletion> {
  const [c, h, w] = shape, plane = h * w, dim = c * plane;
  if (saliency.length !== plane) throw new DimensionError(`the saliency holds ${saliency.length} values, not ${h}×${w}`);
  if (input.xt.length !== dim || denoiser.dim !== dim) throw new DimensionError(`x_t holds ${input.xt.length} values; shape [${shape}] and the denoiser need ${dim} and ${denoiser.dim}`);
  const stride = options.pixelsPerStage ?? w;
  if (!(Number.isInteger(stride) && stride >= 1)) throw new OptionError("pixelsPerStage", `must be a positive integer, not ${stride}`);
  const orders = options.randomOrders ?? 1;
  if (!(Number.isInteger(orders) && orders >= 0)) throw new OptionError("randomOrders", `must be an integer ≥ 0, not ${orders}`);
  const stages = Math.ceil(plane / stride);
  const blur = options.blur ?? { size: 11, sigma: 5 };
  const blurred = Float32Array.from(gaussianFilter(input.xt, [c, h, w], gaussianKernel(blur.size, blur.sigma)));
  const zeros = new Float32Array(dim);
  const guide = { guidance: options.guidance, range: options.range ?? [-1, 1] };
  const target = await guidedX0(denoiser, input.xt, 1, input.level, input.condition, new Float32Array(dim), guide);

  let score: (x0: Float32Array, count: number) => Promise<Float64Array>;
  if (options.encoder) {
    const encoder = options.encoder;
    const encodeRows = async (values: Float32Array, count: number) => (await encoder.encode({ values, dim, count, imageShape: shape, step: new Int32Array(count) })).features;
    const ref = await encodeRows(target, 1);
    const fd = ref.length;
    score = async (x0, count) => {
      const f = await encodeRows(x0, count);
      return Float64Array.from({ length: count }, (_, r) => cosine(f.subarray(r * fd, (r + 1) * fd), ref));
    };
  } else {
    const similarity = imageSimilarity(options.similarity ?? "ssim", target, [c, h, w], options.similarityOptions);
    score = (x0, count) => Promise.resolve(Float64Array.from({ length: count }, (_, r) => similarity.mean(x0.subarray(r * dim, (r + 1) * dim))));
  }

  let evaluations = 0;
  const run = async (order: Int32Array, start: Float32Array, finish: Float32Array): Promise<Curve> => {
    throwIfAborted(options.signal, "insertion and deletion");
    const inputs = new Float32Array((stages + 1) * dim), current = start.slice();
    inputs.set(current, 0);
    for (let s = 1; s <= stages; s++) {
      for (let q = (s - 1) * stride; q < Math.min(plane, s * stride); q++) {
        const p = order[q];
        for (let ch = 0; ch < c; ch++) current[ch * plane + p] = finish[ch * plane + p];
      }
      inputs.set(current, s * dim);
    }
    const x0 = await guidedX0(denoiser, inputs, stages + 1, input.level, input.condition, new Float32Array((stages + 1) * dim), guide);
    evaluations += stages + 1;
    const scores = await score(x0, stages + 1);
    return { scores, auc: trapezoidAuc(scores) };
  };

  const order = saliencyOrder(saliency);
  const insertion = await run(order, blurred, input.xt);
  const deletion = await run(order, input.xt, zeros);
  const result: InsertionDeletion = { insertion, deletion, stages, evaluations: 0 };
  if (orders > 0) {
    const rng = random(options.seed ?? 0);
    const sumI = new Float64Array(stages + 1), sumD = new Float64Array(stages + 1);
    for (let o = 0; o < orders; o++) {
      const shuffled = Int32Array.from({ length: plane }, (_, i) => i);
      for (let i = plane - 1; i > 0; i--) {
        const j = rng.int(i + 1);
        [shuffled[i], shuffled[j]] = [shuffled[j], shuffled[i]];
      }
      const ri = await run(shuffled, blurred, input.xt), rd = await run(shuffled, input.xt, zeros);
      for (let s = 0; s <= stages; s++) (sumI[s] += ri.scores[s] / orders), (sumD[s] += rd.scores[s] / orders);
    }
    result.randomInsertion = { scores: sumI, auc: trapezoidAuc(sumI) };
    result.randomDeletion = { scores: sumD, auc: trapezoidAuc(sumD) };
  }
  result.evaluations = evaluations;
  return result;
}

function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let ab = 0, aa = 0, bb = 0;
  for (let i = 0; i < a.length; i++) (ab += a[i] * b[i]), (aa += a[i] * a[i]), (bb += b[i] * b[i]);
  return aa > 0 && bb > 0 ? ab / Math.sqrt(aa * bb) : 0;
}
