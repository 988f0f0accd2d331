import { readFile } from "node:fs/promises";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { random } from "../mod.ts";
import { distanceKernel, scalarDistances } from "../src/embed/wasm/distances.ts";
import { wasm } from "../src/embed/wasm/distances_wasm.ts";
import { scalarTiles, tileKernel } from "../src/embed/wasm/tiles.ts";
import { attraction, placeStep, scalarAttraction } from "../src/embed/wasm/attraction.ts";
import { perplexityAffinity } from "../src/embed/affinity/perplexity.ts";
import { products } from "../src/linalg/products.ts";
import { rowWeights, scalarWeights } from "../src/embed/wasm/gaussian.ts";
import { exp } from "../src/util/portable_math.ts";
import { compile, generatedPath, kernels, moduleSource } from "../scripts/build-wasm.ts";

test("the shipped WebAssembly is the compiled source", async () => {
  for (const path of kernels) {
    const shipped = await readFile(generatedPath(path), "utf8");
    assert.equal(shipped, moduleSource(path, await compile(path)), `${path}: run npm run build-wasm`);
  }
});

test("the distance kernels (SIMD here, and the JavaScript fallback) measure squared distances for any dimension", () => {
  assert.ok(WebAssembly.validate(Uint8Array.from(atob(wasm), (c) => c.charCodeAt(0))), "WebAssembly SIMD is available");
  const rng = random(3);
  for (const dim of [1, 3, 4, 7, 8, 50]) {
    const n = 40, points = Float32Array.from({ length: n * dim }, () => rng.normal());
    // The SIMD kernel and the JavaScript fallback give the same distances.
    for (const kernel of [distanceKernel(points, n, dim, n), scalarDistances(points, dim, n)]) {
      const candidates = [5, 0, 39, 17, 5];
      kernel.candidates.set(candidates);
      kernel.measure(11, candidates.length);
      candidates.forEach((j, c) => {
        let d = 0;
        for (let t = 0; t < dim; t++) d += (points[11 * dim + t] - points[j * dim + t]) ** 2;
        assert.ok(Math.abs(kernel.distances[c] - d) <= 1e-5 * (1 + d), `dim ${dim}: ${kernel.distances[c]} vs ${d}`);
        assert.equal(kernel.bits[c], new Uint32Array(Float32Array.of(kernel.distances[c]).buffer)[0]);
      });
    }
  }
});

test("the tile kernels (SIMD here, and the JavaScript fallback) give the same bits: four rows' squared distances to every point", () => {
  const rng = random(5);
  for (const [n, dim] of [[1, 3], [13, 1], [40, 7], [61, 50]]) {
    const points = Float32Array.from({ length: n * dim }, () => rng.normal());
    const simd = tileKernel(points, n, dim, 0), scalar = scalarTiles(points, n, dim, 0);
    assert.equal(simd.width, scalar.width);
    assert.ok(simd.width % 8 === 0 && simd.width >= n + 3);
    for (let i = 0; i < n; i += 4) {
      simd.measure(i);
      scalar.measure(i);
      assert.equal(Array.from(simd.out), Array.from(scalar.out), `n ${n}, dim ${dim}, rows ${i}…`);
      for (let r = 0; r < 4 && i + r < n; r++) {
        for (let j = 0; j < n; j++) {
          let d = 0;
          for (let t = 0; t < dim; t++) d += (points[(i + r) * dim + t] - points[j * dim + t]) ** 2;
          assert.ok(Math.abs(simd.out[r * simd.width + j] - d) <= 1e-5 * (1 + d));
        }
      }
    }
  }
});

