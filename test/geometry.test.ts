import { test } from "uvu";
import * as assert from "uvu/assert";
import { symmetricEigen } from "../src/linalg/eigen.ts";
import { denseOperator, orthonormalizeRows, topEigen, topSingular } from "../src/linalg/top_eigen.ts";
import { grassmannDistance, normalizedGrassmannDistance, principalAngles } from "../src/geometry/grassmann.ts";
import { spectralCentroid } from "../src/geometry/spectral_centroid.ts";
import { closedFormJacobian } from "../src/geometry/closed_form_jacobian.ts";
import { closedFormDenoiser } from "../src/sources/closed_form.ts";
import { loadMnist, MNIST_DIM, MNIST_SHAPE, mnistSubset } from "../src/sources/mnist.ts";
import { noiseSchedule } from "../src/sources/schedule.ts";
import { ddim } from "../src/sources/schedulers/ddim.ts";
import { random } from "../src/util/random.ts";
import { readStepTable, type StepColumns } from "../src/data/step_table.ts";
import { mnistDiffusion } from "../src/sources/mnist_diffusion.ts";
import { ddpm } from "../src/sources/schedulers/ddpm.ts";
import { readBranches, traverse } from "../src/geometry/traversal.ts";
import { renderBasisSvg, renderReadingsSvg, renderTraversalSvg } from "../src/geometry/geometry_svg.ts";
import { conditionsOf, distanceTable, geometryTable, levelAt, spearman, stepGeometry } from "../src/geometry/readings.ts";
import { collectSteps } from "../src/sources/collect.ts";
import { sampleDiffusion } from "../src/sources/sampler.ts";
import { euler } from "../src/sources/schedulers/euler.ts";
import { tableFromIPC, tableToIPC } from "apache-arrow";

const rng = random(16);
const gaussian = (n: number) => Float64Array.from({ length: n }, () => rng.normal());

/**
 * A symmetric n×n matrix Q·diag(λ)·Qᵀ with Q a product of three random
 * Householder reflections (cheap to build at n = 784); row c of `q` is the
 * eigenvector of λ_c.
 */
function withSpectrum(lambda: number[]): { matrix: Float64Array; q: Float64Array } {
  const n = lambda.length;
  const reflections = [0, 1, 2].map(() => {
    const u = gaussian(n);
    const norm = Math.hypot(...u);
    return u.map((x) => x / norm);
  });
  // Rows of M ← rows of M·H, H = I − 2uuᵀ.
  const reflectRows = (m: Float64Array, u: Float64Array) => {
    for (let r = 0; r < n; r++) {
      let d = 0;
      for (let i = 0; i < n; i++) d += m[r * n + i] * u[i];
      for (let i = 0; i < n; i++) m[r * n + i] -= 2 * d * u[i];
    }
  };
  // Qᵀ's rows are the eigenvectors: q = I·H3·H2·H1 (rows), matrix = qᵀ·Λ·q.
  const q = new Float64Array(n * n);
  for (let i = 0; i < n; i++) q[i * n + i] = 1;
  for (const u of [...reflections].reverse()) reflectRows(q, u);
  const matrix = new Float64Array(n * n);
  for (let i = 0; i < n; i++) matrix[i * n + i] = lambda[i];
  // matrix = H1·H2·H3·Λ·H3·H2·H1: reflect rows, then columns (symmetric, so rows of the transpose).
  for (const u of reflections.slice().reverse()) {
    reflectRows(matrix, u);
    for (let c = 0; c < n; c++) for (let r = c + 1; r < n; r++) [matrix[r * n + c], matrix[c * n + r]] = [matrix[c * n + r], matrix[r * n + c]];
    reflectRows(matrix, u);
  }
  return { matrix, q };
}

const maxAbs = (a: ArrayLike<number>) => Array.from(a).reduce((m, v) => Math.max(m, Math.abs(v)), 0);

// ---- the eigen-solver -------------------------------------------------------

