import { test } from "uvu";
import * as assert from "uvu/assert";
import type { Denoiser } from "../src/sources/denoiser.ts";
import { random } from "../src/util/random.ts";
import { chiSquareSurvival, gammaP, gammaQ, logGamma } from "../src/quality/special.ts";
import { gaussianFilter, gaussianKernel, imageSimilarity } from "../src/quality/image_similarity.ts";
import { exponentialTimesteps, noiseSchedule } from "../src/sources/schedule.ts";
import { ddim } from "../src/sources/schedulers/ddim.ts";
import { drawMask, riseSaliency } from "../src/explain/rise.ts";
import { insertionDeletion, saliencyOrder, trapezoidAuc } from "../src/explain/insertion.ts";
import { crossValidate, logisticRegression } from "../src/explain/probe.ts";
import { commitment } from "../src/explain/commitment.ts";
import { denoisingLevel } from "../src/explain/level.ts";
import { concepts, diversity } from "../src/explain/concepts.ts";
import { chiSquareTest, classBias } from "../src/explain/bias.ts";
import { explainSaliency } from "../src/explain/saliency.ts";
import { commitmentStepTable, commitmentTable, conceptTable, levelTable, readExplainMeta, saliencyTable } from "../src/explain/explain_tables.ts";
import { stepTable } from "../src/data/step_table.ts";
import type { Encoder } from "../src/encoders/encoder.ts";
import { closedFormDenoiser } from "../src/sources/closed_form.ts";
import { loadMnist, MNIST_DIM, MNIST_SHAPE, mnistSubset } from "../src/sources/mnist.ts";
import { collectSteps } from "../src/sources/collect.ts";
import { planSampler, sampleDiffusion } from "../src/sources/sampler.ts";
import { conditionsOf } from "../src/geometry/readings.ts";
import { CancelledError } from "../src/errors.ts";
import { from, lastValueFrom, toArray } from "rxjs";
import { commit, saliency } from "../src/stream/explanations.ts";
import { tablesPerStep } from "../src/data/per_step.ts";
import { frameTable } from "../src/data/frame_table.ts";
import { renderCommitmentSvg, renderCommittedFrameSvg, renderConceptSvg, renderLevelSvg } from "../src/explain/explain_svg.ts";

// ---- a denoiser whose output depends on one fixed region of x_t ------------------

const H = 16, W = 16, DIM = H * W;
const inRegion = (i: number) => {
  const y = Math.floor(i / W), x = i % W;
  return y >= 4 && y < 9 && x >= 9 && x < 14;
};
/** x̂0 = x_t inside the region, 0 outside: only the region of x_t matters. */
const regional: Denoiser = {
  prediction: "x0",
  dim: DIM,
  shape: [1, H, W],
  predict(xt, _level, condition, out) {
    for (let r = 0; r < condition.length; r++) for (let i = 0; i < DIM; i++) out[r * DIM + i] = inRegion(i) ? xt[r * DIM + i] : 0;
  },
};
const rng = random(3);
// Every pixel away from 0 (|x| in [0.4, 0.8]), so that masking any region pixel changes the output.
const xt = Float32Array.from({ length: DIM }, () => (rng.next() < 0.5 ? -1 : 1) * (0.4 + 0.4 * rng.next()));
const input = { xt, level: { t: 500, alphaBar: 0.5 }, condition: -1 };
const regionMass = (s: ArrayLike<number>) => {
  let inside = 0, all = 0;
  for (let i = 0; i < s.length; i++) {
    const v = Math.max(0, s[i]);
    all += v;
    if (inRegion(i)) inside += v;
  }
  return inside / all;
};

test("DF-RISE: saliency of a denoiser that reads one region concentrates there", async () => {
  const { saliency } = await riseSaliency(regional, input, [1, H, W], { seed: 1 }); // N = 500, p = 0.5
  // 25 of 256 pixels (10%) hold most of the positive saliency, and the 25 most salient pixels are nearly all theirs.
  assert.ok(regionMass(saliency) > 0.75, `region holds ${regionMass(saliency)}`);
  const top = saliencyOrder(saliency).slice(0, 25);
  assert.ok(top.filter(inRegion).length >= 23, `${top.filter(inRegion).length} of the top 25 in the region`);
});

