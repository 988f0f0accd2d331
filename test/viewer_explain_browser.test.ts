/**
 * The explanation panel of the live viewer in headless Chromium: hover a
 * point that has a commitment, concept projections and a DF-RISE map, and
 * see them in the panel (the map loaded as an image); hover one without a
 * map and see the panel without it; the tree view marks its nodes by
 * commitment. Leaves out/test-artifacts/viewer-explain.png and
 * viewer-tree-committed.png.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { existsSync, mkdirSync } from "node:fs";
import { from } from "rxjs";
import { chromium } from "playwright-core";
import { tablesPerStep } from "../src/data/per_step.ts";
import type { Encoder } from "../src/encoders/encoder.ts";
import { encodeTable } from "../src/encoders/encode_table.ts";
import { pixels } from "../src/encoders/pixels.ts";
import { commitment } from "../src/explain/commitment.ts";
import { concepts } from "../src/explain/concepts.ts";
import { explainSaliency } from "../src/explain/saliency.ts";
import { conditionsOf } from "../src/geometry/readings.ts";
import { closedFormDenoiser } from "../src/sources/closed_form.ts";
import { collectSteps } from "../src/sources/collect.ts";
import { loadMnist, MNIST_DIM, MNIST_SHAPE, mnistSubset } from "../src/sources/mnist.ts";
import { planSampler, sampleDiffusion } from "../src/sources/sampler.ts";
import { runLive } from "../src/viewer/run_live.ts";
import { startViewer } from "../src/viewer/start.ts";
import { ViewerSession } from "../src/viewer/viewer_session.ts";

const CHROMIUM = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find(existsSync);

/** Class = which third of the image holds the most ink (a stand-in for a digit classifier). */
const thirds: Encoder = {
  name: "thirds",
  input: "image",
  encode: ({ values, count, dim }) => {
    const out = new Float32Array(count * 3);
    for (let r = 0; r < count; r++) for (let i = 0; i < dim; i++) out[r * 3 + Math.min(2, Math.floor((i / dim) * 3))] += values[r * dim + i];
    return { features: out, dim: 3 };
  },
};

test("viewer in Chromium: hovering shows the point's commitment, concepts and saliency map", async () => {
  if (!CHROMIUM) throw new Error("no chromium binary: apt-get install -y chromium (.ci/run does)");
  const digits = mnistSubset(await loadMnist(), 20);
  const denoiser = closedFormDenoiser({ images: digits.images, labels: digits.labels, dim: MNIST_DIM });
  const sampler = { prompts: [{ label: "any digit", condition: -1 }, { label: "digit 3", condition: 3 }], instancesPerPrompt: 4, steps: 6, seed: 1, range: [-1, 1] as const, imageShape: MNIST_SHAPE };
  const steps = await encodeTable(await collectSteps(sampleDiffusion(denoiser, sampler)), pixels());
  const session = new ViewerSession();
  await runLive(from(tablesPerStep(steps)), session, { encoders: [], iterations: 20 });
  const saliency = await explainSaliency(steps, { denoiser, condition: conditionsOf(sampler.prompts), levels: planSampler(sampler).levels, masks: 30, instances: [0, 4], steps: [2], insertion: false });
  session.setExplanations({ commitment: await commitment(steps, { classifier: thirds }), concepts: concepts(steps, { baseline: "any digit" }), saliency });
  const server = await startViewer(session, { port: 0 });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"] });
  try {
    const page = await browser.newPage({ viewport: { width: 1000, height: 700 } });
    await page.goto(server.url);
    await page.waitForFunction(() => Number(document.getElementById("count")!.dataset.points) >= 48);
    const hover = async (instance: number, step: number) => {
      const t = await page.evaluate(([i, s]) => {
        const all = (window as unknown as { diffusionLife: { targets(): { x: number; y: number; instance: number; step: number }[] } }).diffusionLife.targets();
        const p = all.find((q) => q.instance === i && q.step === s)!;
        const box = document.getElementById("plot")!.getBoundingClientRect();
        return { x: box.left + p.x, y: box.top + p.y };
      }, [instance, step]);
      await page.mouse.move(t.x, t.y);
      await page.waitForFunction(([i, s]) => (window as unknown as { diffusionLife: { state: { hovered: string } } }).diffusionLife.state.hovered === `${i}/${s}`, [instance, step]);
    };
    await hover(4, 2);
    await page.waitForSelector("#explain:not([hidden])");
    await page.waitForFunction(() => (document.getElementById("explain-saliency") as HTMLImageElement).naturalWidth === 28);
    const facts = await page.evaluate(() => document.getElementById("explain-facts")!.textContent);
    assert.match(facts!, /final class\d/);
    assert.match(facts!, /commits atstep \d/);
    assert.match(facts!, /digit 3-?\d\.\d\d/);
    assert.match(facts!, /level \(to t=5\)SSIM \d\.\d\d · distance \d\.\d\d/);
    mkdirSync("out/test-artifacts", { recursive: true });
    await page.screenshot({ path: "out/test-artifacts/viewer-explain.png" });
    // A point without a map: the facts, no image.
    await hover(5, 3);
    await page.waitForFunction(() => getComputedStyle(document.getElementById("explain-saliency")!).display === "none" && !document.getElementById("explain")!.hidden);
    // The tree: every node but the root (the count leaves it out: it is no hover target) marked, the 8 leaves fully committed.
    await page.click('#views button[data-view="tree"]');
    const drawn = await page.evaluate(() => (window as unknown as { diffusionLife: { drawn(): { marked: number; committed: number } } }).diffusionLife.drawn());
    const nodes = await page.evaluate(() => Number(document.getElementById("count")!.dataset.points));
    assert.is(drawn.marked, nodes);
    assert.ok(drawn.committed >= 8, `${drawn.committed} nodes fully committed`);
    await page.screenshot({ path: "out/test-artifacts/viewer-tree-committed.png" });
  } finally {
    await browser.close();
    await server.close();
  }
});

test.run();
