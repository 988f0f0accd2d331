import { test } from "uvu";
import * as assert from "uvu/assert";
import { DimensionError, OptionError } from "../src/errors.ts";
import { distanceBlock, distanceRows, squaredDistance } from "../src/quality/squared_distances.ts";
import { knn, knnWithDistances } from "../src/quality/exact_knn.ts";
import { knnPreservation, trustworthiness, trustworthinessK, trustworthinessOfEach } from "../src/quality/trustworthiness.ts";
import { neighborhoodHit } from "../src/quality/neighborhood_hit.ts";
import { alignmentRatio, alignmentRatioOverSteps, movementCorrelation, movementCorrelationOverSteps } from "../src/quality/temporal_coherence.ts";
import { qualityReport, type QualityStep } from "../src/quality/report.ts";
import { sumAllDifferences } from "../src/quality/pair_differences.ts";
import { frechetDistance } from "../src/quality/frechet.ts";
import { random } from "../src/util/random.ts";

// ---- helpers and brute-force references (full sorts, no shared code) ----

function gaussian(n: number, dim: number, seed: number): Float64Array {
  const r = random(seed);
  return Float64Array.from({ length: n * dim }, () => r.normal());
}

/** Small integers: many exact ties and duplicate points. */
function grid(n: number, dim: number, seed: number): Float64Array {
  const r = random(seed);
  return Float64Array.from({ length: n * dim }, () => r.int(3));
}

function sq(p: ArrayLike<number>, dim: number, i: number, j: number): number {
  let s = 0;
  for (let d = 0; d < dim; d++) s += (p[i * dim + d] - p[j * dim + d]) ** 2;
  return s;
}

/** Every other point of i, sorted by (distance, index). */
function order(p: ArrayLike<number>, dim: number, i: number): number[] {
  const n = p.length / dim;
  const others = [...Array(n).keys()].filter((j) => j !== i);
  return others.sort((a, b) => sq(p, dim, i, a) - sq(p, dim, i, b) || a - b);
}

function refKnn(p: ArrayLike<number>, dim: number, k: number): number[] {
  const n = p.length / dim;
  return Array.from({ length: n }, (_, i) => order(p, dim, i).slice(0, k)).flat();
}

/** scikit-learn's trustworthiness, line for line: full rank table per row. */
function refTrust(high: ArrayLike<number>, hd: number, low: ArrayLike<number>, ld: number, k: number): number {
  const n = high.length / hd;
  let t = 0;
  for (let i = 0; i < n; i++) {
    const rank = new Map(order(high, hd, i).map((j, r) => [j, r + 1]));
    for (const j of order(low, ld, i).slice(0, k)) t += Math.max(0, rank.get(j)! - k);
  }
  return 1 - (t * 2) / (n * k * (2 * n - 3 * k - 1));
}

function pearson(x: number[], y: number[]): number {
  const mx = x.reduce((a, b) => a + b) / x.length, my = y.reduce((a, b) => a + b) / y.length;
  let sxy = 0, sxx = 0, syy = 0;
  for (let i = 0; i < x.length; i++) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) ** 2;
    syy += (y[i] - my) ** 2;
  }
  return sxy / Math.sqrt(sxx * syy);
}

function angle(x: number, y: number): number {
  const d = Math.abs(Math.atan2(Math.sin(x - y), Math.cos(x - y)));
  return d;
}

const close = (a: number, b: number, eps = 1e-9, msg?: string) =>
  assert.ok(Math.abs(a - b) <= eps, msg ?? `${a} ≠ ${b}`);

// ---- distances and neighbours ----

test("distanceBlock: equals squaredDistance bit for bit, tails included", () => {
  for (const [n, dim] of [[7, 3], [9, 1], [6, 5]]) {
    const p = Float32Array.from(gaussian(n, dim, n));
    const out = new Float64Array(4 * n);
    for (let i0 = 0; i0 < n; i0 += 4) {
      distanceBlock(p, dim, i0, 1, n, out, n);
      for (let r = 0; r < 4 && i0 + r < n; r++) {
        for (let j = 1; j < n; j++) assert.is(out[r * n + j], squaredDistance(p, dim, i0 + r, j));
      }
    }
  }
});

