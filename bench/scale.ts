/**
 * Scale (issue 6): the batch embedding of T = 50 steps × n = 2000 instances
 * (100,000 points) for 1000 iterations, the Barnes-Hut and FFT repulsions
 * against the exact one (time, gradient error), and plain t-SNE of one step's
 * points against the npm packages druidjs and umap-js on the same points.
 */
import { TSNE } from "@saehrimnir/druidjs";
import { UMAP } from "umap-js";
import { collectSteps, embedSteps, encodeTable, EvolutionaryEmbedding, pcaEncoder, perplexityAffinity, pixels, random, readStepTable, semantic, splitSteps, stepTable, trustworthiness } from "../mod.ts";
import { mnistDiffusion } from "../mnist.ts";
import { fftRepulsion } from "../src/embed/kernel/fft_repulsion.ts";
import { exactNeighbors, warmNeighbors } from "../src/embed/affinity/neighbor_graph.ts";
import { barnesHutRepulsion, exactRepulsion } from "../src/embed/kernel/repulsion.ts";
import { type BenchCase, peakRss, round, rssMiB, timed } from "./bench.ts";

/**
 * The default data encoded to 50 PCA components (fitted per step), streamed:
 * each step's images go through the encoder as the sampler yields them and
 * only the features are kept, so memory holds one step's images at a time.
 */
async function mnistSteps(instancesPerPrompt: number, steps: number) {
  const pca = pcaEncoder({ components: 50 });
  return collectSteps((async function* () {
    for await (const generated of mnistDiffusion({ instancesPerPrompt, steps, seed: 0, digitsPerClass: 100 })) {
      const { instance, prompt, prompts, step, features, featureDim } = readStepTable(await encodeTable(await encodeTable(generated, pixels()), pca), { features: true });
      yield stepTable({ instance, prompt, prompts, step, features, featureDim });
    }
  })());
}

export const scaleCase: BenchCase = {
  name: "scale",
  async *run() {
    const peak = peakRss();
    const table = await mnistSteps(400, 50);
    const dataRss = rssMiB();
    const result = await embedSteps(table, {
      iterations: 1000,
      seed: 0,
      onProgress: ({ phase, done, total }) => {
        peak.sample();
        if (phase === "optimize" && done % 100 === 0) console.error(`  ${done}/${total}`);
      },
    });
    yield {
      what: "batch",
      steps: 50,
      instances: 2000,
      iterations: 1000,
      affinitiesMs: round(result.timings.affinities, 0),
      optimizeMs: round(result.timings.optimize, 0),
      totalMs: round(result.timings.affinities + result.timings.optimize, 0),
      // The quality report of every step, which embedSteps computes after the optimisation.
      qualityMs: round(result.timings.quality, 0),
      meanTrustworthiness: round(result.quality.meanTrustworthiness),
      meanDisplayTrustworthiness: round(result.quality.meanDisplayTrustworthiness!),
      alignmentRatio: round(result.quality.alignmentRatio),
      // Resident memory with the encoded data set alone, and its peak over the case, generation included (issue 20: under 1 GiB).
      rssMiB: { data: dataRss },
      peakRss: peak.read(),
    };
  },
};

export const repulsionCase: BenchCase = {
  name: "repulsion",
  async *run() {
    // Barnes-Hut and FFT interpolation against the exact sum (time: mean of 5 calls after a
    // warm-up; gradient error), on a ring as in the radial layout and on compact clusters as
    // in plain t-SNE; fftPredictedFaster: whether studentT's "auto" would take the FFT here
    // (from n = 500 on, where it leaves the exact sum).
    for (const shape of ["ring", "clusters"] as const) {
      for (const n of [1000, 2000, 5000, 10000]) {
        const y = shape === "ring" ? ring(n) : clusters(n);
        const exact = new Float64Array(2 * n), approx = new Float64Array(2 * n);
        const [ze, exactMs] = await meanMs(() => exactRepulsion().compute(y, n, exact));
        const fft = fftRepulsion();
        const record: Record<string, unknown> = {
          what: "repulsion",
          shape,
          n,
          exactMs: round(exactMs, 2),
          fftPredictedFaster: fft.fasterThanTree(y, n),
          // Where it does not hold them, boxes are widened (and studentT's "fft" takes Barnes-Hut instead).
          fftGridHolds: fft.holds(y, n),
        };
        for (const [key, fast] of [["barnesHut", barnesHutRepulsion(0.5)], ["fft", fft]] as const) {
          const [z, ms] = await meanMs(() => fast.compute(y, n, approx));
          let num = 0, den = 0;
          for (let i = 0; i < 2 * n; i++) {
            num += (exact[i] / ze - approx[i] / z) ** 2;
            den += (exact[i] / ze) ** 2;
          }
          record[key] = { ms: round(ms, 2), speedup: round(exactMs / ms, 2), relativeGradientError: Number(Math.sqrt(num / den).toExponential(2)), zRelativeError: Number(Math.abs(z / ze - 1).toExponential(2)) };
        }
        yield record;
      }
    }
  },
};

/** n points on a ring of radius max(5, 0.05 n) and width 0.1 of it, as the radial layout places a step. */
function ring(n: number): Float64Array {
  const rng = random(1), R = Math.max(5, 0.05 * n), y = new Float64Array(2 * n);
  for (let i = 0; i < n; i++) {
    const a = rng.next() * 2 * Math.PI, r = R + rng.normal() * 0.1 * R;
    y[2 * i] = r * Math.cos(a);
    y[2 * i + 1] = r * Math.sin(a);
  }
  return y;
}

