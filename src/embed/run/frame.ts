/** Turns the embedding's state into a frame table in the layout's coordinates. */
import { type FrameTable, frameTable } from "../../data/frame_table.ts";
import { setGuides } from "../../data/guides.ts";
import type { EvolutionaryEmbedding } from "../embedding.ts";

export function toFrame(embedding: EvolutionaryEmbedding, quality?: unknown): FrameTable {
  const { steps } = embedding;
  const extent = freeExtent(embedding);
  const layout = embedding.layout.arrange((steps[steps.length - 1]?.step ?? 0) + 1, extent);
  const total = steps.reduce((sum, s) => sum + s.n, 0);
  const instance = new Int32Array(total), prompt = new Int32Array(total), step = new Int32Array(total);
  const x = new Float32Array(total), y = new Float32Array(total);
  const lane = new Float32Array(total), free = new Float32Array(total);
  const out = new Float64Array(4);
  let row = 0;
  for (const s of steps) {
    for (let i = 0; i < s.n; i++, row++) {
      layout.display(s.y[2 * i], s.y[2 * i + 1], s.step, out);
      instance[row] = s.instance[i];
      prompt[row] = s.prompt[i];
      step[row] = s.step;
      x[row] = out[0];
      y[row] = out[1];
      lane[row] = out[2];
      free[row] = out[3];
    }
  }
  const table = frameTable({
    instance,
    prompt,
    prompts: embedding.prompts,
    step,
    x,
    y,
    native: { [layout.native[0]]: lane, [layout.native[1]]: free },
    layout: layout.name,
    quality,
  });
  return setGuides(table, layout.guides(steps.map((s) => s.step), extent));
}

/** The largest |y| of lane 0's display, which the layouts use to size guides and gaps. */
function freeExtent({ steps, layout }: EvolutionaryEmbedding): number {
  const out = new Float64Array(4);
  let extent = 0;
  for (const s of steps) {
    for (let i = 0; i < s.n; i++) {
      layout.display(s.y[2 * i], s.y[2 * i + 1], 0, out);
      extent = Math.max(extent, Math.abs(out[1]));
    }
  }
  return extent;
}