test("distanceRows: the SIMD kernel gives distanceBlock's bits, for any column range, duplicates and extreme values included", () => {
  for (const [n, dim] of [[7, 3], [9, 1], [6, 5], [33, 50], [130, 17]]) {
    const p = Float32Array.from(gaussian(n, dim, n + dim), (v, i) => (i % 11 === 0 ? v * 1e18 : i % 7 === 0 ? v * 1e-20 : v));
    p.copyWithin(dim, 0, dim); // rows 0 and 1 coincide
    const simd = distanceRows(p, dim), scalar = distanceRows(p, dim, false);
    for (const [j0, j1] of [[0, n], [1, n], [3, n - 2], [n - 1, n]]) {
      const a = new Float64Array(4 * n), b = new Float64Array(4 * n);
      for (let i0 = 0; i0 < n; i0 += 4) {
        simd(i0, j0, j1, a, n);
        scalar(i0, j0, j1, b, n);
        for (let r = 0; r < 4 && i0 + r < n; r++) {
          for (let j = j0; j < j1; j++) assert.ok(Object.is(a[r * n + j], b[r * n + j]), `n=${n} dim=${dim} (${i0 + r}, ${j}): ${a[r * n + j]} ≠ ${b[r * n + j]}`);
        }
        // Outside the range the caller's array is left alone.
        for (let r = 0; r < 4; r++) {
          for (let j = 0; j < n; j++) if (j < j0 || j >= j1) assert.is(a[r * n + j], 0);
        }
      }
    }
  }
});

test("knn: matches a full sort, ties by lower index, on odd sizes", () => {
  for (const [n, dim, k, make] of [
    [37, 3, 5, gaussian], [50, 1, 7, gaussian], [103, 7, 10, gaussian], [41, 2, 6, grid], [30, 3, 9, grid],
  ] as const) {
    const p = make(n, dim, n + dim);
    assert.equal(Array.from(knn(p, dim, k)), refKnn(p, dim, k), `n=${n} dim=${dim}`);
  }
});

test("trustworthinessOfEach: several embeddings from one pass equal each scored alone, past 31 of them, ties included", () => {
  const n = 60, hd = 4, k = 5;
  const high = grid(n, hd, 2);
  // 33 embeddings: a shared base jittered a little (overlapping unfaithful sets), and a few unrelated ones.
  const base = gaussian(n, 2, 5);
  const lows = Array.from({ length: 33 }, (_, e) => e % 8 === 7 ? grid(n, 2, e) : Float64Array.from(base, (v, i) => v + 0.05 * e * Math.sin(i * (e + 1))));
  const { trustworthiness: each, highKnn } = trustworthinessOfEach(high, hd, lows.map((low) => knn(low, 2, k)), k);
  lows.forEach((low, e) => close(each[e], refTrust(high, hd, low, 2, k), 1e-12, `embedding ${e}`));
  assert.equal(Array.from(highKnn), refKnn(high, hd, k));
});

test("knn in the plane: the grid search gives the brute force's neighbours and distances bit for bit", () => {
  const r = random(11);
  const shapes: [string, Float64Array][] = [
    ["gaussian", gaussian(700, 2, 1)],
    // Small integers: exact ties at every distance and many duplicates.
    ["ties", Float64Array.from({ length: 2 * 600 }, () => r.int(12))],
    // Tight clusters far apart, a line (no extent across), and a lane's ring of widely varying density.
    ["clusters", Float64Array.from({ length: 2 * 900 }, (_, i) => (i % 7) * 1e4 + 1e-3 * r.normal())],
    ["line", Float64Array.from({ length: 2 * 400 }, (_, i) => (i % 2 === 0 ? r.normal() : 5))],
    ["ring", Float64Array.from({ length: 2 * 1200 }, (_, i) => {
      const a = Math.floor(i / 2) ** 1.7 / 5000;
      return i % 2 === 0 ? 25 * Math.cos(a) : 25 * Math.sin(a);
    })],
  ];
  for (const [name, p] of shapes) {
    const n = p.length / 2;
    // The brute force on the same points with a zero third coordinate: the same sums, + 0.
    const flat = new Float64Array(3 * n);
    for (let i = 0; i < n; i++) flat.set([p[2 * i], p[2 * i + 1], 0], 3 * i);
    for (const k of [1, 10, 31]) {
      const grid = knnWithDistances(p, 2, k), brute = knnWithDistances(flat, 3, k);
      assert.equal(Array.from(grid.index), Array.from(brute.index), `${name}, k = ${k}: neighbours`);
      assert.ok(grid.distance.every((d, e) => Object.is(d, brute.distance[e])), `${name}, k = ${k}: distances`);
    }
  }
  // Points that are not finite, or all at one place, are searched by brute force as before.
  const same = new Float64Array(2 * 300).fill(1);
  assert.equal(Array.from(knn(same, 2, 3).subarray(0, 6)), [1, 2, 3, 0, 2, 3]);
  const nan = gaussian(300, 2, 4);
  nan[10] = NaN;
  assert.is(knn(nan, 2, 5).length, 300 * 5);
});

