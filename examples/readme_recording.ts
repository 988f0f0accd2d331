import process from "node:process";
import { readRecording } from "diffusion-life";

// Columns named otherwise map through `columns`, e.g. readRecording(input, { columns: { instance: "seed" } }).
for await (const step of readRecording(process.stdin)) console.log(step.numRows);
