/** The quality figures of an embedding's current state. */
import { type QualityReport, qualityReport, type QualityStep } from "../../quality/report.ts";
import type { EvolutionaryEmbedding } from "../embedding.ts";
import { freeSpan } from "./frame.ts";

/**
 * Per-step figures need every step to hold the same instances in the same
 * order; steps are restricted to the instances present in all of them.
 * Any subset of the steps can be measured (a stream measures just the new ones).
 * Trustworthiness is also measured on the drawn picture, as arranged for the
 * measured steps (the lanes up to the last of them).
 */
export function measureQuality(embedding: Pick<EvolutionaryEmbedding, "steps" | "layout" | "kernel">, k = 10): QualityReport {
  const { steps, layout, kernel } = embedding;
  const sets = steps.map((s) => new Set(s.instance));
  const common = steps.length === 0 ? [] : [...steps[0].instance].filter((id) => sets.every((set) => set.has(id)));
  const g = new Float64Array(2), out = new Float64Array(4);
  const shown = layout.arrange((steps[steps.length - 1]?.step ?? 0) + 1, freeSpan(embedding));
  const input = steps.map((s): QualityStep => {
    const row = new Map<number, number>();
    s.instance.forEach((id, i) => row.set(id, i));
    const rows = common.map((id) => row.get(id)!).sort((a, b) => s.instance[a] - s.instance[b]);
    const features = new Float32Array(rows.length * s.dim);
    const position = new Float64Array(rows.length * 2), display = new Float64Array(rows.length * 2);
    const free = new Float64Array(rows.length);
    rows.forEach((r, i) => {
      features.set(s.features.subarray(r * s.dim, (r + 1) * s.dim), i * s.dim);
      position[2 * i] = s.y[2 * r];
      position[2 * i + 1] = s.y[2 * r + 1];
      free[i] = layout.free(s.y[2 * r], s.y[2 * r + 1], g);
      shown.display(s.y[2 * r], s.y[2 * r + 1], s.step, out);
      display[2 * i] = out[0];
      display[2 * i + 1] = out[1];
    });
    return { step: s.step, features, dim: s.dim, position, display, free, prompt: Int32Array.from(rows, (r) => s.prompt[r]), kl: kernel.kl(s.y, s.P) };
  });
  return qualityReport(input, { k, circular: layout.circular });
}
