/** The quality figures of an embedding's current state. */
import { type QualityReport, qualityReport, type QualityStep } from "../../quality/report.ts";
import type { EvolutionaryEmbedding } from "../embedding.ts";

/**
 * Per-step figures need every step to hold the same instances in the same
 * order; steps are restricted to the instances present in all of them.
 * Any subset of the steps can be measured (a stream measures just the new ones).
 */
export function measureQuality(embedding: Pick<EvolutionaryEmbedding, "steps" | "layout" | "kernel">, k = 10): QualityReport {
  const { steps, layout, kernel } = embedding;
  const sets = steps.map((s) => new Set(s.instance));
  const common = steps.length === 0 ? [] : [...steps[0].instance].filter((id) => sets.every((set) => set.has(id)));
  const g = new Float64Array(2);
  const input = steps.map((s): QualityStep => {
    const row = new Map<number, number>();
    s.instance.forEach((id, i) => row.set(id, i));
    const rows = common.map((id) => row.get(id)!).sort((a, b) => s.instance[a] - s.instance[b]);
    const features = new Float32Array(rows.length * s.dim);
    const position = new Float64Array(rows.length * 2);
    const free = new Float64Array(rows.length);
    rows.forEach((r, i) => {
      features.set(s.features.subarray(r * s.dim, (r + 1) * s.dim), i * s.dim);
      position[2 * i] = s.y[2 * r];
      position[2 * i + 1] = s.y[2 * r + 1];
      free[i] = layout.free(s.y[2 * r], s.y[2 * r + 1], g);
    });
    return { step: s.step, features, dim: s.dim, position, free, prompt: Int32Array.from(rows, (r) => s.prompt[r]), kl: kernel.kl(s.y, s.P) };
  });
  return qualityReport(input, { k, circular: layout.circular });
}
