/**
 * Watch a generation while it happens. The default generator (closed-form
 * MNIST diffusion) emits each denoising step as soon as it has computed it;
 * each step is encoded and embedded incrementally, and every frame prints a
 * line: the step(s) it embedded, how many were coalesced, the latency and
 * the trustworthiness of the new step. On completion the polish pass runs
 * and the final frame is written to out/live.arrow and out/live.svg.
 * Ctrl-C unsubscribes, which stops both the generation and the embedder.
 *
 *   npm run live        deno run -A examples/live.ts        bun examples/live.ts
 */
import { mkdir, writeFile } from "node:fs/promises";
import process from "node:process";
import { tableToIPC } from "apache-arrow";
import { tap } from "rxjs";
import { encode, evolve, pcaEncoder, pixels, type QualityReport, readFrameTable, renderSvg } from "../mod.ts";
import { liveMnistDiffusion } from "../mnist.ts";

const prompts: ("any" | number)[] = ["any", 0, 1, 3, 7], instancesPerPrompt = 40, steps = 25;
const instances = prompts.length * instancesPerPrompt;
const started = performance.now();
const clock = () => `[${((performance.now() - started) / 1000).toFixed(1).padStart(5)}s]`;

console.log(`${clock()} generating ${prompts.length} prompts × ${instancesPerPrompt} instances × ${steps} steps; embedding each step as it arrives`);
let generated = 0;
const subscription = liveMnistDiffusion({ prompts, instancesPerPrompt, steps, seed: 0, digitsPerClass: 300 })
  .pipe(
    tap(() => generated++),
    encode(pixels()),
    encode(pcaEncoder({ components: 50 })),
    // Every instance is in every step table, so a step is complete as soon as it arrives.
    evolve({ iterationsPerStep: 50, polish: 200, instances, seed: 0 }),
  )
  .subscribe({
    async next(frame) {
      const { update, quality } = readFrameTable(frame);
      const q = quality as QualityReport;
      if (!update!.final) {
        const t = q.steps.map((s) => s.trustworthiness.toFixed(3)).join(", ");
        console.log(
          `${clock()} step ${update!.steps.join(",").padEnd(6)} coalesced ${update!.coalesced}  latency ${update!.latencyMs.toFixed(0).padStart(4)} ms` +
            `  trustworthiness ${t}  (generated ${generated}/${steps})`,
        );
        return;
      }
      console.log(
        `${clock()} final, after a polish pass of ${update!.polish} iterations: mean trustworthiness ${q.meanTrustworthiness.toFixed(3)}, ` +
          `alignment ratio ${q.alignmentRatio.toFixed(3)}`,
      );
      await mkdir("out", { recursive: true });
      await writeFile("out/live.arrow", tableToIPC(frame, "file"));
      await writeFile("out/live.svg", renderSvg(frame));
      console.log(`${clock()} wrote out/live.arrow and out/live.svg`);
    },
    error(error) {
      console.error(`${clock()} ${error.name}: ${error.message}`);
      process.exitCode = 1;
    },
  });

function stop() {
  subscription.unsubscribe();
  console.log(`\n${clock()} stopped`);
}
process.once("SIGINT", stop);
subscription.add(() => process.removeListener("SIGINT", stop));
