import { test } from "uvu";
import * as assert from "uvu/assert";
import { calibrateRow } from "../src/embed/affinity/calibrate.ts";
import { knnWithDistances } from "../src/quality/exact_knn.ts";
import { exactNeighbors, warmNeighbors } from "../src/embed/affinity/neighbor_graph.ts";
import { symmetrize } from "../src/embed/affinity/symmetrize.ts";
import {
  alignment,
  CancelledError,
  checkGradient,
  DimensionError,
  displacement,
  embedSteps,
  EvolutionaryEmbedding,
  type Layout,
  type Loss,
  type LossContext,
  NonFiniteError,
  pcaPositions,
  perplexityAffinity,
  radial,
  random,
  readFrameTable,
  readGuides,
  rectilinear,
  semantic,
  type StepInput,
  StepOrderError,
  stepTable,
} from "../mod.ts";

/** Three well-separated Gaussian clusters per step; the cluster is the prompt. */
function clusteredSteps(steps: number, perCluster: number, dim: number, seed: number): StepInput[] {
  const rng = random(seed);
  const n = 3 * perCluster;
  const centres = Array.from({ length: 3 }, () => Float32Array.from({ length: dim }, () => 6 * rng.normal()));
  const base = Float32Array.from({ length: n * dim }, () => rng.normal());
  return Array.from({ length: steps }, (_, t) => {
    const features = new Float32Array(n * dim);
    for (let i = 0; i < n; i++) {
      for (let d = 0; d < dim; d++) features[i * dim + d] = centres[i % 3][d] * (t + 1) / steps + base[i * dim + d] + 0.3 * rng.normal();
    }
    return { step: t, instance: Int32Array.from({ length: n }, (_, i) => i), prompt: Int32Array.from({ length: n }, (_, i) => i % 3), features, dim };
  });
}

function asTable(steps: StepInput[]) {
  const n = steps[0].instance.length, dim = steps[0].dim;
  const features = new Float32Array(steps.length * n * dim);
  steps.forEach((s, t) => features.set(s.features, t * n * dim));
  return stepTable({
    instance: Int32Array.from({ length: steps.length * n }, (_, r) => r % n),
    prompt: Int32Array.from({ length: steps.length * n }, (_, r) => (r % n) % 3),
    prompts: ["a", "b", "c"],
    step: Int32Array.from({ length: steps.length * n }, (_, r) => Math.floor(r / n)),
    features,
    featureDim: dim,
  });
}

/** Builds an embedding of a few steps with points perturbed off their lanes. */
function perturbed(layout: Layout) {
  const e = new EvolutionaryEmbedding({ layout, seed: 3 });
  for (const s of clusteredSteps(3, 5, 4, 1)) e.addStep(s);
  const rng = random(9);
  for (const s of e.steps) for (let i = 0; i < s.y.length; i++) s.y[i] += rng.normal() * 2;
  return e;
}

for (const layout of [radial(), rectilinear()]) {
  for (const loss of [semantic(), displacement(), alignment()]) {
    test(`${loss.name} loss (${layout.name}): checkGradient — the gradient matches finite differences of the loss`, async () => {
      for (const progress of [0.1, 0.8]) {
        const check = await checkGradient(loss, layout, { progress });
        assert.ok(check.scale > 0 && check.inactiveUntouched);
        assert.ok(check.maxRelativeError < 1e-4, `gradient error ${check.maxRelativeError} at progress ${progress}`);
      }
    });
  }
}

test("checkGradient reports a wrong gradient, a touched held step and a loss that does not depend on the points", async () => {
  const inner = alignment();
  const doubled: Loss = { name: "doubled", gradient: (ctx) => inner.gradient(ctx), value: (ctx) => 2 * inner.value(ctx) };
  await checkGradient(doubled, radial()).then(() => assert.unreachable(), (err: Error) => assert.match(err.message, /relative gradient error 5\.00e-1 > 0\.0001; worst at step/));
  const measured = await checkGradient(doubled, radial(), { tolerance: Infinity });
  assert.ok(Math.abs(measured.maxRelativeError - 0.5) < 1e-4);
  const careless: Loss = { name: "careless", gradient: (ctx) => inner.gradient({ ...ctx, active: ctx.active.map(() => 1) }), value: (ctx) => inner.value(ctx) };
  await checkGradient(careless, rectilinear()).then(() => assert.unreachable(), (err: Error) => assert.match(err.message, /held \(inactive\) step/));
  const constant: Loss = { name: "constant", gradient: () => {}, value: () => 1 };
  await checkGradient(constant, radial()).then(() => assert.unreachable(), (err: Error) => assert.match(err.message, /does not change with the points/));
});