test("knn: self excluded, k clamped to n − 1, Float32 and Float64 agree", () => {
  const p = Float64Array.of(0, 0, 1, 0, 5, 0);
  assert.equal(Array.from(knn(p, 2, 10)), [1, 2, 0, 2, 1, 0]);
  assert.is(knn(Float64Array.of(3), 1, 4).length, 0);
  const g = grid(60, 4, 3);
  assert.equal(knn(Float32Array.from(g), 4, 8), knn(g, 4, 8));
});

// ---- trustworthiness and k-NN preservation ----

test("trustworthiness: equals scikit-learn's definition on random and tied data", () => {
  for (const [n, hd, k, make] of [
    [80, 6, 5, gaussian], [61, 10, 10, gaussian], [90, 3, 1, gaussian], [70, 3, 7, grid], [23, 4, 11, gaussian],
  ] as const) {
    const high = make(n, hd, n);
    // A noisy projection: some neighbours kept, many lost.
    const r = random(n + 1);
    const low = new Float64Array(n * 2);
    for (let i = 0; i < n; i++) {
      low[2 * i] = high[i * hd] + (make === grid ? r.int(2) : r.normal());
      low[2 * i + 1] = high[i * hd + 1] + (make === grid ? r.int(2) : 0.5 * r.normal());
    }
    close(trustworthiness(high, hd, low, 2, k), refTrust(high, hd, low, 2, k), 1e-12, `n=${n} k=${k}`);
  }
});

test("trustworthiness: a hand-computed value", () => {
  // 1-D points 0, 1, 3, 6, 10; the embedding swaps the first and the last.
  // With k = 1, U = {0: 3 (rank 3), 1: 4 (rank 4), 4: 1 (rank 3)}: Σ(r − k) = 7,
  // T = 1 − 2·7 / (5·1·(10 − 3 − 1)) = 16/30. Neighbours kept: points 2 and 3.
  const high = Float64Array.of(0, 1, 3, 6, 10), low = Float64Array.of(10, 1, 3, 6, 0);
  close(trustworthiness(high, 1, low, 1, 1), 16 / 30, 1e-15);
  close(knnPreservation(high, 1, low, 1, 1), 2 / 5, 1e-15);
});

test("trustworthiness: 1 for the identical embedding, also with duplicates", () => {
  const g = gaussian(120, 2, 5);
  assert.is(trustworthiness(g, 2, g, 2, 10), 1);
  assert.is(knnPreservation(g, 2, g, 2, 10), 1);
  const d = grid(50, 2, 6); // many duplicate points
  assert.is(trustworthiness(d, 2, Float32Array.from(d), 2, 5), 1);
  // Zero-padding the high side changes no distance.
  const padded = new Float64Array(120 * 5);
  for (let i = 0; i < 120; i++) padded.set(g.subarray(2 * i, 2 * i + 2), 5 * i);
  assert.is(trustworthiness(padded, 5, g, 2, 10), 1);
});