test("DF-RISE: grid masks and the mean score find the region too; the plain sum of a map marks it least salient", async () => {
  const grid = await riseSaliency(regional, input, [1, H, W], { masks: 300, seed: 2, maskKind: "grid", grid: 4, score: "mean" });
  let gin = 0, gout = 0;
  grid.saliency.forEach((v, i) => (inRegion(i) ? (gin += v / 25) : (gout += v / (DIM - 25))));
  assert.ok(gin > 3 * gout, `grid: inside ${gin}, outside ${gout}`);
  const plain = await riseSaliency(regional, input, [1, H, W], { masks: 300, seed: 1, estimator: "plain", normalize: true });
  // E[S | kept]: 1 wherever the output never changes (outside), below 1 in the region.
  let inside = 0, outside = 0;
  plain.saliency.forEach((v, i) => (inRegion(i) ? (inside += v / 25) : (outside += v / (DIM - 25))));
  assert.ok(inside < outside, `plain: inside ${inside}, outside ${outside}`);
  assert.ok(Math.abs(plain.saliency[0] - 1) < 0.1, `far from the region E[S | kept] = ${plain.saliency[0]}`);
});

test("drawMask: pixel masks keep about p; grid masks are smooth, in [0, 1], shifted", () => {
  const r = random(0), m = new Float32Array(DIM);
  let kept = 0;
  for (let n = 0; n < 100; n++) kept += drawMask(r, H, W, "pixel", 0.3, 7, m).reduce((a, b) => a + b, 0);
  assert.ok(Math.abs(kept / (100 * DIM) - 0.3) < 0.01);
  const g = drawMask(r, H, W, "grid", 0.5, 4, m);
  assert.ok(g.every((v) => v >= 0 && v <= 1));
  assert.ok(g.some((v) => v > 0 && v < 1), "bilinear values between the cells");
});

test("insertion/deletion: the saliency order deletes faster and inserts faster than random", async () => {
  const { saliency } = await riseSaliency(regional, input, [1, H, W], { masks: 200, seed: 1 });
  const r = await insertionDeletion(regional, input, [1, H, W], saliency, { randomOrders: 3 });
  assert.is(r.stages, 16); // 16 pixels (the width) a stage
  assert.is(r.deletion.scores.length, 17);
  assert.ok(Math.abs(r.insertion.scores[16] - 1) < 1e-9, "all inserted: x_t itself");
  assert.ok(Math.abs(r.deletion.scores[0] - 1) < 1e-9, "nothing deleted: x_t itself");
  assert.ok(r.deletion.auc < r.randomDeletion!.auc - 0.1, `deletion ${r.deletion.auc} vs random ${r.randomDeletion!.auc}`);
  assert.ok(r.insertion.auc > r.randomInsertion!.auc + 0.05, `insertion ${r.insertion.auc} vs random ${r.randomInsertion!.auc}`);
  // Once the region's 25 pixels are gone (by stage 2), deleting more changes (nearly) nothing.
  assert.ok(Math.abs(r.deletion.scores[2] - r.deletion.scores[16]) < 0.02, `stage 2 ${r.deletion.scores[2]}, end ${r.deletion.scores[16]}`);
});

test("trapezoidAuc: over [0, 1] with equal spacing", () => {
  assert.is(trapezoidAuc([1, 1, 1]), 1);
  assert.ok(Math.abs(trapezoidAuc([0, 0.5, 1]) - 0.5) < 1e-15);
  assert.ok(Math.abs(trapezoidAuc([1, 0, 0, 0, 0]) - 0.125) < 1e-15);
});

// ---- similarity maps --------------------------------------------------------------