test("losses only move active steps", () => {
  const e = perturbed(radial());
  const ctx: LossContext = { steps: e.steps, active: Uint8Array.from([0, 1, 0]), layout: e.layout, progress: 0, exaggeration: 1 };
  for (const loss of [semantic(), displacement(), alignment()]) loss.gradient(ctx);
  assert.ok(e.steps[0].grad.every((g) => g === 0));
  assert.ok(e.steps[2].grad.every((g) => g === 0));
  assert.ok(e.steps[1].grad.some((g) => g !== 0));
});

test("a loss that begins on other threads is completed after the others, each iteration", async () => {
  const calls: string[] = [];
  const traced = (name: string, begins: boolean): Loss => ({
    name,
    gradient: () => void calls.push(name),
    value: () => 0,
    ...(begins ? { begin: () => void calls.push(`begin ${name}`) } : {}),
  });
  const e = new EvolutionaryEmbedding({ losses: [traced("threaded", true), traced("a", false), traced("b", false)] });
  e.addStep(clusteredSteps(1, 12, 3, 1)[0]);
  await e.optimize(2);
  assert.equal(calls, ["begin threaded", "a", "b", "threaded", "begin threaded", "a", "b", "threaded"]);
});

test("perplexity affinities: symmetric, non-negative, summing to 1, each row at the target perplexity", () => {
  const [s] = clusteredSteps(1, 20, 5, 2);
  const P = perplexityAffinity({ perplexity: 10 }).compute(s.features, 60, 5);
  let total = 0;
  const dense = new Float64Array(60 * 60);
  for (let i = 0; i < 60; i++) {
    for (let e = P.rowPtr[i]; e < P.rowPtr[i + 1]; e++) {
      assert.ok(P.val[e] >= 0 && P.col[e] !== i);
      dense[i * 60 + P.col[e]] = P.val[e];
      total += P.val[e];
    }
  }
  assert.ok(Math.abs(total - 1) < 1e-9);
  for (let i = 0; i < 60; i++) for (let j = 0; j < 60; j++) assert.ok(Math.abs(dense[i * 60 + j] - dense[j * 60 + i]) < 1e-15);
  // Each point's nearest neighbours carry more affinity than its farthest.
  const row = Array.from(dense.subarray(0, 60));
  assert.ok(Math.max(...row) > 10 * Math.min(...row.filter((v) => v > 0)));
});

test("perplexity calibration: every row reaches the target entropy, at any distance scale, from any start", () => {
  const rng = random(12);
  for (const scale of [1e-6, 1, 1e6]) {
    for (const perplexity of [5, 30]) {
      const d2 = Float64Array.from({ length: 90 }, () => scale * rng.next() * 10).sort();
      const p = new Float64Array(90);
      const cold = calibrateRow(d2, perplexity, p);
      // A start far off either way (a step whose distances shrank or grew by orders of magnitude) still gets there.
      for (const start of [0, cold * 1e-7, cold * 1e-2, cold * 1e3, cold * 1e7]) {
        calibrateRow(d2, perplexity, p, start);
        const entropy = -p.reduce((h, v) => (v > 0 ? h + v * Math.log(v) : h), 0);
        assert.ok(Math.abs(entropy - Math.log(perplexity)) < 1e-4, `scale ${scale}, perplexity ${perplexity}, start ${start}: entropy ${entropy}`);
        assert.ok(Math.abs(p.reduce((a, b) => a + b, 0) - 1) < 1e-12);
      }
    }
  }
});

