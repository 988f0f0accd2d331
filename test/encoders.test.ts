import { test } from "uvu";
import * as assert from "uvu/assert";
import { stepTable, readStepTable } from "../src/data/step_table.ts";
import { CancelledError, DimensionError, OptionError } from "../src/errors.ts";
import { encodeTable } from "../src/encoders/encode_table.ts";
import type { Encoder, EncoderInput } from "../src/encoders/encoder.ts";
import { frequency } from "../src/encoders/frequency.ts";
import { pcaEncoder } from "../src/encoders/pca_encoder.ts";
import { pixels } from "../src/encoders/pixels.ts";
import { resample } from "../src/encoders/resample.ts";
import { random } from "../src/util/random.ts";

const rng = random(11);
const noise = (n: number) => Float32Array.from({ length: n }, () => rng.next());

function input(values: Float32Array, count: number, shape: [number, number, number], step?: Int32Array): EncoderInput {
  return { values, count, dim: shape[0] * shape[1] * shape[2], imageShape: shape, step: step ?? new Int32Array(count) };
}

async function throwsTyped(f: () => unknown, type: new (...args: never[]) => Error, message: RegExp) {
  try {
    await f();
    assert.unreachable(`expected ${type.name}`);
  } catch (error) {
    assert.instance(error, type);
    assert.match((error as Error).message, message);
  }
}

// ---- resampling ----------------------------------------------------------

test("resample: halving with bilinear averages taps 1/8, 3/8, 3/8, 1/8, as PIL does", () => {
  const src = new Float32Array(8);
  src[3] = 1; // an impulse at column 3
  const out = resample(src, 1, 8, 1, 4, "bilinear");
  // Output 1 is centred between columns 2 and 3 (taps 1..4), output 2 between 4 and 5 (taps 3..6).
  assert.equal(Array.from(out, (v) => Number(v.toFixed(6))), [0, 0.375, 0.125, 0]);
});

test("resample: same size copies, constants stay constant, bilinear enlarging keeps a ramp straight", () => {
  const img = noise(6 * 5);
  assert.equal(resample(img, 6, 5, 6, 5, "bicubic"), img);
  for (const interpolation of ["bilinear", "bicubic"] as const) {
    for (const v of resample(new Float32Array(30).fill(0.7), 6, 5, 13, 9, interpolation)) assert.ok(Math.abs(v - 0.7) < 1e-6);
  }
  const ramp = Float32Array.from({ length: 8 }, (_, i) => i);
  const up = resample(ramp, 1, 8, 1, 16, "bilinear");
  for (let i = 2; i < 14; i++) assert.ok(Math.abs(up[i + 1] - up[i] - 0.5) < 1e-6, `step at ${i}`);
});

// ---- pixels -------------------------------------------------------------------

test("pixels: output shape per size, deterministic, and typed errors for bad shapes and options", async () => {
  const imgs = noise(3 * 2 * 10 * 10);
  const same = await pixels().encode(input(imgs, 3, [2, 10, 10]));
  assert.is(same.dim, 200);
  assert.equal(same.features, imgs);
  const small = await pixels({ size: 4 }).encode(input(imgs, 3, [2, 10, 10]));
  assert.is(small.dim, 2 * 16);
  assert.is(small.features.length, 3 * 32);
  assert.equal((await pixels({ size: 4 }).encode(input(imgs, 3, [2, 10, 10]))).features, small.features);
  await throwsTyped(() => pixels().encode({ ...input(imgs, 3, [2, 10, 10]), imageShape: [3, 10, 10] }), DimensionError, /holds 300 values, the rows have 200/);
  await throwsTyped(() => pixels().encode(input(imgs.subarray(1), 3, [2, 10, 10])), DimensionError, /do not make 3 rows of 200/);
  assert.throws(() => pixels({ size: 0 }), (e: Error) => e instanceof OptionError);
  assert.throws(() => pixels({ interpolation: "nearest" as never }), (e: Error) => e instanceof OptionError);
});

// ---- frequency ----------------------------------------------------------------