test("image similarity: identical images score 1 (structure, ssim) and 0 (squared error); a negated image −1", () => {
  const img = Float32Array.from({ length: DIM }, (_, i) => (Math.sin(i * 0.7) + 1) / 2);
  for (const kind of ["structure", "ssim"] as const) assert.ok(Math.abs(imageSimilarity(kind, img, [1, H, W]).mean(img) - 1) < 1e-9, kind);
  assert.is(imageSimilarity("squared-error", img, [1, H, W]).mean(img), 0);
  // Away from the border (zero padding), a negated image is perfectly anti-correlated.
  const neg = img.map((v) => 1 - v);
  const s = imageSimilarity("structure", img, [1, H, W]).map(neg)[8 * W + 8];
  assert.ok(s < -0.99, `structure of a negated image ${s}`);
  // The code's variant doubles the covariance: 2·1·σ² + C3 over σ² + C3, nearly 2 for a textured image.
  assert.ok(imageSimilarity("structure-x-diffusion", img, [1, H, W]).mean(img) > 1.9);
});

test("gaussianFilter: a normalised kernel; zero padding loses mass at the border only", () => {
  const k = gaussianKernel(11, 5);
  assert.ok(Math.abs(k.reduce((a, b) => a + b, 0) - 1) < 1e-12);
  const ones = new Float32Array(DIM).fill(1);
  const out = gaussianFilter(ones, [1, H, W], gaussianKernel(3, 1));
  assert.ok(Math.abs(out[5 * W + 5] - 1) < 1e-12);
  assert.ok(out[0] < 0.9);
});

// ---- statistics ------------------------------------------------------------------------

test("χ² survival: hand-computed cases", () => {
  // df = 2: P[χ² ≥ x] = e^{−x/2}; observed (10, 20, 30) against 20 each: χ² = (100 + 0 + 100)/20 = 10.
  assert.ok(Math.abs(chiSquareSurvival(10, 2) - Math.exp(-5)) < 1e-15);
  // The 5% critical values of the tables.
  for (const [x, df] of [[3.841458820694124, 1], [9.487729036781154, 4], [18.307038053275146, 10], [124.34211340400407, 100]]) {
    assert.ok(Math.abs(chiSquareSurvival(x, df) - 0.05) < 1e-10, `df ${df}: ${chiSquareSurvival(x, df)}`);
  }
  // df = 1: P = erfc(√(x/2)); x = 1 → 0.31731050786291415.
  assert.ok(Math.abs(chiSquareSurvival(1, 1) - 0.31731050786291415) < 1e-13);
  assert.is(chiSquareSurvival(0, 3), 1);
  assert.ok(Math.abs(logGamma(10) - Math.log(362880)) < 1e-12);
  assert.ok(Math.abs(logGamma(0.5) - 0.5 * Math.log(Math.PI)) < 1e-13);
  for (const [a, x] of [[0.5, 0.2], [3, 2], [3, 7], [20, 25]]) assert.ok(Math.abs(gammaP(a, x) + gammaQ(a, x) - 1) < 1e-14);
});

// ---- probes -------------------------------------------------------------------------

test("probe: a constructed problem gives the expected cross-validated accuracy", () => {
  // Class = sign of feature 0 (feature 1 is noise), with every fifth label flipped: the best linear rule scores 0.8.
  const n = 200, d = 2, r = random(5);
  const x = new Float64Array(n * d), y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const cls = i % 2;
    x[i * d] = (cls ? 1 : -1) * (1 + r.next());
    x[i * d + 1] = r.normal();
    y[i] = i % 10 < 2 ? 1 - cls : cls; // rows 0, 1 of every 10 flipped: 20%
  }
  const cv = crossValidate(x, n, d, y, { folds: 5 });
  assert.ok(Math.abs(cv.accuracy - 0.8) < 0.011, `accuracy ${cv.accuracy}`);
  assert.is(cv.chance, 0.5);
  // Separable without the flips: all right.
  const clean = Int32Array.from({ length: n }, (_, i) => i % 2);
  assert.is(crossValidate(x, n, d, clean, { folds: 5 }).accuracy, 1);
  // Labels independent of the features: about chance.
  const noise = Int32Array.from({ length: n }, () => r.int(2));
  assert.ok(crossValidate(x, n, d, noise, { folds: 5 }).accuracy < 0.65);
  // Wide vectors (200-d, the signal in one of them) go through PCA to 20 components of each training fold first.
  const wide = new Float64Array(n * 200);
  for (let i = 0; i < n; i++) {
    wide[i * 200] = 3 * x[i * d];
    for (let j = 1; j < 200; j++) wide[i * 200 + j] = r.normal();
  }
  const reduced = crossValidate(wide, n, 200, y, { folds: 5 });
  assert.ok(Math.abs(reduced.accuracy - 0.8) < 0.05, `reduced: ${reduced.accuracy}`); // 49 noise dimensions cost a little
  const model = logisticRegression(x, n, d, clean, 2);
  assert.equal(Array.from(model.predict([5, 0, -5, 0], 2)), [1, 0]);
});