test("topEigen: the top 10 of a 60×60 matrix agree with a full Jacobi decomposition to 1e-9", () => {
  const n = 60;
  const a = gaussian(n * n);
  const sym = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) sym[i * n + j] = a[i * n + j] + a[j * n + i];
  const full = symmetricEigen(sym, n);
  const byAbs = Array.from(full.values).sort((x, y) => Math.abs(y) - Math.abs(x));
  const top = topEigen(denseOperator(sym, n), n, 10, { tolerance: 1e-11 });
  assert.ok(top.converged);
  for (let i = 0; i < 10; i++) assert.ok(Math.abs(top.values[i] - byAbs[i]) < 1e-9 * Math.abs(byAbs[0]), `λ${i}: ${top.values[i]} vs ${byAbs[i]}`);
  // Orthonormal rows, and A v = λ v.
  for (let i = 0; i < 10; i++) {
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let t = 0; t < n; t++) s += top.vectors[i * n + t] * top.vectors[j * n + t];
      assert.ok(Math.abs(s - (i === j ? 1 : 0)) < 1e-12);
    }
  }
  assert.ok(maxAbs(top.residuals) < 1e-9 * Math.abs(byAbs[0]));
});

test("topEigen: a 784×784 matrix with a slowly decaying spectrum (like a U-Net's JᵀJ): values to 1e-10, subspace to 1e-8", () => {
  const n = 784;
  const lambda = Array.from({ length: n }, (_, i) => 0.6 * Math.exp(-i / 15));
  const { matrix, q } = withSpectrum(lambda);
  const t0 = performance.now();
  const top = topEigen(denseOperator(matrix, n), n, 10);
  const ms = performance.now() - t0;
  assert.ok(top.converged, `not converged after ${top.iterations}`);
  for (let i = 0; i < 10; i++) assert.ok(Math.abs(top.values[i] - lambda[i]) < 1e-10, `λ${i}`);
  const d = grassmannDistance(top.vectors, 10, q.subarray(0, 10 * n), 10, n);
  assert.ok(d < 1e-8, `subspace distance ${d}`);
  console.log(`  topEigen 784×784, k = 10: ${top.iterations} iterations, ${ms.toFixed(0)} ms`);
});

test("topSingular: tall and wide matrices give σ, u and v with A v = σ u, against the known factors", () => {
  for (const [rows, cols] of [[300, 80], [40, 120]]) {
    const k = 5;
    const r = Math.min(rows, cols);
    const u = gaussian(r * rows), v = gaussian(r * cols);
    orthonormalizeRows(u, r, rows);
    orthonormalizeRows(v, r, cols);
    const sigma = Array.from({ length: r }, (_, i) => 3 * 0.7 ** i);
    const at = new Float64Array(cols * rows); // Aᵀ: at[j][i] = Σ σ u_i v_j
    for (let c = 0; c < r; c++) for (let j = 0; j < cols; j++) for (let i = 0; i < rows; i++) at[j * rows + i] += sigma[c] * u[c * rows + i] * v[c * cols + j];
    const svd = topSingular(at, rows, cols, k);
    for (let c = 0; c < k; c++) {
      assert.ok(Math.abs(svd.values[c] - sigma[c]) < 1e-10, `σ${c} ${svd.values[c]} vs ${sigma[c]}`);
      let du = 0, dv = 0;
      for (let i = 0; i < rows; i++) du += svd.left[c * rows + i] * u[c * rows + i];
      for (let j = 0; j < cols; j++) dv += svd.right[c * cols + j] * v[c * cols + j];
      assert.ok(Math.abs(Math.abs(du) - 1) < 1e-9 && Math.abs(du - dv) < 1e-9, `${rows}×${cols} vector ${c}: ${du}, ${dv}`);
    }
  }
});

// ---- Grassmann distance -----------------------------------------------------