test("perplexity calibration: where the nearest's ties outnumber the perplexity (duplicates), the weights are uniform on them and β is that of a hundred iterations", () => {
  // The plain loop of calibrateRow's steps from β = 3k / Σ(d − d0), without its shortcut: every iteration
  // finds too much entropy and doubles β once no Halley step is taken.
  for (const [ties, start] of [[40, 0], [31, 0], [90, 0], [40, 1e-3], [40, 1e30]]) {
    const d2 = Float64Array.from({ length: 90 }, (_, a) => (a < ties ? 2.5 : 2.5 + a));
    const p = new Float64Array(90);
    const beta = calibrateRow(d2, 30, p, start);
    for (let a = 0; a < 90; a++) assert.is(p[a], a < ties ? 1 / ties : 0, `${ties} ties, start ${start}: p[${a}]`);
    assert.ok(beta > 1e25 && Number.isFinite(beta), `β ${beta}`);
    // The same β as the loop that runs its hundred iterations (a second call from the first's β goes on doubling).
    const again = calibrateRow(d2, 30, p, beta);
    assert.is(again, beta * 2 ** 100);
  }
});

/** Squared distance between rows i and j of a row-major point set. */
function squared(points: Float32Array, dim: number, i: number, j: number): number {
  let d = 0;
  for (let t = 0; t < dim; t++) d += (points[i * dim + t] - points[j * dim + t]) ** 2;
  return d;
}

test("exact neighbours: the double-precision brute force's, nearest first, ties to the lower index, in any block", () => {
  const rng = random(12);
  for (const [n, dim, k] of [[2, 3, 1], [7, 2, 6], [1500, 5, 30]]) {
    const points = Float32Array.from({ length: n * dim }, () => rng.normal());
    // Duplicates and a grid of equal distances put ties at the cut.
    points.set(points.subarray(0, dim), (n - 1) * dim);
    const truth = knnWithDistances(points, dim, k), found = exactNeighbors(points, n, dim, k);
    assert.equal(found.k, k);
    assert.equal(Array.from(found.index), Array.from(truth.index), `n ${n}`);
    assert.equal(Array.from(found.distance), Array.from(truth.distance), `n ${n}`);
  }
  const grid = Float32Array.from({ length: 2 * 64 }, (_, a) => (a % 2 ? Math.floor(a / 16) : (a >> 1) % 8));
  assert.equal(Array.from(exactNeighbors(grid, 64, 2, 12).index), Array.from(knnWithDistances(grid, 2, 12).index));
});

test("ready: a large first step, searched over the affinity's threads once they are up, gets the P of one thread", async () => {
  const n = 3500, dim = 6, rng = random(16);
  const features = Float32Array.from({ length: n * dim }, () => rng.normal());
  const shared = perplexityAffinity(), alone = perplexityAffinity({ threads: 1 });
  await shared.ready!(n);
  const a = shared.compute(features, n, dim), b = alone.compute(features, n, dim);
  shared.dispose!();
  assert.equal(Array.from(a.col), Array.from(b.col));
  assert.equal(Array.from(a.val), Array.from(b.val));
  // A small step has nothing to wait for; an embedding passes the question to its affinity.
  await new EvolutionaryEmbedding({ affinity: alone }).ready(100);
});

