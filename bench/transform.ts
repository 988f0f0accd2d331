/**
 * Transform (issue 18). Quality: on one MNIST diffusion (10 steps × 1000
 * instances, 5 prompts, pixels → PCA 50), a tree fitted on half the
 * instances with the other half transformed into it, against the tree
 * fitted on all of them: per-step trustworthiness and neighbourhood hit by
 * prompt of the whole picture (fitted and transformed points together).
 * Time: the time per transformed step when a tree of n instances per step
 * takes n new ones (synthetic 50-dimensional steps, so that generation is not
 * measured), at n = 100, 1000 and 10,000: the new points' affinities to the
 * fitted ones and their 250 iterations.
 */
import { asStepTable, encodeTable, pcaEncoder, pixels, readStepTable, type StepTable, stepTable, TreeEmbedding } from "../mod.ts";
import type { QualityReport } from "../mod.ts";
import type { Table } from "apache-arrow";
import { mnistTrajectories } from "../mnist.ts";
import { type BenchCase, round, timed } from "./bench.ts";
import { syntheticSteps } from "./synthetic.ts";

/** The rows of a step table whose instance passes `keep`. */
export function subset(table: StepTable, keep: (instance: number) => boolean): StepTable {
  const c = readStepTable(table, { features: true }), dim = c.featureDim!;
  const rows = [...c.instance.keys()].filter((r) => keep(c.instance[r]));
  const features = new Float32Array(rows.length * dim);
  rows.forEach((r, i) => features.set(c.features!.subarray(r * dim, (r + 1) * dim), i * dim));
  return stepTable({
    instance: Int32Array.from(rows, (r) => c.instance[r]),
    prompt: Int32Array.from(rows, (r) => c.prompt[r]),
    prompts: c.prompts,
    step: Int32Array.from(rows, (r) => c.step[r]),
    features,
    featureDim: dim,
  });
}

const figures = (q: QualityReport) => ({
  meanTrustworthiness: round(q.meanTrustworthiness),
  meanPromptHit: round(q.steps.reduce((s, x) => s + x.neighborhoodHit, 0) / q.steps.length),
  lastStepPromptHit: round(q.steps[q.steps.length - 1].neighborhoodHit),
  alignmentRatio: round(q.alignmentRatio),
});

export const transformCase: BenchCase = {
  name: "transform",
  async *run() {
    const sizes = (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env.TRANSFORM_SIZES;
    if (!sizes || sizes.includes("quality")) {
      const generated = await mnistTrajectories({ prompts: ["any", 0, 1, 3, 7], instancesPerPrompt: 200, steps: 10, seed: 0, digitsPerClass: 300 });
      const table = await encodeTable(await encodeTable(generated, pixels()), pcaEncoder({ components: 50 }));
      const [all, allMs] = await timed(() => new TreeEmbedding().fit(table));
      const tree = new TreeEmbedding();
      const [, fitMs] = await timed(() => tree.fit(subset(table, (id) => id % 2 === 0)));
      const [placed, transformMs] = await timed(() => tree.transform(subset(table, (id) => id % 2 === 1)));
      const q = placed.quality!;
      yield {
        what: "transform vs fit-all quality",
        data: "MNIST diffusion, 10 steps × 1000 instances (5 prompts), pixels → PCA 50; default spec",
        fitAll: { ...figures(all.quality), ms: round(allMs, 0) },
        fitHalfTransformHalf: {
          ...figures(q),
          fitMs: round(fitMs, 0),
          transformMs: round(placed.timings.affinities + placed.timings.optimize, 0),
          qualityMs: round(placed.timings.quality, 0),
          totalMs: round(transformMs, 0),
        },
        gap: {
          meanTrustworthiness: round(all.quality.meanTrustworthiness - q.meanTrustworthiness),
          lastStepPromptHit: round(all.quality.steps[9].neighborhoodHit - q.steps[9].neighborhoodHit),
        },
        perStep: q.steps.map((s, t) => ({
          step: s.step,
          trustworthiness: round(s.trustworthiness),
          fitAll: round(all.quality.steps[t].trustworthiness),
          promptHit: round(s.neighborhoodHit),
          fitAllPromptHit: round(all.quality.steps[t].neighborhoodHit),
          featurePromptHit: round(all.quality.steps[t].featureNeighborhoodHit),
        })),
      };
      tree.dispose();
    }
    for (const n of [100, 1000, 10000]) {
      if (sizes && !sizes.split(",").includes(String(n))) continue;
      const steps = 3;
      // 2n synthetic instances: the even ones are fitted, the odd ones transformed.
      const [first, ...rest] = syntheticSteps(2 * n, steps);
      const table = asStepTable(rest.reduce<Table>((a, b) => a.concat(b), first));
      const tree = new TreeEmbedding();
      const [, fitMs] = await timed(() => tree.fit(subset(table, (id) => id % 2 === 0)));
      const placed = await tree.transform(subset(table, (id) => id % 2 === 1), { quality: false });
      const { affinities, optimize } = placed.timings;
      yield {
        what: "time per transformed step",
        fittedInstances: n,
        newInstances: n,
        steps,
        iterations: tree.spec.transform.iterations,
        msPerStep: round((affinities + optimize) / steps, 1),
        affinitiesMsPerStep: round(affinities / steps, 1),
        optimizeMsPerStep: round(optimize / steps, 1),
        usPerNewPointIteration: round((1000 * optimize) / (steps * n * tree.spec.transform.iterations), 2),
        fitMs: round(fitMs, 0),
      };
      tree.dispose();
    }
  },
};
