/**
 * PCA as an encoder, fitted per step (each step's points are compared only
 * with each other, so each gets its own principal axes) or once over all rows.
 */
import { OptionError } from "../errors.ts";
import { pca } from "../linalg/pca.ts";
import type { Encoder } from "./encoder.ts";

export interface PcaOptions {
  /** Number of components (default 50). */
  components?: number;
  /** "step": one fit per step (default); "global": one fit over all rows. */
  fit?: "step" | "global";
  seed?: number;
}

export function pcaEncoder(options: PcaOptions = {}): Encoder {
  const components = options.components ?? 50;
  if (!Number.isInteger(components) || components < 1) throw new OptionError("components", `must be a positive integer, got ${components}`);
  const fit = options.fit ?? "step";
  return {
    name: `pca-${components}`,
    input: "features",
    encode({ values, dim, count, step }) {
      const k = Math.min(components, dim);
      const features = new Float32Array(count * k);
      const groups = fit === "global" ? [Array.from({ length: count }, (_, i) => i)] : groupRows(step);
      for (const rows of groups) {
        const x = new Float32Array(rows.length * dim);
        rows.forEach((r, i) => x.set(values.subarray(r * dim, (r + 1) * dim), i * dim));
        const { scores, components: got } = pca(x, rows.length, dim, k, (options.seed ?? 0) + (fit === "step" ? step[rows[0]] : 0));
        // Fewer rows than components: the missing components are zero.
        rows.forEach((r, i) => features.set(scores.subarray(i * got, (i + 1) * got), r * k));
      }
      return { features, dim: k };
    },
  };
}

function groupRows(step: Int32Array): number[][] {
  const groups = new Map<number, number[]>();
  step.forEach((s, r) => (groups.get(s) ?? groups.set(s, []).get(s)!).push(r));
  return [...groups.values()];
}
