// The static pictures (issue 14, item 9, and the PNG size of item 10): a title that is not cut at
// 600 px, step labels above the points, prompt colours fixed by label, the lineage root in no
// prompt's colour, a legend for node sizes and branch points; a PNG too large is a clear error.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { frameTable, type FrameTable } from "../src/data/frame_table.ts";
import { setGuides } from "../src/data/guides.ts";
import { stepTable } from "../src/data/step_table.ts";
import { DiffusionLifeError } from "../src/errors.ts";
import { lineageTree } from "../src/lineage/lineage.ts";
import { renderLineageSvg } from "../src/lineage/lineage_svg.ts";
import { svgToPng } from "../src/render/png.ts";
import * as palette from "../src/render/palette.ts";
import { renderSvg } from "../src/render/svg.ts";
import { pngAssets } from "../src/runtime/png_assets.ts";
import { random } from "../src/util/random.ts";

/** The default run's shape: `prompts` × 20 instances × 20 steps on rings. */
function frame(prompts: string[], perPrompt = 20, steps = 20): FrameTable {
  const rng = random(3);
  const n = prompts.length * perPrompt, rows = n * steps;
  const step = Int32Array.from({ length: rows }, (_, r) => Math.floor(r / n));
  const instance = Int32Array.from({ length: rows }, (_, r) => r % n);
  const angle = Float32Array.from({ length: rows }, (_, r) => (2 * Math.PI * (r % n)) / n + 0.05 * rng.normal());
  const radius = Float32Array.from(step, (t) => 5 + 8.75 * t);
  const table = frameTable({
    instance,
    prompt: Int32Array.from(instance, (i) => Math.floor(i / perPrompt)),
    prompts,
    step,
    x: Float32Array.from(angle, (a, r) => radius[r] * Math.cos(a)),
    y: Float32Array.from(angle, (a, r) => radius[r] * Math.sin(a)),
    native: { radius, angle },
    layout: "radial",
  });
  return setGuides(table, Array.from({ length: steps }, (_, t) => ({ step: t, shape: "circle" as const, cx: 0, cy: 0, r: 5 + 8.75 * t })));
}

const DEFAULT = ["any digit", "digit 0", "digit 1", "digit 3", "digit 7"];
const { promptColors, SHARED_COLOR, UNCONDITIONAL_COLOR } = palette as Record<string, any>;

/** The text of the <text class="title"> element, its lines joined. */
function title(svg: string): string {
  const inner = /<text class="title"[^>]*>(.*?)<\/text>/.exec(svg)![1];
  return inner.replace(/<tspan[^>]*>/g, " ").replace(/<\/tspan>/g, "").trim();
}

/** The fill of the legend swatch of `label`. */
const swatch = (svg: string, label: string) =>
  new RegExp(`<g class="legend-entry"><rect [^>]*fill="([^"]+)"/><text [^>]*>${label}</text>`).exec(svg)?.[1];

test("pictures: the title is whole at 600 px (wrapped, not cut)", () => {
  const svg = renderSvg(frame(DEFAULT), { width: 600 });
  assert.is(title(svg), "Tree of Diffusion Life — radial layout, 5 prompts, 100 instances, 20 steps");
  assert.not.match(svg, /<text class="title"[^>]*>[^<]*…/);
  const height = Number(/height="([\d.]+)"/.exec(svg)![1]);
  // Every title line lies inside the picture, above the plot's first point.
  const lines = [...svg.matchAll(/<tspan x="[\d.]+" y="([\d.]+)"/g)].map((m) => Number(m[1]));
  assert.is(lines.length, 2);
  assert.ok(lines.every((y) => y < height));
});

test("pictures: step labels are drawn after (above) the points and tracks", () => {
  const svg = renderSvg(frame(DEFAULT), { width: 600 });
  assert.ok(svg.indexOf('class="guide-labels"') > svg.indexOf('class="points"'), "labels after the points");
  assert.ok(svg.indexOf('class="guide-labels"') > svg.indexOf('class="tracks"'));
});

test("pictures: a prompt's colour is fixed by its label, not its place in the run's list", () => {
  const all = renderSvg(frame(DEFAULT));
  const two = renderSvg(frame(["digit 7", "digit 3"]));
  assert.ok(swatch(all, "digit 7"), "digit 7 has a swatch");
  assert.is(swatch(two, "digit 7"), swatch(all, "digit 7"));
  assert.is(swatch(two, "digit 3"), swatch(all, "digit 3"));
  assert.is(swatch(all, "any digit"), UNCONDITIONAL_COLOR);
  assert.equal(promptColors(["digit 3", "digit 7"]), promptColors(["digit 7", "digit 3"]).reverse());
  // Distinct labels get distinct colours while there are colours to give.
  const many = promptColors(Array.from({ length: 20 }, (_, i) => `a prompt ${String.fromCharCode(97 + i)}`));
  assert.is(new Set(many).size, 20);
});

/** Three prompts that share the noise and branch at steps 2 and 4 (as in test/lineage.test.ts). */
function branching() {
  const rng = random(1);
  const n = 18, steps = 6, dim = 8;
  const instance: number[] = [], prompt: number[] = [], step: number[] = [], features: number[] = [];
  for (let s = 0; s < steps; s++) {
    const a = s >= 2 ? 5 : 0, b = s >= 4 ? 5 : 0;
    for (let i = 0; i < n; i++) {
      const p = Math.floor(i / 6);
      const centre = p === 0 ? [a, b] : p === 1 ? [a, -b] : [-a, 0];
      instance.push(i);
      prompt.push(p);
      step.push(s);
      for (let d = 0; d < dim; d++) features.push((centre[d] ?? 0) + 0.1 * rng.normal());
    }
  }
  return stepTable({
    instance: Int32Array.from(instance),
    prompt: Int32Array.from(prompt),
    prompts: ["digit 1", "digit 3", "digit 7"],
    step: Int32Array.from(step),
    features: Float32Array.from(features),
    featureDim: dim,
  });
}

test("pictures: the lineage root is the noise's grey, and the legend explains node size and branch points", () => {
  const svg = renderLineageSvg(lineageTree(branching()), { width: 600 });
  const root = /<circle [^>]*data-root="true"[^>]*>/.exec(svg)![0];
  assert.match(root, new RegExp(`fill="${SHARED_COLOR}"`));
  assert.not.ok(promptColors(["digit 1", "digit 3", "digit 7"]).some((c: string) => root.includes(`fill="${c}"`)));
  const keys = [...svg.matchAll(/<g class="legend-key">.*?<text [^>]*>([^<]*)<\/text><\/g>/g)].map((m) => m[1]);
  assert.equal(keys, ["5 instances (area)", "1 instance", "branch point", "noise (all prompts)"]);
  assert.ok(svg.indexOf('class="guide-labels"') > svg.indexOf('class="nodes"'), "step labels above the nodes");
  assert.is(title(svg), "Lineage tree — 3 prompts, 18 instances, 6 steps, 2 branch points");
});

test("pictures: a PNG too large is a clear error, not resvg's", async () => {
  const svg = renderSvg(frame(["digit 3"], 2, 2), { width: 900 });
  try {
    await svgToPng(svg, await pngAssets(), { scale: 1000 });
    assert.unreachable();
  } catch (e) {
    assert.instance(e, DiffusionLifeError);
    assert.is((e as DiffusionLifeError).code, "invalid-option");
    assert.match((e as Error).message, /would be 900000 × \d+ px, more than 16384 px a side: lower the scale/);
  }
});

test.run();