test("warm-started neighbours find most of the exact ones on a slightly moved point set", () => {
  const n = 400, dim = 8, k = 30, rng = random(13);
  const before = Float32Array.from({ length: n * dim }, () => rng.normal());
  const after = Float32Array.from(before, (v) => v + 0.05 * rng.normal());
  const previous = exactNeighbors(before, n, dim, k);
  const exact = exactNeighbors(after, n, dim, k);
  // The previous graph as the plain k-NN lists, and as the symmetric P the embedding hands over.
  const cond = new Float64Array(n * k).fill(1 / k);
  const P = symmetrize(n, k, previous.index, cond);
  for (const [rowPtr, col] of [[Int32Array.from({ length: n + 1 }, (_, i) => i * k), previous.index], [P.rowPtr, P.col]]) {
    const warm = warmNeighbors(after, n, dim, k, rowPtr, col, 1);
    let hits = 0;
    for (let i = 0; i < n; i++) {
      const truth = new Set(exact.index.subarray(i * k, (i + 1) * k));
      const row = warm.index.subarray(i * k, (i + 1) * k), d = warm.distance.subarray(i * k, (i + 1) * k);
      assert.equal(new Set(row).size, k);
      assert.not.ok(row.includes(i));
      // The distances are those of the listed points (in single precision), the nearest first.
      row.forEach((j, a) => assert.ok(Math.abs(d[a] - squared(after, dim, i, j)) < 1e-5 * (1 + d[a])));
      assert.ok(d.every((v) => v >= d[0]));
      for (const j of row) hits += +truth.has(j);
    }
    assert.ok(hits / (n * k) > 0.9, `recall ${hits / (n * k)}`);
    assert.equal(Array.from(warmNeighbors(after, n, dim, k, rowPtr, col, 1).index), Array.from(warm.index));
  }
  // Without previous neighbours a row is searched exactly (the same neighbours, the nearest first).
  const none = warmNeighbors(after, n, dim, k, new Int32Array(n + 1), new Int32Array(0), 1);
  for (let i = 0; i < n; i++) {
    assert.equal(none.index[i * k], exact.index[i * k]);
    assert.equal(Array.from(none.index.subarray(i * k, (i + 1) * k)).sort((a, b) => a - b), Array.from(exact.index.subarray(i * k, (i + 1) * k)).sort((a, b) => a - b));
  }
});

test("symmetrize: a row holds its own neighbours in order, then the points that list it", () => {
  // Point 0 lists 2, 1; point 1 lists 0, 2; point 2 lists 1, 0; point 3 lists 0, 1.
  const P = symmetrize(4, 2, Int32Array.of(2, 1, 0, 2, 1, 0, 0, 1), Float64Array.of(0.6, 0.4, 0.7, 0.3, 0.9, 0.1, 0.5, 0.5));
  assert.equal(Array.from(P.rowPtr), [0, 3, 6, 8, 10]);
  assert.equal(Array.from(P.col), [2, 1, 3, 0, 2, 3, 1, 0, 0, 1]);
  const at = (i: number, j: number) => P.val[P.col.subarray(P.rowPtr[i], P.rowPtr[i + 1]).indexOf(j) + P.rowPtr[i]];
  assert.ok(Math.abs(at(0, 2) - (0.6 + 0.1) / 8) < 1e-15 && Math.abs(at(2, 0) - at(0, 2)) < 1e-15);
  assert.ok(Math.abs(at(0, 3) - 0.5 / 8) < 1e-15 && Math.abs(at(3, 0) - at(0, 3)) < 1e-15);
  assert.ok(Math.abs(P.val.reduce((a, b) => a + b, 0) - 1) < 1e-12);
});

test("warm affinities through the embedding: the same neighbours whether instances keep their rows or not", () => {
  const [first] = clusteredSteps(1, 200, 6, 14), n = first.instance.length, k = 30, rng = random(15);
  const steps = [first, { ...first, step: 1, features: Float32Array.from(first.features, (v) => v + 0.05 * rng.normal()) }];
  const reversed = (s: StepInput): StepInput => {
    const features = new Float32Array(s.features.length);
    for (let i = 0; i < n; i++) features.set(s.features.subarray((n - 1 - i) * s.dim, (n - i) * s.dim), i * s.dim);
    return { ...s, instance: s.instance.slice().reverse(), prompt: s.prompt.slice().reverse(), features };
  };
  for (const second of [steps[1], reversed(steps[1])]) {
    const e = new EvolutionaryEmbedding({ affinity: perplexityAffinity({ perplexity: 10, neighbors: "warm" }), seed: 2 });
    e.addStep(steps[0]);
    const { P } = e.addStep(second);
    const exact = exactNeighbors(second.features, n, second.dim, k);
    let hits = 0;
    for (let i = 0; i < n; i++) {
      const truth = new Set(exact.index.subarray(i * k, (i + 1) * k));
      for (const j of P.col.subarray(P.rowPtr[i], P.rowPtr[i] + k)) hits += +truth.has(j);
    }
    assert.ok(hits / (n * k) > 0.9, `recall ${hits / (n * k)}`);
    assert.ok(Math.abs(P.val.reduce((a, b) => a + b, 0) - 1) < 1e-9);
    e.dispose();
  }
});