test("trustworthiness: a random embedding of clustered data scores lower", () => {
  const n = 200, dim = 20, r = random(11);
  const high = new Float64Array(n * dim), good = new Float64Array(n * 2), bad = new Float64Array(n * 2);
  for (let i = 0; i < n; i++) {
    const c = i % 4; // four clusters, centred on a square in the first two axes
    for (let d = 0; d < dim; d++) high[i * dim + d] = r.normal() + (d === 0 ? 10 * (c % 2) : d === 1 ? 10 * (c >> 1) : 0);
    good[2 * i] = high[i * dim];
    good[2 * i + 1] = high[i * dim + 1];
    bad[2 * i] = r.normal();
    bad[2 * i + 1] = r.normal();
  }
  const tGood = trustworthiness(high, dim, good, 2), tBad = trustworthiness(high, dim, bad, 2);
  assert.ok(tGood > 0.75, `good ${tGood}`);
  assert.ok(tBad < 0.6 && tBad > 0.3, `random ${tBad}`);
  assert.ok(knnPreservation(high, dim, bad, 2) < knnPreservation(high, dim, good, 2));
});

test("trustworthiness: k kept below n / 2; NaN with fewer than 3 points", () => {
  assert.is(trustworthinessK(10, 6), 4); // 2n − 3k − 1 > 0 would allow 6, T could then go below 0
  assert.is(trustworthinessK(3, 10), 1);
  assert.is(trustworthinessK(2, 10), 0);
  const high = gaussian(9, 3, 2), low = gaussian(9, 2, 3);
  close(trustworthiness(high, 3, low, 2, 10), refTrust(high, 3, low, 2, 4), 1e-12);
  assert.ok(Number.isNaN(trustworthiness(Float64Array.of(0, 1), 1, Float64Array.of(1, 0), 1)));
  assert.throws(() => trustworthiness(high, 3, gaussian(8, 2, 1), 2), (e: unknown) => e instanceof DimensionError);
});

test("knnPreservation: equals the brute-force overlap", () => {
  const high = gaussian(90, 8, 4), low = gaussian(90, 2, 5);
  for (let i = 0; i < 90; i++) low[2 * i] += 2 * high[8 * i];
  const hk = refKnn(high, 8, 6), lk = refKnn(low, 2, 6);
  let shared = 0;
  for (let i = 0; i < 90; i++) {
    const a = new Set(hk.slice(6 * i, 6 * i + 6));
    shared += lk.slice(6 * i, 6 * i + 6).filter((j) => a.has(j)).length;
  }
  close(knnPreservation(high, 8, low, 2, 6), shared / (90 * 6), 1e-15);
});

// ---- neighbourhood hit ----

test("neighborhoodHit: hand-made line with alternating labels", () => {
  // Points 0..9 on a line, labels alternate: inner points' two nearest are of
  // the other label; each end has one of its own among two.
  const p = Float64Array.from({ length: 10 }, (_, i) => i);
  const labels = Int32Array.from({ length: 10 }, (_, i) => i % 2);
  close(neighborhoodHit(p, 1, labels, 2), (0.5 + 0.5) / 10, 1e-15);
  // Two halves, k = 1: point 4's nearest is 3 (tied with 5, lower index wins),
  // point 5's is 4, of the other half: 9 hits of 10.
  close(neighborhoodHit(p, 1, Int32Array.from({ length: 10 }, (_, i) => (i < 5 ? 0 : 1)), 1), 0.9, 1e-15);
});

test("neighborhoodHit: equals the brute-force fraction", () => {
  const p = gaussian(70, 3, 9), r = random(1);
  const labels = Int32Array.from({ length: 70 }, () => r.int(3));
  const nn = refKnn(p, 3, 5);
  const hits = nn.filter((j, q) => labels[j] === labels[Math.floor(q / 5)]).length;
  close(neighborhoodHit(p, 3, labels, 5), hits / (70 * 5), 1e-15);
  assert.throws(() => neighborhoodHit(p, 3, labels.subarray(1)), (e: unknown) => e instanceof DimensionError);
});

// ---- alignment ----

test("alignmentRatio: 0 when nothing moves; a hand-computed value", () => {
  const a = Float64Array.of(0.3, -2, 1.5, 3);
  assert.is(alignmentRatio(a, a, false), 0);
  assert.is(alignmentRatio(a, a, true), 0);
  // same: |0−1| = |1−2| = |2−3| = 1; random: 2+3+0+2+1+0 over 6 pairs = 4/3.
  close(alignmentRatio([0, 1, 2], [1, 2, 3], false), 0.75, 1e-15);
});

