/**
 * The main job: generate the embedded default (MNIST digits by an exact
 * diffusion process), encode every step, embed it in the radial and the
 * rectilinear layout, and write the tables, pictures and figures to out/.
 *
 *   npm run demo            (Node)     deno run -A examples/demo.ts     bun examples/demo.ts
 */
import { mkdir, writeFile } from "node:fs/promises";
import { tableToIPC } from "apache-arrow";
import { digitEncoder } from "../onnx.ts";
import { embedSteps, encodeTable, radial, rectilinear, renderSvg, type QualityReport } from "../mod.ts";
import { mnistTrajectories } from "../mnist.ts";

const OUT = "out";
const started = performance.now();
const elapsed = () => `${((performance.now() - started) / 1000).toFixed(1)}s`;
const log = (line: string) => console.log(`[${elapsed().padStart(6)}] ${line}`);

await mkdir(OUT, { recursive: true });

log("generating 5 prompts × 20 instances × 20 steps (closed-form MNIST diffusion, DDIM)…");
const generated = await mnistTrajectories({ instancesPerPrompt: 20, steps: 20, seed: 0 });

log("encoding: x̂0 by the shipped digit encoder (its 64-dimensional penultimate layer)…");
const steps = await encodeTable(generated, await digitEncoder());
await writeFile(`${OUT}/steps.arrow`, tableToIPC(steps, "file"));

const metrics: Record<string, QualityReport> = {};
for (const layout of [radial(), rectilinear()]) {
  let shown = 0;
  const result = await embedSteps(steps, {
    layout,
    iterations: 1000,
    seed: 0,
    onProgress: ({ phase, done, total }) => {
      const pct = Math.floor((100 * done) / total);
      if (phase === "optimize" && pct >= shown + 25) {
        shown = pct;
        log(`${layout.name}: optimising ${pct}% (${done}/${total} iterations)`);
      }
    },
  });
  await writeFile(`${OUT}/embedding-${layout.name}.arrow`, tableToIPC(result.frame, "file"));
  await writeFile(`${OUT}/${layout.name}.svg`, renderSvg(result.frame));
  metrics[layout.name] = result.quality;
  const q = result.quality, last = q.steps[q.steps.length - 1];
  log(
    `${layout.name}: trustworthiness ${q.meanTrustworthiness.toFixed(3)} (second half ${q.meanTrustworthinessSecondHalf.toFixed(3)}, ` +
      `as drawn ${q.meanDisplayTrustworthiness!.toFixed(3)}), ` +
      `alignment ratio ${q.alignmentRatio.toFixed(3)}, prompt hit at the last step ${last.neighborhoodHit.toFixed(3)} ` +
      `(features ${last.featureNeighborhoodHit.toFixed(3)}); ${(result.timings.optimize / 1000).toFixed(1)}s optimising`,
  );
}
await writeFile(`${OUT}/metrics.json`, JSON.stringify(metrics, null, 2));
log(`done: ${OUT}/steps.arrow, embedding-{radial,rectilinear}.arrow, {radial,rectilinear}.svg, metrics.json`);
