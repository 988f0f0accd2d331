// The consumer test's app with every optional package installed (see
// test/consumer.mjs), run by plain node, deno and bun: the shipped digit
// encoder (the model file inside the package) and PNG export (resvg's wasm and
// the fonts read from their packages). Prints one JSON line.
import { embedSteps, encodeTable, radial, renderSvg } from "diffusion-life";
import { mnistTrajectories } from "diffusion-life/mnist";
import { digitEncoder } from "diffusion-life/onnx";
import { pngAssets, svgToPng } from "diffusion-life/png";

const steps = await mnistTrajectories({ prompts: [3, 7], instancesPerPrompt: 10, steps: 5, seed: 1, digitsPerClass: 100 });
const encoder = await digitEncoder({ backend: "wasm" });
const encoded = await encodeTable(steps, encoder);
const { frame } = await embedSteps(encoded, { layout: radial(), iterations: 100, seed: 1 });
const png = await svgToPng(renderSvg(frame), await pngAssets(), { scale: 0.5 });
const png4 = String.fromCharCode(...png.subarray(1, 4));
console.log(JSON.stringify({ rows: frame.numRows, encoder: encoder.name, png: png4 }));
