/** Turns the embedding's state into a frame table in the layout's coordinates. */
import { type FrameTable, frameTable } from "../../data/frame_table.ts";
import { setGuides } from "../../data/guides.ts";
import type { FreeSpan } from "../../layouts/layout.ts";
import type { EvolutionaryEmbedding } from "../embedding.ts";
import { SPEC_KEY } from "../spec/spec.ts";

/**
 * The frame of the embedding's points, with the quality report and, when
 * the embedding was made from a spec, the spec (`diffusion-life.spec`).
 * `like` is the embedding whose display arrangement (its lanes, and how far
 * its points reach along them) the frame takes: by default its own; a
 * transform's frame takes the fitted tree's, so its points are drawn where
 * the tree's would be.
 */
export function toFrame(embedding: EvolutionaryEmbedding, quality?: unknown, like: Pick<EvolutionaryEmbedding, "steps" | "layout"> = embedding): FrameTable {
  const { steps } = embedding;
  const span = freeSpan(like);
  const layout = embedding.layout.arrange((like.steps[like.steps.length - 1]?.step ?? 0) + 1, span);
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
  if (embedding.spec !== undefined) table.schema.metadata.set(SPEC_KEY, JSON.stringify(embedding.spec));
  return setGuides(table, layout.guides(steps.map((s) => s.step), span));
}

/** How far the points reach along their lanes (free coordinates), which layouts use to size guides and gaps. */
export function freeSpan({ steps, layout }: Pick<EvolutionaryEmbedding, "steps" | "layout">): FreeSpan {
  const g = new Float64Array(2);
  let min = Infinity, max = -Infinity;
  for (const s of steps) {
    for (let i = 0; i < s.n; i++) {
      const f = layout.free(s.y[2 * i], s.y[2 * i + 1], g);
      if (f < min) min = f;
      if (f > max) max = f;
    }
  }
  return min <= max ? { min, max } : { min: 0, max: 0 };
}
