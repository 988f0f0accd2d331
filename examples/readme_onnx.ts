import { noiseSchedule, sampleDiffusion } from "diffusion-life";
import { loadMnist, MNIST_DIM, MNIST_SHAPE, mnistSubset } from "diffusion-life/mnist";
import { closedFormOnnx, onnxDenoiser } from "diffusion-life/onnx";

// The model: a U-Net or DiT exported from diffusers ("unet.onnx"); here, one any install can make: the
// exact denoiser of 300 MNIST digits written as an ONNX graph with a diffusers U-Net's inputs and outputs.
const model = closedFormOnnx({ ...mnistSubset(await loadMnist(), 30), dim: MNIST_DIM },
  { schedule: noiseSchedule("scaled-linear"), shape: MNIST_SHAPE, prediction: "epsilon" });
const unet = await onnxDenoiser({ model, shape: MNIST_SHAPE, prediction: "epsilon",
  condition: { input: "class_labels", kind: "label", unconditional: -1 } });
// Stable Diffusion instead: shape [4, 64, 64] and condition: { input: "encoder_hidden_states",
// kind: "embedding", dims: [77, 768], embeddings, unconditional } (the text encoder's states per prompt).
const steps = sampleDiffusion(unet, { prompts: [{ label: "digit 3", condition: 3 }], instancesPerPrompt: 8,
  steps: 30, schedule: "scaled-linear", guidance: 7.5, range: [-1, 1] });
for await (const step of steps) console.log(step.numRows);
await unet.release();
