// The worked Loss of docs/plugins.md (examples/plugin_loss.ts): its gradient, and what it does.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { alignment, checkGradient, displacement, embedSteps, type EvolutionaryEmbedding, radial, random, rectilinear, semantic, stepTable } from "../mod.ts";
import { smoothness } from "../examples/plugin_loss.ts";

/** T steps of n instances in three clusters that separate as the steps go on. */
function table(T: number, n: number, dim: number, seed: number) {
  const rng = random(seed);
  const centres = Array.from({ length: 3 }, () => Float32Array.from({ length: dim }, () => 5 * rng.normal()));
  const base = Float32Array.from({ length: n * dim }, () => rng.normal());
  const features = new Float32Array(T * n * dim);
  for (let t = 0; t < T; t++) {
    for (let i = 0; i < n; i++) {
      for (let d = 0; d < dim; d++) features[(t * n + i) * dim + d] = (centres[i % 3][d] * (t + 1)) / T + base[i * dim + d] + 0.5 * rng.normal();
    }
  }
  return stepTable({
    instance: Int32Array.from({ length: T * n }, (_, r) => r % n),
    prompt: Int32Array.from({ length: T * n }, (_, r) => r % 3),
    prompts: ["a", "b", "c"],
    step: Int32Array.from({ length: T * n }, (_, r) => Math.floor(r / n)),
    features,
    featureDim: dim,
  });
}

/** Mean |second difference| of the instances' free coordinates (all steps hold the same instances in the same rows). */
function bending(e: EvolutionaryEmbedding): number {
  const g = new Float64Array(2), f = e.steps.map((s) => Array.from({ length: s.n }, (_, i) => e.layout.free(s.y[2 * i], s.y[2 * i + 1], g)));
  let sum = 0, count = 0;
  for (let t = 0; t + 2 < f.length; t++) {
    for (let i = 0; i < f[t].length; i++, count++) {
      const d = f[t][i] - 2 * f[t + 1][i] + f[t + 2][i];
      sum += Math.abs(e.layout.circular ? Math.atan2(Math.sin(d), Math.cos(d)) : d);
    }
  }
  return sum / count;
}

for (const layout of [radial(), rectilinear()]) {
  test(`smoothness loss (${layout.name}): checkGradient passes`, async () => {
    for (const progress of [0.1, 0.8]) {
      const check = await checkGradient(smoothness({ weight: (p) => 1 + p }), layout, { steps: 4, progress });
      assert.ok(check.maxRelativeError < 1e-6, `relative error ${check.maxRelativeError}`);
    }
  });
}

test("smoothness loss: tracks bend less than with the default losses alone", async () => {
  const steps = table(8, 30, 8, 2);
  const plain = await embedSteps(steps, { layout: rectilinear(), iterations: 300, seed: 1 });
  const smooth = await embedSteps(steps, {
    layout: rectilinear(),
    iterations: 300,
    seed: 1,
    losses: [semantic(), displacement(), alignment(), smoothness({ weight: 4 })],
  });
  const [before, after] = [bending(plain.embedding), bending(smooth.embedding)];
  assert.ok(after < 0.7 * before, `bending ${after} vs ${before}`);
  assert.ok(smooth.quality.meanTrustworthiness > plain.quality.meanTrustworthiness - 0.03);
});

test.run();
