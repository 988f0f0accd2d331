/**
 * The denoising level of every step (the visual-analysis work's first
 * question: how far has each step already denoised?): how close the step's
 * x̂0 is to the final image of its instance — the mean SSIM between them
 * (Gaussian window, quality/image_similarity.ts), the root-mean-square
 * difference, and that difference relative to the first step's (1 at the
 * first step, 0 at the last) — and, given a Commitment, the classifier's
 * probability of the final class. Per prompt and step, the means.
 */
import { readStepTable, type StepTable } from "../data/step_table.ts";
import { imageSimilarity, type SimilarityOptions } from "../quality/image_similarity.ts";
import type { Commitment } from "./commitment.ts";
import { mean, trajectories } from "./trajectories.ts";

export interface LevelRow {
  instance: number;
  prompt: string;
  step: number;
  /** Mean SSIM of x̂0 against the final x̂0. */
  ssim: number;
  /** √(mean (x̂0 − final)²) on the table's image scale. */
  rmse: number;
  /** ‖x̂0 − final‖ / ‖first x̂0 − final‖ (NaN when the first already is the final). */
  relative: number;
  /** Probability of the final class (NaN without a Commitment). */
  confidence: number;
}

export interface LevelAtStep {
  /** The prompt, or "" for all prompts together. */
  prompt: string;
  step: number;
  ssim: number;
  rmse: number;
  relative: number;
  confidence: number;
}

export interface DenoisingLevel {
  rows: LevelRow[];
  perStep: LevelAtStep[];
}

export interface LevelOptions {
  /** Adds the probability of the final class, from the same table. */
  commitment?: Commitment;
  /** The SSIM window (default 15, σ 1.5, data range 1). */
  similarityOptions?: SimilarityOptions;
}

export function denoisingLevel(steps: StepTable, options: LevelOptions = {}): DenoisingLevel {
  const cols = readStepTable(steps, { image: true });
  const traj = trajectories(cols);
  const shape = cols.imageShape!, dim = shape[0] * shape[1] * shape[2], image = cols.image!;
  const T = traj.steps.length;
  const byInstance = new Map(options.commitment?.instances.map((c) => [c.instance, c]));
  const rows: LevelRow[] = [];
  traj.instances.forEach((instance, i) => {
    const final = image.subarray(traj.rows[i * T + T - 1] * dim, (traj.rows[i * T + T - 1] + 1) * dim);
    const ssim = imageSimilarity("ssim", final, shape, options.similarityOptions);
    const distance = (s: number) => {
      const o = traj.rows[i * T + s] * dim;
      let d = 0;
      for (let k = 0; k < dim; k++) d += (image[o + k] - final[k]) ** 2;
      return Math.sqrt(d);
    };
    const first = distance(0);
    const c = byInstance.get(instance);
    for (let s = 0; s < T; s++) {
      const r = traj.rows[i * T + s], d = distance(s);
      rows.push({
        instance, prompt: traj.prompt[i], step: traj.steps[s],
        ssim: ssim.mean(image.subarray(r * dim, (r + 1) * dim)),
        rmse: d / Math.sqrt(dim),
        relative: first > 0 ? d / first : NaN,
        confidence: c ? c.confidence[s] : NaN,
      });
    }
  });
  const perStep: LevelAtStep[] = [];
  for (const prompt of [...traj.prompts, ""]) {
    for (const step of traj.steps) {
      const group = rows.filter((r) => r.step === step && (prompt === "" || r.prompt === prompt));
      if (group.length === 0) continue;
      perStep.push({
        prompt, step,
        ssim: mean(group.map((r) => r.ssim)), rmse: mean(group.map((r) => r.rmse)),
        relative: mean(group.map((r) => r.relative)), confidence: mean(group.map((r) => r.confidence)),
      });
    }
  }
  return { rows, perStep };
}