// ---- schedules --------------------------------------------------------------------------

test("exponential timesteps: the code's early and late schedules (T 1000, N 30, λ 30)", () => {
  const alpha = Math.exp(Math.log(1000) / 60);
  const early = exponentialTimesteps(1000, 30, "early", 30), late = exponentialTimesteps(1000, 30, "late", 30);
  assert.is(early[0], 999);
  assert.is(early[1], 1000 - Math.floor(alpha ** 31));
  assert.is(early[29], 1000 - Math.floor(alpha ** 59));
  assert.is(late[29], Math.floor(alpha ** 31));
  assert.is(late[0], 999);
  for (let i = 1; i < 30; i++) assert.ok(early[i] <= early[i - 1] && late[i] <= late[i - 1]);
  // Early is dense near 999, late near 0.
  assert.ok(early[0] - early[5] < late[0] - late[5]);
  const levels = ddim({ timesteps: "late", lambda: 30 }).levels(noiseSchedule("cosine"), 30);
  assert.equal(levels.slice(0, 30).map((l) => l.t), Array.from(late));
});

// ---- commitment, level, concepts, bias on hand-made tables -------------------------------

/** A table of `classes[i][s]` per instance and step: each image is one-hot at its class (2 × 2 pixels, 4 classes). */
function classTable(classes: number[][], prompts: string[]) {
  const n = classes.length, T = classes[0].length;
  const rows = n * T;
  const image = new Float32Array(rows * 4), features = new Float32Array(rows * 4);
  const instance = new Int32Array(rows), prompt = new Int32Array(rows), step = new Int32Array(rows);
  for (let s = 0, r = 0; s < T; s++) {
    for (let i = 0; i < n; i++, r++) {
      instance[r] = i;
      step[r] = s;
      prompt[r] = prompts.indexOf(i < n / 2 ? prompts[0] : prompts[1]);
      image[r * 4 + classes[i][s]] = 1;
      features[r * 4 + classes[i][s]] = 1 + 0.1 * i;
    }
  }
  return stepTable({ instance, prompt, prompts, step, image, imageShape: [1, 2, 2], features, featureDim: 4 });
}
/** Class = the brightest pixel. */
const brightest: Encoder = {
  name: "brightest",
  input: "image",
  encode: ({ values, dim }) => ({ features: Float32Array.from(values, (v) => 10 * v), dim }),
};

test("commitment: an instance constant from step 0 commits at step 0; a late switch commits late", async () => {
  const table = classTable([[2, 2, 2, 2], [0, 1, 1, 1], [1, 0, 1, 0], [3, 3, 1, 1]], ["any", "digit 1"]);
  const c = await commitment(table, { classifier: brightest });
  assert.equal(c.instances.map((i) => i.commitmentStep), [0, 1, 3, 2]);
  assert.equal(c.instances.map((i) => i.finalClass), [2, 1, 0, 1]);
  assert.equal(c.instances.map((i) => i.changes), [0, 1, 3, 1]);
  // Accuracy per step over all four: classes equal to the final at steps 0..3.
  assert.equal(c.perStep.filter((p) => p.prompt === "").map((p) => p.accuracy), [0.25, 0.75, 0.75, 1]); // C is right at step 1 by chance
  assert.equal(c.perStep.filter((p) => p.prompt === "").map((p) => p.committed), [0.25, 0.5, 0.75, 1]);
  assert.equal(Array.from(c.distributions.find((d) => d.prompt === "any")!.counts), [1, 1, 0, 0]);
  assert.is(c.distributions.find((d) => d.prompt === "")!.median, 1.5);
  assert.ok(c.instances[0].confidence.every((p) => p > 0.99));
  const t = commitmentTable(c);
  assert.is(t.numRows, 16);
  assert.equal(Array.from(t.getChild("committed")!.toArray() as Int32Array).slice(0, 4), [1, 1, 1, 1]);
  const summary = commitmentStepTable(c);
  assert.is(summary.numRows, 12);
  assert.equal((readExplainMeta(summary)!.distributions as { prompt: string }[]).map((d) => d.prompt), ["any", "digit 1", ""]);
});

