import { closedFormDenoiser, closedFormJacobian, collectSteps, conditionsOf, sampleDiffusion, stepGeometry } from "diffusion-life";
import { loadMnist, MNIST_DIM, MNIST_SHAPE, mnistSubset } from "diffusion-life/mnist";

const digits = mnistSubset(await loadMnist(), 100);
const denoiser = closedFormDenoiser({ images: digits.images, labels: digits.labels, dim: MNIST_DIM });
const prompts = [{ label: "digit 3", condition: 3 }, { label: "any digit", condition: -1 }];
const steps = await collectSteps(sampleDiffusion(denoiser, { prompts, instancesPerPrompt: 3, steps: 8, range: [-1, 1], imageShape: MNIST_SHAPE }));
const { summary } = await stepGeometry(steps, { engine: closedFormJacobian(denoiser), condition: conditionsOf(prompts), k: 5 });
for (const s of summary) console.log(`step ${s.step}: centroid ${s.meanCentroid.toFixed(3)}, within ${s.within.toFixed(2)}, conditional ${s.conditional.toFixed(2)}`);
