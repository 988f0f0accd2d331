import { test } from "uvu";
import * as assert from "uvu/assert";
import { OptionError, random, studentT } from "../mod.ts";
import { clusteredSteps, ring, trustworthinessWith } from "./fixtures.ts";
import { fftRepulsion } from "../src/embed/kernel/fft_repulsion.ts";
import { exactRepulsion } from "../src/embed/kernel/repulsion.ts";

/** Relative error of the normalised repulsion Σ_j q_ij² (y_i − y_j) / Z, and of Z. */
function errors(y: Float64Array, n: number, repulsion = fftRepulsion()): { gradient: number; z: number } {
  const exact = new Float64Array(2 * n), fft = new Float64Array(2 * n);
  const ze = exactRepulsion().compute(y, n, exact);
  const zf = repulsion.compute(y, n, fft);
  let num = 0, den = 0;
  for (let i = 0; i < 2 * n; i++) {
    num += (exact[i] / ze - fft[i] / zf) ** 2;
    den += (exact[i] / ze) ** 2;
  }
  return { gradient: den > 0 ? Math.sqrt(num / den) : Math.sqrt(num), z: Math.abs(zf / ze - 1) };
}

function clusters(n: number, seed: number): Float64Array {
  const rng = random(seed), y = new Float64Array(2 * n);
  const centre = Array.from({ length: 8 }, () => [8 * rng.normal(), 8 * rng.normal()]);
  for (let i = 0; i < n; i++) {
    y[2 * i] = centre[i % 8][0] + rng.normal();
    y[2 * i + 1] = centre[i % 8][1] + rng.normal();
  }
  return y;
}

test("FFT interpolation approximates the exact repulsion on a ring and on clusters", () => {
  // One instance throughout: the ring again reuses its cached grid, charges and all.
  const fft = fftRepulsion();
  for (const [name, y] of [["ring", ring(1000, 1)], ["clusters", clusters(1000, 2)], ["ring again", ring(1000, 1)]] as const) {
    const { gradient, z } = errors(y, 1000, fft);
    assert.ok(gradient < 1e-2, `${name}: relative gradient error ${gradient}`);
    assert.ok(z < 1e-2, `${name}: Z relative error ${z}`);
  }
});

test("FFT interpolation gets finer with more boxes", () => {
  const n = 400, y = clusters(n, 3), exact = new Float64Array(2 * n), rep = new Float64Array(2 * n);
  exactRepulsion().compute(y, n, exact);
  const error = (minIntervals: number) => {
    fftRepulsion({ minIntervals }).compute(y, n, rep);
    return Math.hypot(...exact.map((e, i) => e - rep[i])) / Math.hypot(...exact);
  };
  // m = 256 against m = 1024 here: boxes 4× narrower, the error ∝ box³.
  assert.ok(error(160) < error(20) / 20, `${error(160)} vs ${error(20)}`);
});

test("FFT interpolation copes with coincident points and tiny n", () => {
  const n = 50, pile = new Float64Array(2 * n); // all at the origin but one
  pile[0] = 3;
  for (const [y, m] of [[pile, n], [new Float64Array(2 * n), n], [Float64Array.of(0, 0, 1, 0.5), 2], [Float64Array.of(0, 0, 1, 0.5, -2, 3), 3]] as const) {
    const { gradient, z } = errors(y, m);
    assert.ok(gradient < 1e-3 && z < 1e-3, `n = ${m}: gradient ${gradient}, Z ${z}`);
  }
  const rep = Float64Array.of(9, 9);
  assert.is(fftRepulsion().compute(Float64Array.of(4, 2), 1, rep), 0);
  assert.equal(Array.from(rep), [0, 0]);
});

test("studentT's \"fft\" takes Barnes-Hut where the points spread wider than the largest grid holds", () => {
  const n = 600, wide = ring(n, 3).map((v) => 40 * v); // a ring some 800 units across
  const small = fftRepulsion({ maxGrid: 256 });
  assert.not.ok(small.holds(wide, n));
  assert.ok(small.holds(ring(n, 3), n));
  assert.ok(errors(wide, n, small).gradient > 0.05, "widened boxes lose the accuracy");
  const exact = new Float64Array(2 * n), fft = new Float64Array(2 * n), tree = new Float64Array(2 * n);
  const P = { n, rowPtr: new Int32Array(n + 1), col: new Int32Array(0), val: new Float64Array(0) };
  studentT({ repulsion: "exact" }).klGradient(wide, P, 1, 1, exact);
  studentT({ repulsion: "fft", fft: { maxGrid: 256 } }).klGradient(wide, P, 1, 1, fft);
  studentT({ repulsion: "barnes-hut" }).klGradient(wide, P, 1, 1, tree);
  assert.equal(fft, tree, "the same gradient as Barnes-Hut");
  const err = Math.hypot(...fft.map((v, i) => v - exact[i])) / Math.hypot(...exact);
  assert.ok(err < 0.03, `gradient error ${err}`);
});

test("fftRepulsion rejects a grid that is not a power of two", () => {
  assert.throws(() => fftRepulsion({ maxGrid: 300 }), (e: unknown) => e instanceof OptionError && /maxGrid/.test((e as Error).message));
});

test("the FFT path ends within 0.01 trustworthiness of the exact one", async () => {
  const input = clusteredSteps(2, 300, 8, 2);
  const exact = await trustworthinessWith("exact", input, 200), fft = await trustworthinessWith("fft", input, 200);
  assert.ok(exact > 0.85);
  assert.ok(Math.abs(exact - fft) <= 0.01, `exact ${exact}, FFT ${fft}`);
});

test.run();