test("denoising level: 1 → 0 relative distance, SSIM 1 at the last step", async () => {
  const table = classTable([[2, 2, 1, 1], [0, 1, 1, 1]], ["any", "digit 1"]);
  const c = await commitment(table, { classifier: brightest });
  const level = denoisingLevel(table, { commitment: c });
  const first = level.rows.filter((r) => r.instance === 0);
  assert.equal(first.map((r) => r.relative), [1, 1, 0, 0]);
  assert.ok(Math.abs(first[3].ssim - 1) < 1e-12);
  assert.ok(first[3].confidence > 0.99 && first[0].confidence < 0.01);
  assert.is(levelTable(level).numRows, 8);
});

test("concepts: projections are 0 at the baseline's mean and 1 at the concept's; χ² bias and diversity", async () => {
  // Instances 0, 1 are "any" (baseline), 2, 3 "digit 1" (the concept).
  const table = classTable([[0, 0, 0], [1, 1, 1], [2, 2, 3], [2, 2, 3]], ["any", "digit 1"]);
  const k = concepts(table, { baseline: "any" });
  assert.equal(k.names, ["digit 1"]);
  const curve = k.curves.filter((c) => c.prompt === "digit 1").map((c) => c.projection);
  for (const v of curve) assert.ok(Math.abs(v - 1) < 1e-6);
  const base = k.curves.filter((c) => c.prompt === "any").map((c) => c.projection);
  for (const v of base) assert.ok(Math.abs(v) < 1e-6);
  assert.is(conceptTable(k).numRows, 12);
  // With a commitment: one class concept per final class of the baseline with ≥ 1 instance.
  const c = await commitment(table, { classifier: brightest });
  assert.equal(concepts(table, { baseline: "any", commitment: c, minInstances: 1 }).names, ["digit 1", "class 0", "class 1"]);
  const d = diversity(table);
  assert.ok(Math.abs(d[1].diversity - 0.1) < 1e-6, `identical but for the 0.1 scale: ${d[1].diversity}`);
});

test("χ² bias: the hand-computed case", async () => {
  // 60 "any" instances: 10 of class 0, 20 of class 1, 30 of class 2, data uniform over 3 classes: χ² = 10, df 2, p = e^−5.
  const classes = [...Array(60).keys()].map((i) => (i < 10 ? 0 : i < 30 ? 1 : 2));
  const table = classTable([...classes.map((c) => [c, c]), ...classes.map((c) => [c, c])], ["any", "digit 1"]);
  const c = await commitment(table, { classifier: brightest });
  const bias = classBias(c, "any", [1, 1, 1, 0]);
  assert.equal(Array.from(bias.counts), [10, 20, 30, 0]);
  assert.is(bias.chiSquare, 10);
  assert.is(bias.df, 2);
  assert.ok(Math.abs(bias.p - Math.exp(-5)) < 1e-15);
  assert.is(chiSquareTest([5, 5], [1, 1]).chiSquare, 0);
  assert.is(chiSquareTest([5, 5], [1, 1]).p, 1);
});

test("commit operator: provisional commitment per step, the batch result at the end", async () => {
  const table = classTable([[2, 2, 2, 2], [0, 1, 1, 1], [1, 0, 1, 0], [3, 3, 1, 1]], ["any", "digit 1"]);
  const updates = await lastValueFrom(from(tablesPerStep(table)).pipe(commit({ classifier: brightest }), toArray()));
  assert.is(updates.length, 4);
  // After step 1, instance 2 (1, 0) has committed at step 1 to class 0, provisionally; instance 3 (3, 3) at step 0.
  assert.equal(updates[1].commitment.instances.map((i) => i.commitmentStep), [0, 1, 1, 0]);
  const batch = await commitment(table, { classifier: brightest });
  assert.equal(updates[3].commitment.instances.map((i) => i.commitmentStep), batch.instances.map((i) => i.commitmentStep));
  assert.is(updates[3].table.numRows, 16);
});

