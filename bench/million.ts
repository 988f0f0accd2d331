/**
 * A million points (issue 6: users run 10^5 to 10^6): 100 steps × 10,000
 * instances of synthetic 50-dimensional features, embedded together. Too
 * long to run for 1000 iterations routinely, so it times 30 and reports the
 * time an iteration takes (1000 iterations take as many seconds as an
 * iteration takes milliseconds), the affinities, and
 * the memory the process holds, with its peak over the case (issue 20).
 * No quality figures: 30 iterations are far from converged.
 * `BENCH_MILLION_ITERATIONS` changes the 30; `BENCH_BACKEND=webgpu` computes
 * the semantic gradient with the WebGPU kernel (the GPU as the `webgpu-gradient`
 * case finds it, Dawn's in Node), the JSON line saying which adapter ran it or
 * why the CPU did: a fallback runs on one thread, so its times are no CPU figures.
 */
import process from "node:process";
import { EvolutionaryEmbedding, splitSteps, type WebGpuKernel } from "../mod.ts";
import { type BenchCase, peakRss, round, rssMiB, timed } from "./bench.ts";
import { syntheticSteps } from "./synthetic.ts";
import { benchGpu, describeBackend } from "./webgpu.ts";

export const millionCase: BenchCase = {
  name: "million",
  async *run() {
    const steps = 100, instances = 10_000, iterations = Number(process.env.BENCH_MILLION_ITERATIONS ?? 30);
    const webgpu = process.env.BENCH_BACKEND === "webgpu";
    const peak = peakRss();
    const inputs = syntheticSteps(instances, steps).map((table) => splitSteps(table)[0]);
    const before = rssMiB();
    const { gpu, source } = webgpu ? await benchGpu() : { gpu: undefined, source: "" };
    const embedding = new EvolutionaryEmbedding(webgpu ? { seed: 0, backend: "webgpu", gpu } : { seed: 0 });
    // Requests and validates the adapter before the clock starts.
    const kernel = webgpu ? embedding.kernel as WebGpuKernel : undefined;
    const validated = kernel && describeBackend(await kernel.status(), source);
    // addStep is synchronous: without `ready` the affinities' threads could not come up before the last step.
    const [, affinitiesMs] = await timed(async () => {
      await embedding.ready(instances);
      inputs.forEach((s) => embedding.addStep(s));
    });
    const afterAffinities = rssMiB();
    const [, optimizeMs] = await timed(() => embedding.optimize(iterations, { onProgress: peak.sample, reportEvery: 5 }));
    // After the run: a GPU run that failed has left the rest to the CPU.
    const ran = kernel && describeBackend(await kernel.status(), source);
    embedding.dispose();
    yield {
      what: "million points",
      ...(ran ? { ...ran, ...(ran.backend !== validated!.backend && { validated }) } : { backend: "cpu" }),
      steps,
      instances,
      points: steps * instances,
      affinitiesMs: round(affinitiesMs, 0),
      iterations,
      optimizeMs: round(optimizeMs, 0),
      msPerIteration: round(optimizeMs / iterations, 1),
      rssMiB: { inputs: before, afterAffinities },
      peakRss: peak.read(),
    };
  },
};