test("alignmentRatio: circular differences wrap across ±π", () => {
  const a = [Math.PI - 0.1, -Math.PI / 2], b = [-Math.PI + 0.1, Math.PI / 2];
  // same: 0.2 (across ±π, not 2π − 0.2) and π; random: π/2 − 0.1 twice.
  const want = (0.2 + Math.PI) / 2 / (Math.PI / 2 - 0.1);
  close(alignmentRatio(a, b, true), want, 1e-12);
  // Whole turns change nothing.
  close(alignmentRatio(a.map((x) => x + 4 * Math.PI), b.map((x) => x - 2 * Math.PI), true), want, 1e-12);
  assert.ok(alignmentRatio(a, b, false) > 3); // plainly, the first moves 2π − 0.2
});

test("alignmentRatio: the O(n log n) pair sum equals the O(n²) one", () => {
  const r = random(21);
  for (const circular of [false, true]) {
    for (const n of [1, 2, 5, 64]) {
      const a = Array.from({ length: n }, () => (circular ? 20 * r.next() - 10 : 1e8 + r.normal()));
      const b = a.map((x) => x + (circular ? r.normal() * 2 : 0.3 * r.normal()));
      if (n > 3) b[1] = a[3]; // exact ties
      let all = 0, same = 0;
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) all += circular ? angle(a[i], b[j]) : Math.abs(a[i] - b[j]);
        same += circular ? angle(a[i], b[i]) : Math.abs(a[i] - b[i]);
      }
      close(sumAllDifferences(a, b, circular), all, 1e-9 * Math.max(1, all), `n=${n} circular=${circular}`);
      const want = n < 2 ? NaN : (same / n) / ((all - same) / (n * (n - 1)));
      if (n < 2) assert.ok(Number.isNaN(alignmentRatio(a, b, circular)));
      else close(alignmentRatio(a, b, circular), want, 1e-9);
    }
  }
});

test("alignmentRatioOverSteps: pools numerators and denominators", () => {
  const r = random(8), n = 12;
  const steps = [0, 1, 2].map(() => Array.from({ length: n }, () => r.normal()));
  steps[2] = steps[1].map((x) => x + 0.01); // one step pair barely moves
  let same = 0, rand = 0;
  for (let t = 1; t < 3; t++) {
    for (let i = 0; i < n; i++) {
      same += Math.abs(steps[t - 1][i] - steps[t][i]);
      for (let j = 0; j < n; j++) if (i !== j) rand += Math.abs(steps[t - 1][i] - steps[t][j]);
    }
  }
  const want = same / (2 * n) / (rand / (2 * n * (n - 1)));
  close(alignmentRatioOverSteps(steps, false), want, 1e-12);
  // Pooling is not the mean of the two ratios.
  const meanOfRatios = (alignmentRatio(steps[0], steps[1], false) + alignmentRatio(steps[1], steps[2], false)) / 2;
  assert.ok(Math.abs(meanOfRatios - want) > 1e-3);
  assert.ok(Number.isNaN(alignmentRatioOverSteps([steps[0]], false)));
  assert.throws(() => alignmentRatioOverSteps([[1, 2], [1]], false), (e: unknown) => e instanceof DimensionError);
});

// ---- movement correlation ----

test("movementCorrelation: ±1 for proportional movement, NaN for constant", () => {
  const n = 30, dim = 5;
  const before = gaussian(n, dim, 1), after = gaussian(n, dim, 2);
  const len = Array.from({ length: n }, (_, i) => {
    let s = 0;
    for (let d = 0; d < dim; d++) s += (after[i * dim + d] - before[i * dim + d]) ** 2;
    return Math.sqrt(s);
  });
  const lowBefore = gaussian(n, 2, 3);
  const along = (f: (l: number) => number) => lowBefore.map((x, q) => (q % 2 === 0 ? x + f(len[q >> 1]) : x));
  close(movementCorrelation(before, after, dim, lowBefore, along((l) => 3 * l), 2), 1, 1e-12);
  close(movementCorrelation(before, after, dim, lowBefore, along((l) => 10 - l), 2), -1, 1e-12);
  assert.ok(Number.isNaN(movementCorrelation(before, after, dim, lowBefore, lowBefore, 2)));
  assert.ok(Number.isNaN(movementCorrelation(before, before, dim, lowBefore, along((l) => l), 2)));
});

