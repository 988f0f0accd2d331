/**
 * A million points (issue 6: users run 10^5 to 10^6): 100 steps × 10,000
 * instances of synthetic 50-dimensional features, embedded together. Too
 * long to run for 1000 iterations routinely, so it times 30 and reports the
 * time an iteration takes (1000 iterations take as many seconds as an
 * iteration takes milliseconds), the affinities, and
 * the memory the process holds, with its peak over the case (issue 20).
 * No quality figures: 30 iterations are far from converged.
 */
import { EvolutionaryEmbedding, splitSteps } from "../mod.ts";
import { type BenchCase, peakRss, round, rssMiB, timed } from "./bench.ts";
import { syntheticSteps } from "./synthetic.ts";

export const millionCase: BenchCase = {
  name: "million",
  async *run() {
    const steps = 100, instances = 10_000, iterations = 30;
    const peak = peakRss();
    const inputs = syntheticSteps(instances, steps).map((table) => splitSteps(table)[0]);
    const before = rssMiB();
    const embedding = new EvolutionaryEmbedding({ seed: 0 });
    const [, affinitiesMs] = await timed(() => inputs.forEach((s) => embedding.addStep(s)));
    const afterAffinities = rssMiB();
    const [, optimizeMs] = await timed(() => embedding.optimize(iterations, { onProgress: peak.sample, reportEvery: 5 }));
    embedding.dispose();
    yield {
      what: "million points",
      steps,
      instances,
      points: steps * instances,
      affinitiesMs: round(affinitiesMs, 0),
      iterations,
      msPerIteration: round(optimizeMs / iterations, 0),
      rssMiB: { inputs: before, afterAffinities },
      peakRss: peak.read(),
    };
  },
};