test("Grassmann distance: 0 for the same subspace, invariant to a rotation of the basis, 1 for orthogonal subspaces", () => {
  const n = 50, k = 6;
  const a = gaussian(k * n);
  orthonormalizeRows(a, k, n);
  assert.ok(normalizedGrassmannDistance(a, k, a, k, n) < 1e-7);
  // Another basis of the same span: a random orthogonal k×k mix of the rows.
  const r = gaussian(k * k);
  orthonormalizeRows(r, k, k);
  const rotated = new Float64Array(k * n);
  for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) for (let t = 0; t < n; t++) rotated[i * n + t] += r[i * k + j] * a[j * n + t];
  assert.ok(normalizedGrassmannDistance(a, k, rotated, k, n) < 1e-7, `rotated: ${normalizedGrassmannDistance(a, k, rotated, k, n)}`);
  // The distance to a third subspace does not change when either basis is rotated.
  const b = gaussian(k * n);
  orthonormalizeRows(b, k, n);
  const d = normalizedGrassmannDistance(a, k, b, k, n);
  assert.ok(Math.abs(normalizedGrassmannDistance(rotated, k, b, k, n) - d) < 1e-12);
  assert.ok(d > 0.5 && d < 1);
  // Orthogonal subspaces: coordinate axes 0..k−1 and k..2k−1.
  const e1 = new Float64Array(k * n), e2 = new Float64Array(k * n);
  for (let i = 0; i < k; i++) {
    e1[i * n + i] = 1;
    e2[i * n + k + i] = 1;
  }
  assert.ok(Math.abs(normalizedGrassmannDistance(e1, k, e2, k, n) - 1) < 1e-12);
  // One known angle: rotate one axis by 0.3 rad towards an outside axis.
  const tilted = e1.slice();
  tilted[0] = Math.cos(0.3);
  tilted[k + 1] = Math.sin(0.3);
  const angles = principalAngles(e1, k, tilted, k, n);
  assert.ok(Math.abs(angles[k - 1] - 0.3) < 1e-14 && maxAbs(angles.subarray(0, k - 1)) < 1e-14);
  // Symmetric.
  assert.ok(Math.abs(normalizedGrassmannDistance(b, k, a, k, n) - d) < 1e-12);
});

// ---- spectral centroid ---------------------------------------------------------

test("spectral centroid: a smooth blob sits low, a fine checkerboard high, in cycles per pixel", () => {
  const sc = spectralCentroid(MNIST_SHAPE);
  const blob = new Float64Array(MNIST_DIM), checker = new Float64Array(MNIST_DIM), stripes = new Float64Array(MNIST_DIM);
  for (let y = 0; y < 28; y++) {
    for (let x = 0; x < 28; x++) {
      blob[y * 28 + x] = Math.exp(-((x - 13.5) ** 2 + (y - 13.5) ** 2) / 40);
      checker[y * 28 + x] = (x + y) % 2 ? 1 : -1;
      stripes[y * 28 + x] = Math.cos((2 * Math.PI * 0.25) * x); // 0.25 cycles/pixel
    }
  }
  const [cb, cc, cs] = sc.centroids(Float64Array.from([...blob, ...checker, ...stripes]), 3);
  assert.ok(cb < 0.1, `blob ${cb}`);
  assert.ok(cc > 0.45, `checkerboard ${cc}`);
  assert.ok(Math.abs(cs - 0.25) < 0.04, `stripes at 0.25: ${cs}`);
  assert.equal(sc.centres.length, 8);
  assert.ok(Number.isNaN(sc.centroids(new Float64Array(MNIST_DIM), 1)[0]));
});

// ---- the closed form's analytic Jacobian -------------------------------------

/** 40 digits per class: small enough to keep these tests quick, large enough for a real posterior. */
const PER_CLASS = 40;
let small: Promise<ReturnType<typeof closedFormDenoiser>> | undefined;
function smallClosedForm() {
  return small ??= loadMnist().then((all) => {
    const digits = mnistSubset(all, PER_CLASS);
    return closedFormDenoiser({ images: digits.images, labels: digits.labels, dim: MNIST_DIM });
  });
}