test("movementCorrelation: equals a two-pass Pearson, pooled over steps", () => {
  const n = 25, dim = 4;
  const high = [1, 2, 3].map((s) => gaussian(n, dim, s)), low = [4, 5, 6].map((s) => gaussian(n, 2, s));
  const hx: number[] = [], ly: number[] = [];
  for (let t = 1; t < 3; t++) {
    for (let i = 0; i < n; i++) {
      let h = 0, l = 0;
      for (let d = 0; d < dim; d++) h += (high[t][i * dim + d] - high[t - 1][i * dim + d]) ** 2;
      for (let d = 0; d < 2; d++) l += (low[t][i * 2 + d] - low[t - 1][i * 2 + d]) ** 2;
      hx.push(Math.sqrt(h));
      ly.push(Math.sqrt(l));
    }
  }
  close(movementCorrelation(high[0], high[1], dim, low[0], low[1], 2), pearson(hx.slice(0, n), ly.slice(0, n)), 1e-12);
  close(movementCorrelationOverSteps(high, dim, low, 2), pearson(hx, ly), 1e-12);
  assert.ok(Number.isNaN(movementCorrelationOverSteps(high.slice(0, 1), dim, low.slice(0, 1), 2)));
  assert.throws(() => movementCorrelation(high[0], high[1], dim, low[0], low[1].subarray(2), 2));
});

// ---- the report ----

function run(n: number, steps: number, dim: number, seed: number): QualityStep[] {
  const r = random(seed);
  const prompt = Int32Array.from({ length: n }, (_, i) => i % 2);
  let features = Float64Array.from({ length: n * dim }, (_, q) => r.normal() + 3 * prompt[Math.floor(q / dim)]);
  let free = Float64Array.from({ length: n }, () => 2 * Math.PI * r.next() - Math.PI);
  return Array.from({ length: steps }, (_, t) => {
    features = features.map((x) => x + 0.3 * r.normal());
    free = free.map((x) => x + 0.2 * r.normal());
    const position = Float64Array.from({ length: 2 * n }, (_, q) => features[Math.floor(q / 2) * dim + (q % 2)]);
    return { step: 10 * t, features, dim, position, free, prompt, kl: t === 1 ? undefined : 0.5 / (t + 1) };
  });
}

test("qualityReport: every figure equals the standalone function", () => {
  const steps = run(40, 5, 6, 1);
  const rep = qualityReport(steps, { circular: true });
  assert.is(rep.k, 10);
  assert.is(rep.steps.length, 5);
  for (const [t, s] of steps.entries()) {
    const q = rep.steps[t];
    assert.is(q.step, s.step);
    assert.is(q.trustworthiness, trustworthiness(s.features, 6, s.position, 2, 10));
    assert.is(q.knnPreservation, knnPreservation(s.features, 6, s.position, 2, 10));
    assert.is(q.neighborhoodHit, neighborhoodHit(s.position, 2, s.prompt, 10));
    assert.is(q.featureNeighborhoodHit, neighborhoodHit(s.features, 6, s.prompt, 10));
    assert.is(q.kl, s.kl);
    assert.is("kl" in q, s.kl !== undefined);
  }
  assert.ok(rep.steps[0].featureNeighborhoodHit > 0.9); // the prompts are apart
  assert.is(rep.alignmentRatio, alignmentRatioOverSteps(steps.map((s) => s.free), true));
  assert.is(rep.movementCorrelation, movementCorrelationOverSteps(steps.map((s) => s.features), 6, steps.map((s) => s.position), 2));
  const trust = rep.steps.map((q) => q.trustworthiness);
  close(rep.meanTrustworthiness, trust.reduce((a, b) => a + b) / 5, 1e-15);
  close(rep.meanTrustworthinessSecondHalf, (trust[2] + trust[3] + trust[4]) / 3, 1e-15);
});

