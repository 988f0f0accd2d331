import { embedSteps, encodeTable } from "diffusion-life";
import { mnistTrajectories } from "diffusion-life/mnist";
import { digitEncoder, digitUnet } from "diffusion-life/onnx";

// The U-Net that ships with the package (models/unet.onnx), sampled with DDIM and guidance 2.
const denoiser = await digitUnet();
const steps = await mnistTrajectories({ denoiser, prompts: ["any", 3, 7], instancesPerPrompt: 10, steps: 10, guidance: 2, seed: 1 });
await denoiser.release();
const { quality } = await embedSteps(await encodeTable(steps, await digitEncoder()), { iterations: 300, seed: 1 });
console.log(quality.meanTrustworthiness, quality.steps.at(-1)?.neighborhoodHit);