test("figures: every figure is an SVG document with its parts", async () => {
  const table = classTable([[2, 2, 2, 2], [0, 1, 1, 1], [1, 0, 1, 0], [3, 3, 1, 1]], ["any", "digit 1"]);
  const c = await commitment(table, { classifier: brightest });
  const svg = renderCommitmentSvg(c);
  assert.ok(svg.startsWith("<svg") && svg.includes("any (median 0.5)") && svg.trim().endsWith("</svg>"));
  assert.ok(renderLevelSvg(denoisingLevel(table, { commitment: c })).includes("probability of the final class"));
  assert.ok(renderConceptSvg(concepts(table, { baseline: "any" })).includes("projection on &quot;digit 1&quot;"));
  const frame = frameTable({
    instance: Int32Array.from({ length: 16 }, (_, q) => q % 4), prompt: new Int32Array(16), prompts: ["any"],
    step: Int32Array.from({ length: 16 }, (_, q) => q >> 2), x: Float32Array.from({ length: 16 }, (_, q) => q), y: Float32Array.from({ length: 16 }, (_, q) => q % 4),
    native: {}, layout: "test",
  });
  const tree = renderCommittedFrameSvg(frame, c);
  // 16 points: instance 0 committed throughout (4 filled), 1 from step 1 (3), 2 at step 3 (1), 3 from step 2 (2): 10 filled, 6 hollow.
  assert.is(tree.match(/fill="white" stroke/g)?.length, 6);
  assert.is(tree.match(/r="2.6" fill="#/g)?.length, 10);
});

// ---- the closed form, end to end --------------------------------------------------------

test("closed form: saliency over a step table, its Arrow table, progress and cancellation", async () => {
  const digits = mnistSubset(await loadMnist(), 10);
  const denoiser = closedFormDenoiser({ images: digits.images, labels: digits.labels, dim: MNIST_DIM });
  const sampler = { prompts: [{ label: "digit 3", condition: 3 }, { label: "any digit", condition: -1 }], instancesPerPrompt: 2, steps: 6, seed: 1, range: [-1, 1] as const, imageShape: MNIST_SHAPE };
  const steps = await collectSteps(sampleDiffusion(denoiser, sampler));
  const progress: number[] = [];
  const result = await explainSaliency(steps, {
    denoiser, condition: conditionsOf(sampler.prompts), levels: planSampler(sampler).levels,
    steps: [2], instances: [0, 2], masks: 40, batch: 20, onProgress: (done, total) => progress.push(done / total),
  });
  assert.is(result.rows.length, 2);
  assert.is(progress.at(-1), 1);
  for (let i = 1; i < progress.length; i++) assert.ok(progress[i] >= progress[i - 1]);
  const table = saliencyTable(result);
  assert.is(table.numRows, 2);
  assert.is((table.getChild("saliency")!.type as { listSize: number }).listSize, 784);
  assert.is((table.getChild("deletion")!.type as { listSize: number }).listSize, 29);
  assert.equal(readExplainMeta(table)!.shape, [1, 28, 28]);
  assert.is(result.perStep[0].step, 2);
  // As an operator on the stream of steps: a saliency table for each step asked for.
  const perStep = await lastValueFrom(from(tablesPerStep(steps)).pipe(
    saliency({ denoiser, condition: conditionsOf(sampler.prompts), levels: planSampler(sampler).levels, steps: [1, 4], instances: [1], masks: 10, insertion: false }),
    toArray(),
  ));
  assert.equal(perStep.map((t) => [t.numRows, t.getChild("step")!.get(0)]), [[1, 1], [1, 4]]);
  // Cancelled part-way: a CancelledError, not a result.
  const controller = new AbortController();
  const run = explainSaliency(steps, {
    denoiser, condition: conditionsOf(sampler.prompts), levels: planSampler(sampler).levels, masks: 40, batch: 10, signal: controller.signal,
    onProgress: (done) => done >= 20 && controller.abort(),
  });
  await run.then(() => assert.unreachable("finished"), (e) => assert.instance(e, CancelledError));
});

test.run();
