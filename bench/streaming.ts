/**
 * Streaming (issues 3 and 6). Per-step update latency of the incremental
 * embedder for 100 to 10,000 instances (targets on a 2-core machine: p50 ≤
 * 50 ms at 1000, 100 ms at 10,000), on synthetic 50-dimensional features
 * so that generation is not measured; and, on one MNIST diffusion (10 steps × 1000 instances), the
 * incremental result with and without its polish pass against the batch
 * result (`embedSteps`, 1000 iterations).
 */
import { embedSteps, encodeTable, IncrementalEmbedder, measureQuality, pcaEncoder, perplexityAffinity, pixels, readStepTable } from "../mod.ts";
import { mnistTrajectories } from "../mnist.ts";
import { type BenchCase, percentile, round, timed } from "./bench.ts";
import { DIM, syntheticSteps } from "./synthetic.ts";

export const streamingCase: BenchCase = {
  name: "streaming",
  async *run() {
    const iterations = 20;
    for (const [n, steps] of [[100, 20], [1000, 12], [5000, 6], [10000, 8]]) {
      // Beyond 5000 points the side measurements (exact affinities, quality) would dominate the run.
      const side = n <= 5000;
      const tables = syntheticSteps(n, steps);
      // Each step is complete on arrival (`instances`), so one update embeds exactly one step.
      const embedder = new IncrementalEmbedder({ iterationsPerStep: iterations, instances: n, quality: false, seed: 0 });
      const update: number[] = [], quality: number[] = [], affinity: number[] = [];
      for (const table of tables) {
        embedder.push(table);
        const [, ms] = await timed(() => embedder.update());
        update.push(ms);
        // The figures a frame carries for its new step (`quality: true`), timed apart.
        if (!side) continue;
        const added = embedder.embedding.steps.slice(-1);
        quality.push((await timed(() => measureQuality({ steps: added, layout: embedder.embedding.layout, kernel: embedder.embedding.kernel })))[1]);
        const cols = readStepTable(table, { features: true });
        affinity.push((await timed(() => perplexityAffinity().compute(cols.features!, n, DIM)))[1]);
      }
      embedder.dispose();
      // The first step has no previous one to start from; the figures are of the warm-started ones.
      const warm = (xs: number[]) => xs.slice(1);
      yield {
        what: "latency",
        instances: n,
        steps,
        dim: DIM,
        iterationsPerStep: iterations,
        p50Ms: round(percentile(warm(update), 50), 1),
        p95Ms: round(percentile(warm(update), 95), 1),
        firstStepMs: round(update[0], 1),
        ...(side
          ? {
            exactAffinitiesP50Ms: round(percentile(warm(affinity), 50), 1),
            qualityP50Ms: round(percentile(warm(quality), 50), 1),
            p50WithQualityMs: round(percentile(warm(update.map((u, i) => u + quality[i])), 50), 1),
          }
          : {}),
        ...(n === 1000 ? { targetP50Ms: 50 } : n === 10000 ? { targetP50Ms: 100 } : {}),
      };
    }

    // Quality: incremental (per-step updates, then the polish pass) against batch, on the same MNIST steps.
    const generated = await mnistTrajectories({ prompts: ["any", 0, 1, 3, 7], instancesPerPrompt: 200, steps: 10, seed: 0, digitsPerClass: 300 });
    const table = await encodeTable(await encodeTable(generated, pixels()), pcaEncoder({ components: 50 }));
    const batch = await embedSteps(table, { iterations: 1000, seed: 0 });
    const embedder = new IncrementalEmbedder({ iterationsPerStep: iterations, seed: 0, quality: false });
    // All steps at once: updates embed them one after another, as if they had arrived one by one. An
    // update stops after its time budget, so updates run until every step is in (one did not: the
    // figures were of the steps its budget allowed, a different number in each runtime).
    embedder.push(table);
    embedder.end();
    const [, streamMs] = await timed(async () => {
      while (embedder.ready) await embedder.update();
    });
    const unpolished = measureQuality(embedder.embedding);
    const [, finishMs] = await timed(() => embedder.finish());
    const polished = measureQuality(embedder.embedding);
    const figures = (q: typeof polished) => ({ meanTrustworthiness: round(q.meanTrustworthiness), alignmentRatio: round(q.alignmentRatio) });
    yield {
      what: "incremental vs batch",
      data: "MNIST diffusion, 10 steps × 1000 instances, PCA 50",
      batch: { ...figures(batch.quality), iterations: 1000, ms: round(batch.timings.affinities + batch.timings.optimize, 0) },
      incremental: { ...figures(unpolished), iterationsPerStep: iterations, ms: round(streamMs, 0) },
      polished: { ...figures(polished), polishIterations: 200, ms: round(streamMs + finishMs, 0) },
      trustworthinessGap: { unpolished: round(batch.quality.meanTrustworthiness - unpolished.meanTrustworthiness), polished: round(batch.quality.meanTrustworthiness - polished.meanTrustworthiness) },
    };
  },
};
