/**
 * DF-RISE saliency (the visual-analysis work, ian-jihoonpark/X-Diffusion:
 * `generate_saliency_map` and its masks): which pixels of x_t — the input of
 * the explained step, not the prompt — does the denoiser rely on?
 *
 * N random keep masks M_n (default 500) multiply x_t (the same mask on every
 * channel): per-pixel Bernoulli masks with keep probability p (default 0.5,
 * the code's `gau_masking_latents`), or the original RISE's grid masks
 * (`grid_masking_latents`: Bernoulli cells of a g×g grid, upsampled
 * bilinearly to (g+1)·cell and cropped at a random shift below one cell).
 * Each masked x_t goes through the denoiser with guidance; its x̂0 is scored
 * against the unmasked x̂0 by a similarity map S_n (default SSIM's structure
 * term with a Gaussian window, see quality/image_similarity.ts).
 *
 * Estimators:
 *   "plain"     Σ_n M_n ⊙ S_n, as the code; `normalize` divides by N·p (RISE's
 *               E[S | pixel kept]).
 *   "centered"  Σ_n (M_n − M̄) ⊙ S_n, M̄ the mean mask (default); `normalize`
 *               divides by Σ_n (M_n − M̄)², giving the slope of the similarity on
 *               the mask: E[S | kept] − E[S | dropped] for binary masks.
 * With a similarity *map* the plain sum adds p·E[S(j)] at every pixel j: the
 * similarity level there, highest where the output does not change at all,
 * i.e. where the model looks least. The centred sum removes that level and
 * keeps only how much keeping a pixel raises the similarity where it is;
 * a scalar score (`score: "mean"`, the map's mean, RISE's classic setting)
 * shifts the plain sum uniformly and works with both.
 */
import { DimensionError, OptionError, throwIfAborted } from "../errors.ts";
import type { ImageShape } from "../data/step_table.ts";
import type { Denoiser } from "../sources/denoiser.ts";
import { imageSimilarity, type SimilarityKind, type SimilarityOptions } from "../quality/image_similarity.ts";
import { random, type Random } from "../util/random.ts";
import { type ExplainInput, guidedX0 } from "./guided.ts";

export interface RiseOptions {
  /** Number of masks N (default 500). */
  masks?: number;
  /** Keep probability p (default 0.5). */
  keep?: number;
  /** "pixel" (default: per-pixel Bernoulli) or "grid" (RISE's upsampled grid with a random shift). */
  maskKind?: "pixel" | "grid";
  /** Grid cells per side for grid masks (default 7). */
  grid?: number;
  /** The similarity of a masked output to the unmasked one (default "structure"). */
  similarity?: SimilarityKind;
  similarityOptions?: SimilarityOptions;
  /** Weight each mask by the similarity map ("map", default) or by its mean ("mean"). */
  score?: "map" | "mean";
  /** "centered" (default) or "plain" (the code's Σ M ⊙ S); see the module's notes. */
  estimator?: "centered" | "plain";
  /** Divide by N·p (plain) or by Σ(M − M̄)² (centred) (default false, as the code). */
  normalize?: boolean;
  /** Classifier-free guidance scale (default 1). */
  guidance?: number;
  /** The model's clean range: x̂0 is clipped to it and rescaled to [0, 1] before scoring (default [−1, 1]). */
  range?: readonly [number, number];
  /** Masked inputs per denoiser call (default 50). */
  batch?: number;
  /** Seed of the masks (default 0). */
  seed?: number;
  signal?: AbortSignal;
  /** Masks evaluated so far, after each batch. */
  onProgress?: (done: number, total: number) => void;
}

export interface RiseResult {
  /** H×W saliency over x_t's pixels. */
  saliency: Float32Array;
  /** The unmasked x̂0, on [0, 1] (C·H·W). */
  target: Float32Array;
  masks: number;
  /** Milliseconds it took. */
  ms: number;
}

/** Draws one keep mask (H×W) into `out`. */
export function drawMask(rng: Random, h: number, w: number, kind: "pixel" | "grid", keep: number, grid: number, out: Float32Array): Float32Array {
  if (kind === "pixel") {
    for (let i = 0; i < h * w; i++) out[i] = rng.next() < keep ? 1 : 0;
    return out;
  }
  const cellH = Math.ceil(h / grid), cellW = Math.ceil(w / grid);
  const upH = (grid + 1) * cellH, upW = (grid + 1) * cellW;
  const cells = new Float32Array(grid * grid);
  for (let i = 0; i < cells.length; i++) cells[i] = rng.next() < keep ? 1 : 0;
  const dy = rng.int(cellH), dx = rng.int(cellW);
  // Bilinear upsampling g×g → upH×upW with half-pixel centres (OpenCV's INTER_LINEAR), then the crop.
  const source = (d: number, up: number) => Math.min(grid - 1, Math.max(0, (d + 0.5) * (grid / up) - 0.5));
  for (let y = 0; y < h; y++) {
    const sy = source(y + dy, upH), y0 = Math.floor(sy), y1 = Math.min(grid - 1, y0 + 1), fy = sy - y0;
    for (let x = 0; x < w; x++) {
      const sx = source(x + dx, upW), x0 = Math.floor(sx), x1 = Math.min(grid - 1, x0 + 1), fx = sx - x0;
      out[y * w + x] = (1 - fy) * ((1 - fx) * cells[y0 * grid + x0] + fx * cells[y0 * grid + x1]) +
        fy * ((1 - fx) * cells[y1 * grid + x0] + fx * cells[y1 * grid + x1]);
    }
  }
  return out;
}