/** A smooth blob and a fine checkerboard, h×w. */
function blob(h: number, w: number): Float32Array {
  return Float32Array.from({ length: h * w }, (_, i) => Math.exp(-(((Math.floor(i / w) - h / 2) / (h / 5)) ** 2 + ((i % w - w / 2) / (w / 5)) ** 2)));
}
const checker = (h: number, w: number) => Float32Array.from({ length: h * w }, (_, i) => (Math.floor(i / w) + (i % w)) % 2);

test("frequency: C·bands features, deterministic; a blob's energy is low, a checkerboard's high", async () => {
  const [h, w] = [28, 28];
  const imgs = new Float32Array(3 * h * w);
  imgs.set(blob(h, w), 0);
  imgs.set(checker(h, w), h * w);
  imgs.set(new Float32Array(h * w).fill(0.5), 2 * h * w); // flat: no energy but finite features
  const enc = frequency({ bands: 6 });
  const { features, dim } = await enc.encode(input(imgs, 3, [1, h, w]));
  assert.is(dim, 6);
  assert.equal((await enc.encode(input(imgs, 3, [1, h, w]))).features, features);
  const [b, c] = [features.subarray(0, 6), features.subarray(6, 12)];
  assert.ok(b[0] > b[5] + 10, `blob: low ${b[0]} vs high ${b[5]}`);
  assert.ok(c[5] > c[0] + 10, `checkerboard: high ${c[5]} vs low ${c[0]}`);
  for (const v of features.subarray(12)) assert.ok(Number.isFinite(v));
  const rgb = await frequency({ bands: 4, spacing: "log" }).encode(input(noise(2 * 3 * 12 * 20), 2, [3, 12, 20]));
  assert.is(rgb.dim, 12);
  assert.ok(rgb.features.every(Number.isFinite));
});

test("frequency: band powers add up to the windowed image's energy (Parseval)", async () => {
  const [h, w, bands] = [20, 28, 5];
  const img = noise(h * w);
  const { features } = await frequency({ bands }).encode(input(img, 1, [1, h, w]));
  // The same band assignment as the encoder: count the padded (32×32) frequencies per band.
  const [ph, pw] = [32, 32];
  const counts = new Array(bands).fill(0);
  for (let ky = 0; ky < ph; ky++) {
    for (let kx = 0; kx < pw; kx++) {
      const r = Math.min(Math.hypot((ky <= ph / 2 ? ky : ky - ph) / ph, (kx <= pw / 2 ? kx : kx - pw) / pw), 0.5);
      if (r > 0) counts[Math.min(bands - 1, Math.floor((r / 0.5) * bands))]++;
    }
  }
  const total = counts.reduce((s, n, b) => s + n * (Math.exp(features[b]) - 1e-12), 0) * h * w;
  let mean = 0;
  for (const v of img) mean += v / (h * w);
  const hann = (i: number, n: number) => 0.5 - 0.5 * Math.cos((2 * Math.PI * (i + 0.5)) / n);
  let energy = 0;
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) energy += ((img[y * w + x] - mean) * hann(y, h) * hann(x, w)) ** 2;
  // Σ|F|² = N·Σx² over the padded grid; the DC term, left out, is what the window leaves of the mean.
  let dc = 0;
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) dc += (img[y * w + x] - mean) * hann(y, h) * hann(x, w);
  const expected = ph * pw * energy - dc * dc;
  assert.ok(Math.abs(total - expected) < 1e-4 * expected, `${total} vs ${expected}`);
});

// ---- PCA ------------------------------------------------------------------------

/** Rows on a 3-dimensional subspace of R^20 plus a little noise, `steps` steps of n rows. */
function lowRank(n: number, steps: number, seed: number) {
  const r = random(seed);
  const basis = Float64Array.from({ length: 3 * 20 }, () => r.normal());
  const values = new Float32Array(n * steps * 20);
  for (let i = 0; i < n * steps; i++) {
    const z = [r.normal() * 3, r.normal() * 2, r.normal()];
    for (let d = 0; d < 20; d++) values[i * 20 + d] = 1 + z[0] * basis[d] + z[1] * basis[20 + d] + z[2] * basis[40 + d] + 0.01 * r.normal();
  }
  const step = Int32Array.from({ length: n * steps }, (_, i) => Math.floor(i / n));
  return { values, step, count: n * steps, dim: 20 };
}