test("a new step warm-starts each instance at its free coordinate of the step before", () => {
  const steps = clusteredSteps(2, 6, 4, 3);
  const layout = radial();
  const e = new EvolutionaryEmbedding({ layout, seed: 1 });
  e.addStep(steps[0]);
  const before = e.steps[0], g = new Float64Array(2);
  const next = e.addStep({ ...steps[1], instance: steps[1].instance.slice().reverse(), features: steps[1].features });
  for (let i = 0; i < next.n; i++) {
    const j = before.instance.indexOf(next.instance[i]);
    const a = e.layout.free(before.y[2 * j], before.y[2 * j + 1], g), b = e.layout.free(next.y[2 * i], next.y[2 * i + 1], g);
    assert.ok(Math.abs(a - b) < 1e-9);
  }
  assert.equal(Array.from(before.next), Array.from(before.instance, (id) => next.instance.indexOf(id)));
});

test("steps must arrive in increasing order", () => {
  const steps = clusteredSteps(2, 4, 3, 4);
  const e = new EvolutionaryEmbedding();
  e.addStep(steps[1]);
  assert.throws(() => e.addStep(steps[0]), (err: unknown) => err instanceof StepOrderError && err.code === "out-of-order");
  assert.throws(() => e.addStep(steps[1]), (err: unknown) => err instanceof StepOrderError);
  assert.is(e.steps.length, 1);
});

test("a step can start from positions of one's own (start.y), which a t-SNE of one step without lanes then refines; bad starts are refused", async () => {
  const [step] = clusteredSteps(1, 20, 5, 6), n = step.instance.length;
  const y = Float64Array.from({ length: 2 * n }, (_, i) => (i % 2 ? 1 : -1) * (i >> 1) * 0.5);
  const e = new EvolutionaryEmbedding({ seed: 0, losses: [semantic()] });
  const state = e.addStep(step, { y });
  assert.equal(Array.from(state.y), Array.from(y));
  await e.optimize(300);
  // The clusters separate from a start that mixed them: each point's nearest neighbour is of its own prompt.
  let same = 0;
  for (let i = 0; i < n; i++) {
    let best = -1, bestD = Infinity;
    for (let j = 0; j < n; j++) {
      const d = (state.y[2 * i] - state.y[2 * j]) ** 2 + (state.y[2 * i + 1] - state.y[2 * j + 1]) ** 2;
      if (j !== i && d < bestD) [best, bestD] = [j, d];
    }
    same += +(step.prompt[best] === step.prompt[i]);
  }
  assert.ok(same / n > 0.95, `${same} of ${n}`);
  e.dispose();
  const fresh = () => new EvolutionaryEmbedding({ seed: 0 });
  assert.throws(() => fresh().addStep(step, { y: new Float64Array(n) }), (err: unknown) => err instanceof DimensionError && /expected 120/.test(String(err)));
  assert.throws(() => fresh().addStep(step, new Float64Array(n + 1)), (err: unknown) => err instanceof DimensionError && /free coordinates/.test(String(err)));
  const nan = y.slice();
  nan[7] = NaN;
  assert.throws(() => fresh().addStep(step, { y: nan }), (err: unknown) => err instanceof NonFiniteError && /row 3/.test(String(err)));
});