test("the tile kernels' k nearest (SIMD here, and the JavaScript fallback) are the same entries in the same order: the k smallest, ties to the lower index", () => {
  const rng = random(6);
  // Coarse coordinates make many equal distances; n not a multiple of four leaves a tail; k = n − 1 keeps all.
  for (const [n, dim, k] of [[2, 3, 1], [13, 1, 3], [61, 4, 5], [203, 2, 7], [150, 3, 149], [1000, 5, 30]]) {
    const points = Float32Array.from({ length: n * dim }, () => Math.round(2 * rng.normal()));
    const simd = tileKernel(points, n, dim, k), scalar = scalarTiles(points, n, dim, k);
    for (let i = 0; i < n; i += 4) {
      simd.measure(i);
      scalar.measure(i);
      for (let r = 0; r < 4 && i + r < n; r++) {
        const row = i + r;
        simd.nearest(r, row);
        scalar.nearest(r, row);
        const got = Array.from(simd.keptJ.subarray(0, k));
        assert.equal(got, Array.from(scalar.keptJ.subarray(0, k)), `n ${n}, k ${k}, row ${row}`);
        assert.equal(Array.from(simd.keptD.subarray(0, k)), Array.from(scalar.keptD.subarray(0, k)));
        // The k smallest by (distance, index), this row excluded.
        const truth = Array.from({ length: n }, (_, j) => j).filter((j) => j !== row).sort((a, b) => simd.out[r * simd.width + a] - simd.out[r * simd.width + b] || a - b).slice(0, k);
        assert.equal([...got].sort((a, b) => a - b), truth.sort((a, b) => a - b), `n ${n}, k ${k}, row ${row}: the k nearest`);
      }
    }
  }
});

test("the PCA product kernels (SIMD here, and the JavaScript fallback) give the same bits, for float32 and double rows with zeros, and odd widths", () => {
  const rng = random(7);
  for (const [n, dim, l] of [[1, 1, 1], [7, 3, 5], [40, 13, 12], [33, 50, 3]]) {
    const values = Array.from({ length: n * dim }, () => (rng.next() < 0.4 ? 0 : rng.normal()));
    for (const a of [Float32Array.from(values), Float64Array.from(values), values]) {
      const simd = products(a, n, dim), scalar = products(a, n, dim, false);
      for (const transposed of [false, true]) {
        const b = Float64Array.from({ length: (transposed ? n : dim) * l }, () => rng.normal());
        const got = transposed ? simd.transposedTimes(b, l) : simd.times(b, l), want = transposed ? scalar.transposedTimes(b, l) : scalar.times(b, l);
        assert.equal(Array.from(got), Array.from(want), `n ${n}, dim ${dim}, l ${l}, ${a.constructor.name}, transposed ${transposed}`);
        // And the product itself, within rounding.
        const rows = transposed ? dim : n, A = (i: number, d: number) => a[i * dim + d];
        for (let r = 0; r < rows; r++) {
          for (let c = 0; c < l; c++) {
            let sum = 0;
            for (let k = 0; k < (transposed ? n : dim); k++) sum += (transposed ? A(k, r) : A(r, k)) * b[k * l + c];
            assert.ok(Math.abs(got[r * l + c] - sum) <= 1e-9 * (1 + Math.abs(sum)));
          }
        }
      }
    }
  }
});