/** x_t of one DDIM trajectory (η = 0, 20 steps) at every step, in float64, with its levels. */
async function trajectoryPoints(denoiser: Awaited<ReturnType<typeof smallClosedForm>>, condition: number, seed: number) {
  const levels = ddim().levels(noiseSchedule("cosine"), 20);
  const r = random(seed);
  const xt = Float32Array.from({ length: MNIST_DIM }, () => r.normal());
  const x0 = new Float32Array(MNIST_DIM), eps = new Float32Array(MNIST_DIM), out = new Float32Array(MNIST_DIM);
  const points: Float32Array[] = [];
  for (let s = 0; s < 20; s++) {
    points.push(xt.slice());
    await denoiser.predict(xt, levels[s], Int32Array.of(condition), out);
    for (let i = 0; i < MNIST_DIM; i++) {
      x0[i] = Math.min(1, Math.max(-1, out[i]));
      eps[i] = (xt[i] - Math.sqrt(levels[s].alphaBar) * x0[i]) / Math.sqrt(1 - levels[s].alphaBar);
    }
    ddim().step(xt, x0, eps, levels[s], levels[s + 1], r);
  }
  return { points, levels };
}

test("closed form: ∂x̂0/∂x_t = (√ᾱ/(1−ᾱ))·Cov_w matches central differences of x̂0 (float64) along the basis and random directions", async () => {
  const denoiser = await smallClosedForm();
  for (const [condition, guidance] of [[3, 1], [-1, 1], [7, 2]] as const) {
    const engine = closedFormJacobian(denoiser, { guidance });
    const { points, levels } = await trajectoryPoints(denoiser, condition, 5);
    let worst = 0, checked = 0, worstAbs = 0;
    for (const s of [0, 1, 2, 3, 5, 8]) {
      const x = Float64Array.from(points[s]), level = levels[s];
      const { matrix } = engine.jacobian(x, level, condition);
      const basis = await engine.basis(x, level, condition, 2);
      const dirs = [...Array(2).keys()].map((i) => basis.vectors!.slice(i * MNIST_DIM, (i + 1) * MNIST_DIM));
      for (let t = 0; t < 2; t++) {
        const g = gaussian(MNIST_DIM);
        const norm = Math.hypot(...g);
        dirs.push(g.map((v) => v / norm));
      }
      // Small against the posterior's width (logits move by ~√ᾱ·ε·|x|/(1−ᾱ)), well above rounding.
      const eps = 1e-4 * Math.sqrt(1 - level.alphaBar);
      for (const d of dirs) {
        const plus = engine.denoise(x.map((v, i) => v + eps * d[i]), level, condition);
        const minus = engine.denoise(x.map((v, i) => v - eps * d[i]), level, condition);
        const fd = plus.map((v, i) => (v - minus[i]) / (2 * eps));
        const jd = new Float64Array(MNIST_DIM);
        for (let i = 0; i < MNIST_DIM; i++) for (let j = 0; j < MNIST_DIM; j++) jd[i] += matrix[i * MNIST_DIM + j] * d[j];
        const diff = maxAbs(fd.map((v, i) => v - jd[i]));
        if (maxAbs(jd) > 1e-6) {
          // J resolvable in float64: relative error.
          worst = Math.max(worst, diff / maxAbs(jd));
          checked++;
        } else {
          // Weights (nearly) on one digit: J below what differences of x̂0 ≈ ±1 resolve (1e-16/ε).
          worstAbs = Math.max(worstAbs, diff);
        }
      }
      // J is symmetric.
      for (let i = 0; i < 5; i++) assert.is(matrix[i * MNIST_DIM + 700 - i], matrix[(700 - i) * MNIST_DIM + i]);
    }
    assert.ok(checked >= 8, `${checked} directions checked`);
    assert.ok(worst < 1e-5, `condition ${condition}, guidance ${guidance}: worst relative error ${worst}`);
    assert.ok(worstAbs < 1e-8, `condition ${condition}, guidance ${guidance}: worst absolute error after the collapse ${worstAbs}`);
    console.log(`  closed form, condition ${condition}, g = ${guidance}: analytic vs finite differences, worst relative error ${worst.toExponential(2)} over ${checked} directions`);
  }
});