test("qualityReport: the drawn picture's trustworthiness, per step and on average, when every step has one", () => {
  const steps = run(40, 3, 6, 8).map((s) => ({ ...s, display: Float64Array.from(s.position, (v, q) => (q % 2 === 0 ? 5 * v : v)) }));
  const rep = qualityReport(steps, { circular: true });
  for (const [t, s] of steps.entries()) {
    assert.is(rep.steps[t].trustworthiness, trustworthiness(s.features, 6, s.position, 2, 10));
    assert.is(rep.steps[t].displayTrustworthiness, trustworthiness(s.features, 6, s.display, 2, 10));
  }
  close(rep.meanDisplayTrustworthiness!, rep.steps.reduce((sum, q) => sum + q.displayTrustworthiness!, 0) / 3, 1e-15);
  const without = qualityReport(run(40, 3, 6, 8), { circular: true });
  assert.ok(!("meanDisplayTrustworthiness" in without) && !("displayTrustworthiness" in without.steps[0]));
  assert.throws(() => qualityReport([{ ...steps[0], display: new Float64Array(3) }], { circular: true }), (e: unknown) => e instanceof DimensionError);
});

test("qualityReport: k clamped, tiny runs, mixed dims and bad input", () => {
  assert.is(qualityReport(run(7, 2, 3, 2), { k: 10, circular: false }).k, 3);
  const tiny = qualityReport(run(2, 3, 3, 3), { circular: false });
  assert.is(tiny.k, 0);
  assert.ok(Number.isNaN(tiny.steps[0].trustworthiness) && Number.isNaN(tiny.meanTrustworthiness));
  assert.ok(Number.isFinite(tiny.alignmentRatio));
  const one = qualityReport(run(20, 1, 3, 4), { k: 3, circular: false });
  assert.is(one.meanTrustworthinessSecondHalf, one.steps[0].trustworthiness);
  assert.ok(Number.isNaN(one.alignmentRatio) && Number.isNaN(one.movementCorrelation));
  const empty = qualityReport([], { circular: true });
  assert.equal(empty.steps, []);
  assert.ok(Number.isNaN(empty.meanTrustworthiness));

  const mixed = run(20, 3, 3, 5);
  mixed[1] = { ...mixed[1], features: new Float64Array(40), dim: 2 };
  const rep = qualityReport(mixed, { k: 3, circular: false });
  assert.ok(Number.isNaN(rep.movementCorrelation));
  assert.ok(Number.isFinite(rep.steps[1].trustworthiness));

  const bad = run(20, 2, 3, 6);
  bad[1] = { ...bad[1], free: new Float64Array(19) };
  assert.throws(() => qualityReport(bad, { circular: false }), (e: unknown) => e instanceof DimensionError);
  assert.throws(() => qualityReport(run(20, 2, 3, 6), { k: 0, circular: false }), (e: unknown) => e instanceof OptionError);
});

test("Fréchet distance: 0 to itself, symmetric, and exact for a scaled and shifted copy", () => {
  const rng = random(7), n = 300, dim = 6;
  // Correlated points: x = z·A for a random A, so the covariance is not diagonal.
  const mix = Float64Array.from({ length: dim * dim }, () => rng.normal());
  const x = new Float64Array(n * dim);
  for (let r = 0; r < n; r++) {
    const z = Array.from({ length: dim }, () => rng.normal());
    for (let j = 0; j < dim; j++) for (let k = 0; k < dim; k++) x[r * dim + j] += z[k] * mix[k * dim + j];
  }
  const c = 2.5, shift = Float64Array.from({ length: dim }, (_, j) => j - 2);
  const y = x.map((v, i) => c * v + shift[i % dim]);
  // Σ_y = c²Σ_x commutes with Σ_x: d² = ‖μ_y − μ_x‖² + (1 − c)²·Tr(Σ_x), with μ_y − μ_x = (c − 1)μ_x + shift.
  let expected = 0;
  for (let j = 0; j < dim; j++) {
    let m = 0, s = 0;
    for (let r = 0; r < n; r++) m += x[r * dim + j] / n;
    for (let r = 0; r < n; r++) s += (x[r * dim + j] - m) ** 2;
    expected += ((c - 1) * m + shift[j]) ** 2 + (1 - c) ** 2 * s / (n - 1);
  }
  const d = frechetDistance(x, n, y, n, dim);
  assert.ok(Math.abs(d - expected) < 1e-8 * expected, `${d} vs ${expected}`);
  assert.ok(Math.abs(frechetDistance(y, n, x, n, dim) - d) < 1e-8 * d);
  assert.ok(frechetDistance(x, n, x, n, dim) < 1e-9);
  assert.throws(() => frechetDistance(x, n, y, n - 1, dim), (e: unknown) => e instanceof DimensionError);
});

test.run();
