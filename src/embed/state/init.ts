/**
 * Initialisation: the free coordinate each instance starts from. Starting
 * every step of an instance at the same free coordinate makes the tracks
 * aligned from the outset; taking it from the principal components of the
 * features (rather than at random) starts t-SNE from the global structure.
 */
import { pca } from "../../linalg/pca.ts";
import type { Layout } from "../../layouts/layout.ts";
import type { Random } from "../../util/random.ts";
import { atan2 } from "../../util/portable_math.ts";

export type InitMode = "pca" | "random";

export function initialFree(
  features: ArrayLike<number>,
  n: number,
  dim: number,
  layout: Layout,
  mode: InitMode,
  rng: Random,
): Float64Array {
  const free = new Float64Array(n);
  if (mode === "random" || n < 3) {
    for (let i = 0; i < n; i++) free[i] = layout.circular ? (rng.next() * 2 - 1) * Math.PI : rng.next() * 2 - 1;
    return free;
  }
  const { scores, components } = pca(features, n, dim, 2);
  let max = 1e-12;
  for (let i = 0; i < n; i++) max = Math.max(max, Math.abs(scores[i * components]));
  for (let i = 0; i < n; i++) {
    const a = scores[i * components], b = components > 1 ? scores[i * components + 1] : 0;
    // Jitter separates instances whose features coincide.
    const jitter = 1e-3 * rng.normal();
    free[i] = (layout.circular ? atan2(b, a) : a / max) + jitter;
  }
  return free;
}

/**
 * Starting positions (n×2, row-major) from the first two principal
 * components, the first scaled to a standard deviation of `spread`
 * (default n / 100, a fifth of the ring radius the default layout gives n
 * points): the start scikit-learn and openTSNE give a t-SNE, for a step
 * embedded without lanes (`addStep(step, { y })`).
 *
 * @example
 * const e = new EvolutionaryEmbedding({ losses: [semantic()] });
 * e.addStep(step, { y: pcaPositions(step.features, step.instance.length, step.dim) });
 */
export function pcaPositions(features: ArrayLike<number>, n: number, dim: number, spread = n / 100): Float64Array {
  const { scores, components } = pca(features, n, dim, 2);
  let sum = 0;
  for (let i = 0; i < n; i++) sum += scores[i * components] ** 2;
  const scale = spread / Math.sqrt(sum / n || 1), y = new Float64Array(2 * n);
  for (let i = 0; i < n; i++) for (let c = 0; c < components; c++) y[2 * i + c] = scores[i * components + c] * scale;
  return y;
}