test("closed form: the band metric adds up to ‖J‖²_F less the DC direction", async () => {
  const denoiser = await smallClosedForm();
  const engine = closedFormJacobian(denoiser);
  const { points, levels } = await trajectoryPoints(denoiser, 7, 3);
  const { matrix } = engine.jacobian(points[1], levels[1], 7);
  const basis = await engine.basis(points[1], levels[1], 7, 3);
  const { dctBasis } = await import("../src/geometry/dct.ts");
  const dct = dctBasis(MNIST_SHAPE);
  const band = dct.bandOf(8);
  const counts = new Float64Array(8);
  band.forEach((b) => b >= 0 && counts[b]++);
  const total = basis.bandMetric!.reduce((s, e, b) => s + e * counts[b], 0);
  let frob = 0;
  for (const v of matrix) frob += v * v;
  const dc = new Float64Array(MNIST_DIM).fill(1 / 28); // φ_0
  let dcNorm = 0;
  for (let i = 0; i < MNIST_DIM; i++) {
    let s = 0;
    for (let j = 0; j < MNIST_DIM; j++) s += matrix[i * MNIST_DIM + j] * dc[j];
    dcNorm += s * s;
  }
  assert.ok(Math.abs(total - (frob - dcNorm)) < 1e-9 * frob, `${total} vs ${frob - dcNorm}`);
});

test("closed form: the float64 x̂0 behind the Jacobian is the denoiser's own x̂0 (to float32 rounding)", async () => {
  const denoiser = await smallClosedForm();
  const engine = closedFormJacobian(denoiser);
  const { points, levels } = await trajectoryPoints(denoiser, 3, 2);
  const out = new Float32Array(MNIST_DIM);
  for (const s of [0, 5, 12, 19]) {
    await denoiser.predict(points[s], levels[s], Int32Array.of(3), out);
    const mine = engine.denoise(points[s], levels[s], 3);
    assert.ok(maxAbs(mine.map((v, i) => v - out[i])) < 1e-6, `step ${s}`);
  }
});

test("closed form: the effective sample size falls from the whole class to one digit, where J is exactly 0", async () => {
  const denoiser = await smallClosedForm();
  const engine = closedFormJacobian(denoiser);
  const { points, levels } = await trajectoryPoints(denoiser, 3, 9);
  const ess: number[] = [], top: number[] = [];
  for (let s = 0; s < 20; s++) {
    const b = await engine.basis(points[s], levels[s], 3, 3);
    ess.push(b.ess!);
    top.push(b.values[0]);
  }
  assert.ok(ess[0] > 0.9 * PER_CLASS && ess[0] <= PER_CLASS, `step 0: ESS ${ess[0]} of ${PER_CLASS} digits`);
  assert.ok(Math.abs(ess[19] - 1) < 1e-9, `last step: ESS ${ess[19]}`);
  assert.is(top[19], 0);
  for (let s = 1; s < 20; s++) assert.ok(ess[s] <= ess[s - 1] * 1.5, `ESS rises at ${s}: ${ess}`);
  console.log(`  ESS per step (${PER_CLASS} digits of class 3): ${ess.map((e) => e.toFixed(1)).join(" ")}`);
});

// ---- readings per step -----------------------------------------------------------

