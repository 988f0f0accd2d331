// The consumer test's app (see test/consumer.mjs), run by plain node, deno and
// bun against the installed package: a small embedding through the core entry
// only — the gradient on worker threads, so the compiled workers are started —
// and, where the optional packages are not installed, the typed error of each
// entry that needs one. Prints one JSON line.
import {
  alignment,
  closedFormDenoiser,
  collectSteps,
  displacement,
  embedSteps,
  encodeTable,
  pcaEncoder,
  pixels,
  radial,
  random,
  renderSvg,
  sampleDiffusion,
  semantic,
} from "diffusion-life";

// 60 random 8×8 "images" in three classes: the exact denoiser of them, sampled for 6 steps.
const rng = random(7);
const images = Float32Array.from({ length: 60 * 64 }, () => rng.next());
const labels = Int32Array.from({ length: 60 }, (_, i) => i % 3);
const denoiser = closedFormDenoiser({ images, labels, dim: 64 });
const prompts = [0, 1, 2].map((c) => ({ label: `class ${c}`, condition: c }));
const steps = await collectSteps(sampleDiffusion(denoiser, { prompts, instancesPerPrompt: 12, steps: 6, seed: 1, imageShape: [1, 8, 8] }));
const encoded = await encodeTable(await encodeTable(steps, pixels()), pcaEncoder({ components: 8 }));
// Two threads from the first point pair on: the semantic gradient runs in a worker.
const losses = [semantic({ threads: 2, parallelFrom: 0 }), displacement(), alignment()];
const { frame, quality } = await embedSteps(encoded, { layout: radial(), iterations: 150, seed: 1, losses });
const result = { rows: frame.numRows, trustworthiness: quality.meanTrustworthiness, svg: renderSvg(frame).length };

// Each optional entry loads without its packages and names the missing one when used.
const missing = {};
const expect = async (name, use) => {
  try {
    await use();
    missing[name] = "installed";
  } catch (error) {
    missing[name] = error?.code === "missing-dependency" ? error.packageName : `unexpected: ${error?.stack ?? error}`;
  }
};
const onnx = await import("diffusion-life/onnx");
await expect("onnx", () => onnx.readModelInfo(new Uint8Array([8, 8])));
const mnist = await import("diffusion-life/mnist");
await expect("mnist", () => mnist.loadMnist());
const png = await import("diffusion-life/png");
await expect("png", async () => png.svgToPng(renderSvg(frame), await png.pngAssets()));
await import("diffusion-life/viewer");
console.log(JSON.stringify({ ...result, missing }));
