/**
 * The clustering of one step for the lineage tree: the step's features
 * reduced by PCA, their Ward dendrogram (agglomerative, ml-hclust), and the
 * median pairwise distance that sets the cut height's unit.
 *
 * Why Ward and one cut height for all steps (see ./lineage.ts): Ward merges
 * the pair of clusters that least increases the within-cluster variance, so a
 * cluster is a compact group of similar predictions. Average linkage, tried
 * on the default data, instead peeled single outliers off one large blob for
 * the first five steps, which hides the branching the tree is for.
 */
import { agnes, type Cluster } from "ml-hclust";
import type { StepInput } from "../data/per_step.ts";
import { DimensionError } from "../errors.ts";
import { pca } from "../linalg/pca.ts";

export interface StepClusters {
  step: number;
  /** Rows of the step, in input order. */
  instance: Int32Array;
  prompt: Int32Array;
  /** Features reduced to `dim` PCA components, n×dim row-major. */
  reduced: Float32Array;
  dim: number;
  /** Ward dendrogram over the rows (leaf `index` = row). */
  dendrogram: Cluster;
  /** Median distance between two rows (0 for a single row). */
  medianDistance: number;
}

export function clusterStep(input: StepInput, components: number, seed: number): StepClusters {
  const n = input.instance.length, { dim } = input;
  if (n === 0) throw new DimensionError(`step ${input.step} has no rows`, { column: "step" });
  if (input.features.length !== n * dim) {
    throw new DimensionError(`step ${input.step}: ${input.features.length} feature values for ${n} rows of ${dim}`, { column: "features" });
  }
  const { values, k } = dim > components
    ? (({ scores, components: c }) => ({ values: scores, k: c }))(pca(input.features, n, dim, components, seed))
    : { values: input.features, k: dim };
  const distance: number[][] = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  const pairs = new Float64Array((n * (n - 1)) / 2);
  let p = 0;
  for (let i = 1; i < n; i++) {
    for (let j = 0; j < i; j++) {
      let s = 0;
      for (let c = 0; c < k; c++) {
        const d = values[i * k + c] - values[j * k + c];
        s += d * d;
      }
      distance[i][j] = distance[j][i] = pairs[p++] = Math.sqrt(s);
    }
  }
  pairs.sort();
  return {
    step: input.step,
    instance: input.instance,
    prompt: input.prompt,
    reduced: Float32Array.from(values),
    dim: k,
    // "ward2" is Ward's method for Euclidean distances (Lance–Williams on d, not d²).
    dendrogram: agnes(distance, { method: "ward2", isDistanceMatrix: true }),
    medianDistance: pairs.length > 0 ? pairs[pairs.length >> 1] : 0,
  };
}

/** The step's rows grouped by cutting its dendrogram at `height` (each group ascending). */
export function cutStep(s: StepClusters, height: number): number[][] {
  return s.dendrogram.cut(height).map((c) => c.indices().sort((a, b) => a - b));
}

/** The row of `rows` nearest their centroid in the reduced features. */
export function representative(s: StepClusters, rows: readonly number[]): number {
  const { reduced, dim } = s;
  const centroid = new Float64Array(dim);
  for (const r of rows) for (let c = 0; c < dim; c++) centroid[c] += reduced[r * dim + c] / rows.length;
  let best = rows[0], bestD = Infinity;
  for (const r of rows) {
    let d = 0;
    for (let c = 0; c < dim; c++) d += (reduced[r * dim + c] - centroid[c]) ** 2;
    if (d < bestD) [best, bestD] = [r, d];
  }
  return best;
}