/** DF-RISE saliency of one input. */
export async function riseSaliency(denoiser: Denoiser, input: ExplainInput, shape: ImageShape, options: RiseOptions = {}): Promise<RiseResult> {
  const t0 = performance.now();
  const [c, h, w] = shape, plane = h * w, dim = c * plane;
  if (dim !== denoiser.dim || input.xt.length !== dim) throw new DimensionError(`x_t holds ${input.xt.length} values; shape [${shape}] and the denoiser need ${dim} and ${denoiser.dim}`);
  const N = options.masks ?? 500, keep = options.keep ?? 0.5, grid = options.grid ?? 7, batch = options.batch ?? 50;
  if (!(Number.isInteger(N) && N >= 1)) throw new OptionError("masks", `must be a positive integer, not ${N}`);
  if (!(keep > 0 && keep < 1)) throw new OptionError("keep", `must lie in (0, 1), not ${keep}`);
  if (!(Number.isInteger(grid) && grid >= 1)) throw new OptionError("grid", `must be a positive integer, not ${grid}`);
  if (!(Number.isInteger(batch) && batch >= 1)) throw new OptionError("batch", `must be a positive integer, not ${batch}`);
  const kind = options.maskKind ?? "pixel";
  if (kind !== "pixel" && kind !== "grid") throw new OptionError("maskKind", `must be "pixel" or "grid", not ${JSON.stringify(kind)}`);
  const estimator = options.estimator ?? "centered", scoreBy = options.score ?? "map";
  if (estimator !== "centered" && estimator !== "plain") throw new OptionError("estimator", `must be "centered" or "plain", not ${JSON.stringify(estimator)}`);
  if (scoreBy !== "map" && scoreBy !== "mean") throw new OptionError("score", `must be "map" or "mean", not ${JSON.stringify(scoreBy)}`);
  const range = options.range ?? [-1, 1];
  const guide = { guidance: options.guidance, range };

  const target = await guidedX0(denoiser, input.xt, 1, input.level, input.condition, new Float32Array(dim), guide);
  const similarity = imageSimilarity(options.similarity ?? "structure", target, [c, h, w], options.similarityOptions);
  const rng = random(options.seed ?? 0);
  const sumMS = new Float64Array(plane), sumM = new Float64Array(plane), sumS = new Float64Array(plane), sumMM = new Float64Array(plane);
  const masks = new Float32Array(batch * plane), xs = new Float32Array(batch * dim), x0 = new Float32Array(batch * dim), score = new Float64Array(plane);
  for (let n0 = 0; n0 < N; n0 += batch) {
    throwIfAborted(options.signal, "DF-RISE");
    const rows = Math.min(batch, N - n0);
    for (let b = 0; b < rows; b++) {
      const m = drawMask(rng, h, w, kind, keep, grid, masks.subarray(b * plane, (b + 1) * plane));
      for (let ch = 0; ch < c; ch++) for (let i = 0; i < plane; i++) xs[b * dim + ch * plane + i] = input.xt[ch * plane + i] * m[i];
    }
    await guidedX0(denoiser, xs, rows, input.level, input.condition, x0, guide);
    for (let b = 0; b < rows; b++) {
      similarity.map(x0.subarray(b * dim, (b + 1) * dim), score);
      if (scoreBy === "mean") {
        let s = 0;
        for (let i = 0; i < plane; i++) s += score[i];
        score.fill(s / plane);
      }
      const m = masks.subarray(b * plane, (b + 1) * plane);
      for (let i = 0; i < plane; i++) {
        sumMS[i] += m[i] * score[i];
        sumM[i] += m[i];
        sumS[i] += score[i];
        sumMM[i] += m[i] * m[i];
      }
    }
    options.onProgress?.(n0 + rows, N);
  }
  const saliency = new Float32Array(plane);
  for (let i = 0; i < plane; i++) {
    if (estimator === "plain") saliency[i] = options.normalize ? sumMS[i] / (N * keep) : sumMS[i];
    else {
      const cov = sumMS[i] - (sumM[i] * sumS[i]) / N, variance = sumMM[i] - (sumM[i] * sumM[i]) / N;
      saliency[i] = options.normalize ? (variance > 1e-12 ? cov / variance : 0) : cov;
    }
  }
  return { saliency, target, masks: N, ms: performance.now() - t0 };
}
