import { euler } from "diffusion-life";
import { mnistDiffusion } from "diffusion-life/mnist";

for await (const step of mnistDiffusion({ prompts: ["any", 3, 7], scheduler: euler(), guidance: 2 })) console.log(step.numRows);