test("readings: geometry and distance tables of a closed-form run; step 0 shares one basis per prompt, the condition matters there", async () => {
  const denoiser = await smallClosedForm();
  const prompts = [{ label: "digit 3", condition: 3 }, { label: "digit 7", condition: 7 }, { label: "any digit", condition: -1 }];
  const steps = await collectSteps(sampleDiffusion(denoiser, { prompts, instancesPerPrompt: 2, steps: 5, seed: 2, range: [-1, 1], imageShape: MNIST_SHAPE }));
  const { rows, distances, summary } = await stepGeometry(steps, { engine: closedFormJacobian(denoiser), k: 3, condition: conditionsOf(prompts) });
  assert.is(rows.length, 6 * 5);
  assert.is(summary.length, 5);
  // At step 0 (ᾱ ≈ 2e-9) the posterior is uniform over the class: every instance of a prompt has the same J.
  const s0 = summary[0];
  assert.ok(s0.within < 1e-3, `within at step 0: ${s0.within}`);
  assert.ok(s0.across > 0.2 && s0.conditional > 0.2, `across ${s0.across}, conditional ${s0.conditional}`);
  assert.ok(s0.meanEss > 0.9 * PER_CLASS, `ESS ${s0.meanEss}`);
  // Later the instances part ways.
  assert.ok(summary[2].within > s0.within + 0.2, `within at step 2: ${summary[2].within}`);
  for (const r of rows) {
    assert.is(r.values.length, 3);
    if (r.rank > 0) assert.ok(r.bandCentroid > 0 && r.bandCentroid < 0.5, `band centroid ${r.bandCentroid}`);
    assert.ok(r.rank >= 0 && r.rank <= 3);
    if (r.prompt === "any digit") assert.ok(Number.isNaN(r.conditionalDistance));
    for (let i = 0; i < r.rank; i++) assert.ok(r.centroids[i] > 0 && r.centroids[i] < 0.5);
  }
  const kinds = new Set(distances.map((d) => d.kind));
  assert.equal([...kinds].sort(), ["across", "conditional", "within"]);
  // Arrow round trips.
  const g = tableFromIPC(tableToIPC(geometryTable(rows, { vectors: true, shape: MNIST_SHAPE }), "file"));
  assert.is(g.numRows, rows.length);
  for (const name of ["instance", "prompt", "step", "timestep", "singular_values", "centroids", "mean_centroid", "ess", "conditional_distance", "basis"]) assert.ok(g.getChild(name), name);
  const basisSvg = renderBasisSvg(rows.filter((r) => r.instance === 0), MNIST_SHAPE);
  assert.ok((basisSvg.match(/<image /g)?.length ?? 0) >= 3);
  assert.match(renderReadingsSvg([{ name: "closed form", summary }]), /<path d="M/);
  const d = tableFromIPC(tableToIPC(distanceTable(distances), "file"));
  assert.is(d.numRows, distances.length);
  assert.equal(d.getChild("kind")!.get(0), distances[0].kind);
});

test("addGeometry: the readings as an RxJS operator, one frame per step table", async () => {
  const { from, lastValueFrom, toArray } = await import("rxjs");
  const { addGeometry } = await import("../src/stream/add_geometry.ts");
  const denoiser = await smallClosedForm();
  const prompts = [{ label: "digit 3", condition: 3 }, { label: "any digit", condition: -1 }];
  const tables = [];
  for await (const t of sampleDiffusion(denoiser, { prompts, instancesPerPrompt: 2, steps: 3, seed: 1, range: [-1, 1], imageShape: MNIST_SHAPE })) tables.push(t);
  const frames = await lastValueFrom(from(tables).pipe(addGeometry({ engine: closedFormJacobian(denoiser), k: 3, condition: conditionsOf(prompts) }), toArray()));
  assert.is(frames.length, 3);
  frames.forEach((f, s) => {
    assert.is(f.geometry.numRows, 4);
    assert.is(f.summary[0].step, s);
  });
  // Step 0: within (2 prompts), across (1 pair), conditional (digit 3).
  assert.is(frames[0].distances.numRows, 4);
});

test("spearman and levelAt", () => {
  assert.is(spearman([1, 2, 3, 4], [1, 4, 9, 16]), 1);
  assert.is(spearman([1, 2, 3, 4], [4, 3, 2, 1]), -1);
  assert.ok(Math.abs(spearman([1, 2, 3, 4], [1, 1, 2, NaN]) - Math.sqrt(3) / 2) < 1e-12);
  const schedule = noiseSchedule("cosine");
  assert.is(levelAt(schedule, 999).alphaBar, schedule.alphaBar[999]);
  for (const level of euler().levels(schedule, 10).slice(0, -1)) {
    assert.ok(Math.abs(levelAt(schedule, level.t).alphaBar - level.alphaBar) < 1e-9 * Math.max(1, level.alphaBar), `t ${level.t}`);
  }
});

// ---- traversal edits -----------------------------------------------------------

test("traversal: γ = 0 reproduces the original trajectory exactly (DDIM, and DDPM with guidance); γ ≠ 0 branches off", async () => {
  const denoiser = await smallClosedForm();
  const engine = closedFormJacobian(denoiser);
  for (const [scheduler, guidance] of [[ddim(), 1], [ddpm(), 2]] as const) {
    const common = { instancesPerPrompt: 3, steps: 10, seed: 4, scheduler, guidance };
    const want: StepColumns[] = [];
    for await (const t of mnistDiffusion({ ...common, prompts: [3, "any"], denoiser })) want.push(readStepTable(t));
    const edits = [
      { instance: 1, step: 2, direction: 0, gamma: 0 },
      { instance: 4, step: 5, direction: 1, gamma: 0 },
      { instance: 1, step: 2, direction: 0, gamma: 3 },
    ];
    const got: StepColumns[] = [];
    let branches: ReturnType<typeof readBranches> = [];
    let last;
    for await (const t of traverse(denoiser, {
      ...common, prompts: [{ label: "digit 3", condition: 3 }, { label: "any digit", condition: -1 }], range: [-1, 1], imageShape: MNIST_SHAPE, edits, engine: guidance === 1 ? engine : closedFormJacobian(denoiser, { guidance }),
    })) {
      got.push(readStepTable(t));
      branches = readBranches(t);
      last = t;
    }
    const svg = renderTraversalSvg(last!);
    assert.is(svg.match(/<image /g)?.length, 3);
    assert.equal(branches.map((b) => [b.instance, b.parent, b.step]), [[6, 1, 2], [7, 4, 5], [8, 1, 2]]);
    const row = (c: StepColumns, instance: number, key: "image" | "noisy") => {
      const r = [...c.instance].indexOf(instance);
      return r < 0 ? undefined : c[key]!.subarray(r * MNIST_DIM, (r + 1) * MNIST_DIM);
    };
    let moved = 0;
    for (let s = 0; s < 10; s++) {
      const g = got[s], w = want[s];
      assert.equal(g.prompts, w.prompts);
      for (let i = 0; i < 6; i++) {
        for (const key of ["image", "noisy"] as const) assert.equal(Array.from(row(g, i, key)!), Array.from(row(w, i, key)!), `original ${i}, step ${s}, ${key}`);
      }
      for (const b of branches) {
        const r = row(g, b.instance, "image");
        if (s < b.step) {
          assert.is(r, undefined);
          continue;
        }
        assert.is(g.prompt[[...g.instance].indexOf(b.instance)], g.prompt[[...g.instance].indexOf(b.parent)]);
        if (b.gamma === 0) {
          for (const key of ["image", "noisy"] as const) assert.equal(Array.from(row(g, b.instance, key)!), Array.from(row(g, b.parent, key)!), `branch ${b.instance}, step ${s}, ${key}`);
        } else {
          moved = Math.max(moved, maxAbs(row(g, b.instance, "noisy")!.map((v, i) => v - row(g, b.parent, "noisy")![i])));
        }
      }
    }
    assert.ok(moved > 0.1, `γ = 3 moved x_t by at most ${moved}`);
  }
});

test.run();