/** n points in 10 Gaussian clusters spread over about 0.8 √n units, as plain t-SNE lays them out. */
function clusters(n: number): Float64Array {
  const rng = random(2), s = Math.sqrt(n), y = new Float64Array(2 * n);
  const centre = Array.from({ length: 10 }, () => [0.2 * s * rng.normal(), 0.2 * s * rng.normal()]);
  for (let i = 0; i < n; i++) {
    y[2 * i] = centre[i % 10][0] + 0.05 * s * rng.normal();
    y[2 * i + 1] = centre[i % 10][1] + 0.05 * s * rng.normal();
  }
  return y;
}

/** The value and the mean time of 5 calls after one warm-up call. */
async function meanMs<T>(f: () => T): Promise<[T, number]> {
  f();
  const [value, ms] = await timed(() => {
    for (let k = 0; k < 4; k++) f();
    return f();
  });
  return [value, ms / 5];
}

export const peersCase: BenchCase = {
  name: "peers",
  async *run() {
    // One step's points (the last step of the default data at n = 2000), plain t-SNE.
    const table = await mnistSteps(400, 10);
    const last = splitSteps(table).at(-1)!;
    const n = last.instance.length, dim = last.dim;
    const rows = Array.from({ length: n }, (_, i) => Array.from(last.features.subarray(i * dim, (i + 1) * dim)));
    const ours = async () => {
      const e = new EvolutionaryEmbedding({ seed: 0, losses: [semantic()], exaggeration: { factor: 12, iterations: 250 } });
      e.addStep(last);
      await e.optimize(500);
      e.dispose();
      return e.steps[0].y;
    };
    const [y, oursMs] = await timed(ours);
    const oursT = trustworthiness(last.features, dim, y, 2, 10);
    const [druid, druidMs] = await timed(() => new TSNE(rows, { perplexity: 30, seed: 1 }).transform(500) as number[][]);
    const druidT = trustworthiness(last.features, dim, Float64Array.from(druid.flat()), 2, 10);
    const [umap, umapMs] = await timed(() => new UMAP({ nComponents: 2, random: mulberry(1) }).fit(rows));
    const umapT = trustworthiness(last.features, dim, Float64Array.from(umap.flat()), 2, 10);
    yield {
      what: "plain t-SNE of one step",
      n,
      iterations: 500,
      ours: { ms: round(oursMs, 0), trustworthiness: round(oursT) },
      druidjs: { ms: round(druidMs, 0), trustworthiness: round(druidT), timeRatio: round(druidMs / oursMs, 2) },
      umapJs: { ms: round(umapMs, 0), trustworthiness: round(umapT), timeRatio: round(umapMs / oursMs, 2) },
    };
  },
};

/** A seeded uniform generator for umap-js, which otherwise uses Math.random. */
function mulberry(seed: number): () => number {
  const r = random(seed);
  return () => r.next();
}


export const neighborsCase: BenchCase = {
  name: "neighbors",
  async *run() {
    // Warm-started k-NN (from the step before) against the exact search, on consecutive steps of the default data.
    // chainedRecall: as in a stream, each step warm-started from the previous step's warm P (whose
    // rows start with their k neighbours), so misses can carry over.
    const steps = splitSteps(await mnistSteps(400, 20));
    const k = 90, warmP = perplexityAffinity({ perplexity: k / 3, neighbors: "warm" });
    let P = perplexityAffinity({ perplexity: k / 3, neighbors: "exact" }).compute(steps[0].features, steps[0].instance.length, steps[0].dim);
    let exactMs = 0, warmMs = 0, hits = 0, chainedHits = 0, total = 0;
    for (let t = 1; t < steps.length; t++) {
      const before = steps[t - 1], now = steps[t], n = now.instance.length;
      const previous = exactNeighbors(before.features, n, before.dim, k);
      // The previous graph as compressed rows (same instance order in both steps).
      const rowPtr = Int32Array.from({ length: n + 1 }, (_, i) => i * k);
      const [exact, e] = await timed(() => exactNeighbors(now.features, n, now.dim, k));
      const [warm, w] = await timed(() => warmNeighbors(now.features, n, now.dim, k, rowPtr, previous.index, t));
      exactMs += e;
      warmMs += w;
      P = warmP.compute(now.features, n, now.dim, { rowPtr: P.rowPtr, col: P.col });
      for (let i = 0; i < n; i++) {
        const truth = new Set(exact.index.subarray(i * k, (i + 1) * k));
        for (const j of warm.index.subarray(i * k, (i + 1) * k)) hits += +truth.has(j);
        for (const j of P.col.subarray(P.rowPtr[i], P.rowPtr[i] + k)) chainedHits += +truth.has(j);
      }
      total += n * k;
    }
    yield { what: "warm k-NN", n: 2000, k, steps: steps.length - 1, exactMsPerStep: round(exactMs / (steps.length - 1), 1), warmMsPerStep: round(warmMs / (steps.length - 1), 1), speedup: round(exactMs / warmMs, 1), recall: round(hits / total, 4), chainedRecall: round(chainedHits / total, 4) };
  },
};