test("the attraction kernels (SIMD on a placed step, and the JavaScript fallback) give the same bits, also when P or the points change", () => {
  const rng = random(4);
  for (const n of [50, 300]) {
    const x = Float32Array.from({ length: n * 5 }, () => rng.normal());
    const P = perplexityAffinity({ threads: 1 }).compute(x, n, 5);
    const step = placeStep(P)!;
    assert.ok(step, "WebAssembly SIMD and shared memory are available");
    assert.ok(step.y.buffer instanceof SharedArrayBuffer, "the placed points are in shared memory");
    assert.equal([Array.from(step.P.rowPtr), Array.from(step.P.col), Array.from(step.P.val)], [Array.from(P.rowPtr), Array.from(P.col), Array.from(P.val)]);
    for (let round = 0; round < 2; round++) {
      step.y.set(Float64Array.from({ length: 2 * n }, () => 3 * rng.normal()));
      const expected = new Float64Array(2 * n);
      scalarAttraction(step.y, step.P, 0, n, expected, 2, 0);
      const out = new Float64Array(5 * n).fill(NaN);
      // Rows in two runs, the later first, into the stride of a split step.
      attraction(step.y, step.P, 7, n, out, 5, 3);
      attraction(step.y, step.P, 0, 7, out, 5, 3);
      for (let i = 0; i < n; i++) {
        assert.is(out[5 * i + 3], expected[2 * i], `n ${n}, round ${round}, row ${i}`);
        assert.is(out[5 * i + 4], expected[2 * i + 1]);
      }
      // Other points than the step's own go through the JavaScript kernel, and leave the step's alone.
      const other = Float64Array.from(step.y, (v) => v + 1), before = step.y.slice();
      const viaOther = new Float64Array(2 * n), direct = new Float64Array(2 * n);
      attraction(other, step.P, 0, n, viaOther, 2, 0);
      scalarAttraction(other, step.P, 0, n, direct, 2, 0);
      assert.equal(viaOther, direct);
      assert.equal(step.y, before);
    }
  }
  // A row's attraction is Σ_j p_ij (y_i − y_j) / (1 + |y_i − y_j|²).
  const step = placeStep({ n: 3, rowPtr: Int32Array.of(0, 2, 3, 4), col: Int32Array.of(1, 2, 0, 0), val: Float64Array.of(0.5, 0.25, 0.5, 0.25) })!;
  step.y.set([0, 0, 1, 0, 0, 2]);
  const out = new Float64Array(6);
  attraction(step.y, step.P, 0, 3, out, 2, 0);
  assert.equal(Array.from(out), [0.5 * -1 / 2, 0.25 * -2 / 5, 0.5 * 1 / 2, 0, 0, 0.25 * 2 / 5]);
});

test("the Gaussian weight kernels (SIMD here, and the JavaScript fallback) give the same bits: fdlibm's exp at its branches' edges, into the subnormals and past underflow", () => {
  // x = −β d ≤ 0 with β = 1: around ln2 / 2, 1.5 ln2 and 2^−28 (fdlibm's branches, the kernel's selects),
  // k = −1021 (the subnormal scaling) and −745.13 (underflow), and a spread of magnitudes.
  const edges = [0, 2 ** -28, 2 ** -29, 0.5 * Math.LN2, 1.5 * Math.LN2, 1.0397208, 0.3465736, 708, 708.4, 708.5, 709.78, 720, 745.1332191019411, 745.1332191019412, 800, 1e308, Infinity];
  const rng = random(5), d = [0];
  for (const e of edges) for (const f of [1 - 2 ** -52, 1, 1 + 2 ** -52]) d.push(e * f);
  for (let i = 0; i < 20000; i++) d.push(i % 2 ? rng.next() * 760 : Math.exp(rng.next() * 40 - 30));
  // Odd and even lengths: the kernel reads its last pair padded.
  for (const row of [Float64Array.from(d), Float64Array.from(d.slice(0, -1))]) {
    const simd = rowWeights(row), js = scalarWeights(row);
    simd.compute(1);
    js.compute(1);
    row.forEach((v, a) => assert.ok(Object.is(simd.p[a], exp(-v)), `exp(−${v}): ${simd.p[a]} against ${exp(-v)}`));
    assert.equal(Array.from(simd.p), Array.from(js.p));
    assert.equal(Array.from(simd.sums), Array.from(js.sums));
  }
  // On a row's own scale, moments and all.
  const row = Float64Array.of(0.5, 0.5, 0.7, 1.2, 3, 9);
  const simd = rowWeights(row), js = scalarWeights(row);
  simd.compute(2.5);
  js.compute(2.5);
  assert.equal(Array.from(simd.sums), Array.from(js.sums));
  assert.ok(Math.abs(simd.sums[0] - row.reduce((sum, v) => sum + Math.exp(-2.5 * (v - 0.5)), 0)) < 1e-14);
});

test.run();
