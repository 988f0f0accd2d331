/**
 * Follows a recorded or live generation: reads step tables from an Arrow IPC
 * file or stream (a path, or stdin when none is given) and reports each step
 * as its record batch arrives.
 *
 *   python examples/python/diffusers_to_arrow.py --prompt "a red bicycle" | node --import tsx examples/follow_recording.ts
 *   node --import tsx examples/follow_recording.ts run.arrows        (deno run -A …, bun …)
 */
import process from "node:process";
import { readRecording, readStepTable } from "../mod.ts";

const path = process.argv[2];
const started = performance.now();
let rows = 0;
for await (const table of readRecording(path ?? process.stdin)) {
  const step = readStepTable(table);
  rows += step.step.length;
  const [c, h, w] = step.imageShape ?? [0, 0, 0];
  const t = step.timestep ? `, t = ${step.timestep[0]}` : "";
  console.log(`[${((performance.now() - started) / 1000).toFixed(1)}s] step ${step.step[0]}${t}: ${step.step.length} instances of ${step.prompts.length} prompts, x̂0 ${c}×${h}×${w}`);
}
console.log(`${rows} rows`);
