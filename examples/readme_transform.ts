import { encodeTable, pixels, TreeEmbedding } from "diffusion-life";
import { mnistTrajectories } from "diffusion-life/mnist";

// A reference tree of 60 generations, then 12 of today's placed into it without moving it.
const reference = await encodeTable(await mnistTrajectories({ prompts: ["any", 3, 7], steps: 10, instancesPerPrompt: 20, seed: 1 }), pixels());
const todays = await encodeTable(await mnistTrajectories({ prompts: ["any", 3, 7], steps: 10, instancesPerPrompt: 4, seed: 2 }), pixels());
const tree = new TreeEmbedding({ version: 1, affinity: { type: "perplexity", metric: "cosine" } });
const fitted = await tree.fit(reference);
const placed = await tree.transform(todays); // fitted points stay where they are, to the bit
console.log(fitted.quality.meanTrustworthiness, placed.quality?.meanTrustworthiness, placed.frame.numRows);
const again = TreeEmbedding.load(await tree.save()); // the same tree, from its checkpoint (Arrow IPC)
console.log(again.spec.affinity.metric, again.frame?.numRows);
