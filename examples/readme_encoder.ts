import { encodeTable } from "diffusion-life";
import { mnistTrajectories } from "diffusion-life/mnist";
import { onnxImageEncoder, readModelBytes } from "diffusion-life/onnx";

const steps = await mnistTrajectories({ prompts: [3, 7], instancesPerPrompt: 10, steps: 10 });
// Any ONNX image model; here the digit encoder the package ships. A CLIP vision tower exported to
// ONNX would take { ...CLIP_PREPROCESSING, range: [-1, 1], output: "image_embeds" } instead.
const encoder = await onnxImageEncoder({
  model: await readModelBytes(new URL(import.meta.resolve("diffusion-life/models/digit-encoder.onnx"))),
  output: "embedding",
});
const encoded = await encodeTable(steps, encoder, { onProgress: (done, total) => console.log(done, total) });
console.log(encoded.numRows);