function pairDistances(f: Float32Array, dim: number, rows: number[]): number[] {
  const out: number[] = [];
  for (const i of rows) for (const j of rows) if (i < j) out.push(Math.hypot(...Array.from({ length: dim }, (_, d) => f[i * dim + d] - f[j * dim + d])));
  return out;
}

test("pca: per step, global and incremental give count×components, deterministically", async () => {
  const data = lowRank(30, 3, 1);
  for (const fit of ["step", "global", "incremental"] as const) {
    const a = await pcaEncoder({ components: 5, fit }).encode(data);
    const b = await pcaEncoder({ components: 5, fit }).encode(data);
    assert.is(a.dim, 5, fit);
    assert.is(a.features.length, 90 * 5, fit);
    assert.equal(a.features, b.features, fit);
  }
  assert.is((await pcaEncoder({ components: 50 }).encode(data)).dim, 20); // never more components than features
  assert.throws(() => pcaEncoder({ fit: "online" as never }), (e: Error) => e instanceof OptionError);
});

test("pca: incremental fitted step by step keeps the distances a global fit gives", async () => {
  const data = lowRank(40, 5, 2);
  const global = await pcaEncoder({ components: 3, fit: "global" }).encode(data);
  const incremental = await pcaEncoder({ components: 3, fit: "incremental" }).encode(data);
  // The first step fits three axes from 40 rows already; every step's distances agree with the global fit.
  const rows = Array.from({ length: 40 }, (_, i) => 4 * 40 + i);
  const [dg, di] = [pairDistances(global.features, 3, rows), pairDistances(incremental.features, 3, rows)];
  for (let i = 0; i < dg.length; i++) assert.ok(Math.abs(dg[i] - di[i]) < 0.02 * (1 + dg[i]), `pair ${i}: ${dg[i]} vs ${di[i]}`);
});

test("pca: incremental on a whole table equals the same encoder fed one step at a time, as a stream feeds it", async () => {
  const data = lowRank(25, 4, 3);
  const whole = await pcaEncoder({ components: 4, fit: "incremental" }).encode(data);
  const streamed = pcaEncoder({ components: 4, fit: "incremental" });
  for (let s = 0; s < 4; s++) {
    const rows = { values: data.values.subarray(s * 25 * 20, (s + 1) * 25 * 20), dim: 20, count: 25, step: new Int32Array(25).fill(s) };
    const { features } = await streamed.encode(rows);
    assert.equal(features, whole.features.subarray(s * 25 * 4, (s + 1) * 25 * 4), `step ${s}`);
  }
  await throwsTyped(() => streamed.encode({ values: new Float32Array(30), dim: 3, count: 10, step: new Int32Array(10) }), DimensionError, /fitted on 20 features per row, this batch has 3/);
});

// ---- encodeTable: progress and cancelling ------------------------------------------

test("encodeTable: passes progress and the signal to the encoder; a fired signal cancels with a typed error", async () => {
  const n = 600;
  const table = stepTable({
    instance: Int32Array.from({ length: n }, (_, i) => i),
    prompt: new Int32Array(n),
    prompts: ["p"],
    step: new Int32Array(n),
    image: noise(n * 64),
    imageShape: [1, 8, 8],
  });
  const seen: number[] = [];
  const out = await encodeTable(table, frequency({ bands: 3 }), { onProgress: (done, total) => seen.push(done / total) });
  assert.equal(seen, [256 / n, 512 / n, 1]);
  assert.is(readStepTable(out, { features: true }).featureDim, 3);
  const controller = new AbortController();
  const stopping: Encoder = frequency();
  await throwsTyped(
    () => encodeTable(table, stopping, { signal: controller.signal, onProgress: () => controller.abort() }),
    CancelledError,
    /frequency-8.*cancelled/,
  );
});

test.run();
