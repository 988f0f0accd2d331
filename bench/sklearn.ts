/**
 * Plain t-SNE of one step's 10,000 points (the last step of the default
 * data, 2000 instances per prompt) against scikit-learn's Barnes-Hut t-SNE,
 * which runs as a subprocess (`scripts/sklearn_tsne.py`) where Debian's
 * python3-sklearn is installed, on the same points (handed over in a
 * temporary file): same perplexity, early exaggeration and iterations. Both
 * times include the affinities; both outputs are scored by this library's
 * trustworthiness. `BENCH_SKLEARN_INSTANCES` (per prompt) shrinks it.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { encodeTable, EvolutionaryEmbedding, pcaEncoder, pixels, semantic, splitSteps, type StepTable, trustworthiness } from "../mod.ts";
import { mnistDiffusion } from "../mnist.ts";
import { type BenchCase, round, timed } from "./bench.ts";

const PYTHON = "/usr/bin/python3";

export const sklearnCase: BenchCase = {
  name: "sklearn",
  async *run() {
    const perPrompt = Number(process.env.BENCH_SKLEARN_INSTANCES ?? 2000), perplexity = 30, iterations = 1000;
    if (!existsSync(PYTHON) || spawnSync(PYTHON, ["-c", "import sklearn"]).status !== 0) {
      yield { what: "plain t-SNE of one step against scikit-learn", skipped: "Debian's python3-sklearn is not installed (/usr/bin/python3 cannot import sklearn)" };
      return;
    }
    let last: StepTable | undefined;
    for await (const step of mnistDiffusion({ instancesPerPrompt: perPrompt, steps: 10, seed: 0, digitsPerClass: 100 })) last = step;
    const points = splitSteps(await encodeTable(await encodeTable(last!, pixels()), pcaEncoder({ components: 50 })))[0];
    const n = points.instance.length, dim = points.dim;

    const cpu = process.cpuUsage();
    let firstStepMs = 0;
    const [y, oursMs] = await timed(async () => {
      const e = new EvolutionaryEmbedding({ seed: 0, losses: [semantic()], exaggeration: { factor: 12, iterations: 250 } });
      const start = performance.now();
      await e.ready(n);
      e.addStep(points);
      // The affinities (while the threads start), apart from the iterations.
      firstStepMs = performance.now() - start;
      await e.optimize(iterations);
      e.dispose();
      return e.steps[0].y;
    });
    const { user, system } = process.cpuUsage(cpu), oursCpuMs = (user + system) / 1000;
    const oursT = trustworthiness(points.features, dim, y, 2, 10);

    const dir = mkdtempSync(join(tmpdir(), "diffusion-life-sklearn-"));
    try {
      const input = join(dir, "points.f32"), output = join(dir, "embedding.f64");
      writeFileSync(input, new Uint8Array(points.features.buffer, points.features.byteOffset, points.features.byteLength));
      const run = spawnSync(PYTHON, ["scripts/sklearn_tsne.py", input, output, "--dim", String(dim), "--perplexity", String(perplexity), "--iterations", String(iterations)], { encoding: "utf8" });
      if (run.status !== 0) throw new Error(`scripts/sklearn_tsne.py failed: ${run.stderr}`);
      const sk = JSON.parse(run.stdout.trim().split("\n").at(-1)!) as { seconds: number; cpuSeconds: number; version: string; iterations: number };
      const bytes = readFileSync(output);
      const skY = new Float64Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 8);
      const skT = trustworthiness(points.features, dim, skY, 2, 10);
      yield {
        what: "plain t-SNE of one step against scikit-learn",
        n,
        perplexity,
        iterations,
        ours: { ms: round(oursMs, 0), firstStepMs: round(firstStepMs, 0), cpuMs: round(oursCpuMs, 0), trustworthiness: round(oursT) },
        sklearn: { version: sk.version, ms: round(sk.seconds * 1000, 0), cpuMs: round(sk.cpuSeconds * 1000, 0), iterations: sk.iterations, trustworthiness: round(skT) },
        // Target (issue 20): ≥ 10× faster at trustworthiness within 0.01. On a shared machine CPU time over
        // all threads is the steadier figure (the two runs take turns); it counts the threads' spin-waits too.
        speedup: round(sk.seconds * 1000 / oursMs, 1),
        cpuSpeedup: round(sk.cpuSeconds * 1000 / oursCpuMs, 1),
        trustworthinessRatio: round(oursT / skT, 4),
        trustworthinessDifference: round(oursT - skT, 4),
      };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
