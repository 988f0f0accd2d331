import { writeFile } from "node:fs/promises";
import { embedSteps, encodeTable, pcaEncoder, pixels, radial, renderSvg } from "diffusion-life";
import { mnistTrajectories } from "diffusion-life/mnist";

const steps = await mnistTrajectories({ prompts: ["any", 3, 7], instancesPerPrompt: 20, steps: 20, seed: 1 });
const encoded = await encodeTable(await encodeTable(steps, pixels()), pcaEncoder({ components: 50 }));
const { frame, quality } = await embedSteps(encoded, { layout: radial(), iterations: 1000, seed: 1 });
console.log(quality.meanTrustworthiness, quality.alignmentRatio);
await writeFile("tree.svg", renderSvg(frame));