test("pcaPositions: the first two principal components, the first at the standard deviation asked for", () => {
  // Points stretched along (1, 1, 0) far more than along (0, 0, 1): the first component runs along the first.
  const rng = random(9), n = 200, x = new Float32Array(3 * n);
  for (let i = 0; i < n; i++) {
    const a = 10 * rng.normal(), b = rng.normal();
    x.set([a + 5, a - 2, b], 3 * i);
  }
  for (const spread of [undefined, 7]) {
    const y = pcaPositions(x, n, 3, spread);
    const column = (c: number) => Array.from({ length: n }, (_, i) => y[2 * i + c]);
    const sd = (v: number[]) => Math.sqrt(v.reduce((s, e) => s + e * e, 0) / v.length);
    assert.ok(Math.abs(sd(column(0)) - (spread ?? n / 100)) < 1e-9, `${sd(column(0))}`);
    assert.ok(sd(column(1)) < 0.2 * sd(column(0)));
    // Along the first component the order is that of x₀ − 5 (up to its sign).
    const corr = column(0).reduce((s, v, i) => s + v * (x[3 * i] - 5), 0) / (n * sd(column(0)) * sd(Array.from({ length: n }, (_, i) => x[3 * i] - 5)));
    assert.ok(Math.abs(corr) > 0.99, `correlation ${corr}`);
  }
});

for (const layout of [radial(), rectilinear()]) {
  test(`batch embedding (${layout.name}): faithful within steps, aligned across them, points in their lanes`, async () => {
    const result = await embedSteps(asTable(clusteredSteps(6, 12, 10, 5)), { layout, iterations: 500, seed: 1 });
    const q = result.quality;
    assert.ok(q.meanTrustworthiness > 0.85, `trustworthiness ${q.meanTrustworthiness}`);
    assert.ok(q.alignmentRatio < 0.3, `alignment ratio ${q.alignmentRatio}`);
    const last = q.steps[q.steps.length - 1];
    assert.ok(last.neighborhoodHit >= last.featureNeighborhoodHit - 0.05, `prompt hit ${last.neighborhoodHit} vs ${last.featureNeighborhoodHit}`);
    const e = result.embedding, g = new Float64Array(2);
    for (const s of e.steps) {
      let dev = 0;
      for (let i = 0; i < s.n; i++) dev += Math.abs(e.layout.lane(s.y[2 * i], s.y[2 * i + 1], g) - e.layout.laneCenter(s.step));
      assert.ok(dev / s.n < 0.6 * e.layout.scale, `step ${s.step} strays ${dev / s.n} from its lane`);
    }
  });
}

test("batch embedding: the frame carries layout, native coordinates, guides and quality", async () => {
  const result = await embedSteps(asTable(clusteredSteps(3, 5, 4, 6)), { layout: radial(), iterations: 50 });
  const f = readFrameTable(result.frame);
  assert.is(f.layout, "radial");
  assert.equal(Object.keys(f.native), ["radius", "angle"]);
  for (let r = 0; r < f.x.length; r++) {
    assert.ok(Math.abs(f.native.radius[r] * Math.cos(f.native.angle[r]) - f.x[r]) < 1e-3);
    assert.ok(Math.abs(f.native.radius[r] * Math.sin(f.native.angle[r]) - f.y[r]) < 1e-3);
  }
  assert.is(readGuides(result.frame)!.length, 3);
  assert.is((f.quality as { steps: unknown[] }).steps.length, 3);
});

test("batch embedding: reproducible from a seed", async () => {
  const table = asTable(clusteredSteps(3, 6, 4, 7));
  const a = readFrameTable((await embedSteps(table, { iterations: 100, seed: 5 })).frame);
  const b = readFrameTable((await embedSteps(table, { iterations: 100, seed: 5 })).frame);
  const c = readFrameTable((await embedSteps(table, { iterations: 100, seed: 6, init: "random" })).frame);
  assert.equal(Array.from(a.x), Array.from(b.x));
  assert.not.equal(Array.from(a.x), Array.from(c.x));
});

test("batch embedding: an abort signal stops the optimisation with CancelledError", async () => {
  const controller = new AbortController();
  let seen = 0;
  const run = embedSteps(asTable(clusteredSteps(3, 30, 4, 8)), {
    iterations: 100000,
    signal: controller.signal,
    onProgress: ({ phase, done }) => {
      if (phase === "optimize") {
        seen = done;
        if (done >= 100) controller.abort();
      }
    },
  });
  try {
    await run;
    assert.unreachable();
  } catch (e) {
    assert.instance(e, CancelledError);
  }
  assert.ok(seen >= 100 && seen < 100000);
});

test.run();
