import { test } from "uvu";
import * as assert from "uvu/assert";
import { CancelledError, OptionError } from "../src/errors.ts";
import { readStepTable, type StepColumns } from "../src/data/step_table.ts";
import { random } from "../src/util/random.ts";
import { loadMnist, MNIST_DIM, mnistSubset, type MnistDigits } from "../src/sources/mnist.ts";
import { cosineAlphaBar, ddimTimesteps, linearAlphaBar, noiseSchedule, scaledLinearAlphaBar } from "../src/sources/schedule.ts";
import { closedFormDenoiser } from "../src/sources/closed_form.ts";
import { mnistDiffusion, type MnistPrompt, mnistTrajectories } from "../src/sources/mnist_diffusion.ts";
import { sampleDiffusion } from "../src/sources/sampler.ts";
import { ddim } from "../src/sources/schedulers/ddim.ts";
import { ddpm } from "../src/sources/schedulers/ddpm.ts";
import { euler } from "../src/sources/schedulers/euler.ts";

const D = MNIST_DIM;

// ---- helpers ---------------------------------------------------------------

/** RMS difference between two images (values 0..1). */
function rms(a: Float32Array, ai: number, b: Float32Array, bi: number): number {
  let s = 0;
  for (let k = 0; k < D; k++) {
    const d = a[ai * D + k] - b[bi * D + k];
    s += d * d;
  }
  return Math.sqrt(s / D);
}

function nearest(digits: MnistDigits, img: Float32Array, i: number): { label: number; dist: number } {
  let best = Infinity, label = -1;
  for (let j = 0; j < digits.count; j++) {
    const d = rms(img, i, digits.images, j);
    if (d < best) (best = d), (label = digits.labels[j]);
  }
  return { label, dist: best };
}

function classMeans(digits: MnistDigits): { means: Float32Array; global: Float32Array } {
  const sums = new Float64Array(10 * D), counts = new Float64Array(10), global = new Float32Array(D);
  for (let j = 0; j < digits.count; j++) {
    const c = digits.labels[j];
    counts[c]++;
    for (let k = 0; k < D; k++) sums[c * D + k] += digits.images[j * D + k];
  }
  const means = new Float32Array(10 * D);
  for (let c = 0; c < 10; c++) for (let k = 0; k < D; k++) means[c * D + k] = sums[c * D + k] / counts[c];
  for (let k = 0; k < D; k++) {
    let s = 0;
    for (let c = 0; c < 10; c++) s += sums[c * D + k];
    global[k] = s / digits.count;
  }
  return { means, global };
}

/** Rows of one step as [row indices]. */
function rowsOfStep(cols: StepColumns, step: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < cols.step.length; r++) if (cols.step[r] === step) out.push(r);
  return out;
}

async function rejectsWith(p: () => Promise<unknown>, type: new (...a: never[]) => Error): Promise<Error> {
  try {
    await p();
  } catch (e) {
    assert.instance(e, type);
    return e as Error;
  }
  throw new assert.Assertion({ message: `expected a ${type.name}`, operator: "rejects", expects: type.name, actual: "none" });
}

// ---- MNIST -----------------------------------------------------------------

test("loadMnist: 10,000 digits sorted by class, values 0..1, cached", async () => {
  const d = await loadMnist();
  assert.is(d.count, 10000);
  assert.is(d.images.length, d.count * D);
  assert.equal([...d.shape], [1, 28, 28]);
  let min = Infinity, max = -Infinity;
  for (const v of d.images) (min = Math.min(min, v)), (max = Math.max(max, v));
  assert.is(min, 0);
  assert.is(max, 1);
  for (let i = 1; i < d.count; i++) assert.ok(d.labels[i] >= d.labels[i - 1]);
  assert.equal(new Set(d.labels).size, 10);
  assert.is(await loadMnist(), d);
  const sub = mnistSubset(d, 5);
  assert.is(sub.count, 50);
  assert.equal([...sub.labels.slice(0, 6)], [0, 0, 0, 0, 0, 1]);
});

// ---- schedules ---------------------------------------------------------------

test("schedule: cosine and linear ᾱ decrease from ≈1 to ≈0", () => {
  for (const ab of [cosineAlphaBar(), linearAlphaBar()]) {
    assert.is(ab.length, 1000);
    assert.ok(ab[0] > 0.9998 && ab[0] < 1);
    assert.ok(ab[999] > 0 && ab[999] < 1e-4);
    for (let t = 1; t < 1000; t++) assert.ok(ab[t] < ab[t - 1]);
  }
  // Linear: the product of (1 − β_i).
  const lin = linearAlphaBar(1000);
  let p = 1;
  for (let i = 0; i <= 500; i++) p *= 1 - (1e-4 + ((0.02 - 1e-4) * i) / 999);
  assert.ok(Math.abs(lin[500] - p) < 1e-12);
  // Cosine: ᾱ_t ≈ f((t+1)/T)/f(0) away from the clipped end.
  const f = (tau: number) => Math.cos(((tau + 0.008) / 1.008) * Math.PI / 2) ** 2;
  const cos = cosineAlphaBar(1000);
  assert.ok(Math.abs(cos[499] - f(0.5) / f(0)) < 1e-9);
  assert.is(noiseSchedule("linear").name, "linear");
});

test("schedule: DDIM timesteps are evenly spaced, descending, from T − 1", () => {
  const ts = ddimTimesteps(1000, 20);
  assert.is(ts.length, 20);
  assert.is(ts[0], 999);
  assert.is(ts[19], 49);
  for (let i = 1; i < 20; i++) assert.is(ts[i - 1] - ts[i], 50);
  assert.equal([...ddimTimesteps(10, 10)], [9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
  assert.equal([...ddimTimesteps(1000, 1)], [999]);
  assert.throws(() => ddimTimesteps(1000, 0), (e: unknown) => e instanceof OptionError);
  assert.throws(() => ddimTimesteps(10, 11), (e: unknown) => e instanceof OptionError);
  assert.throws(() => noiseSchedule("quadratic" as never), (e: unknown) => e instanceof OptionError);
});

// ---- closed-form denoiser -------------------------------------------------------

/** The textbook formula in float64, straight from distances. */
function naiveX0(images: Float32Array, labels: Int32Array, dim: number, xt: Float32Array, ab: number, cond: number, g: number): Float64Array {
  const post = (cls: number) => {
    const js = [...labels.keys()].filter((j) => cls === -1 || labels[j] === cls);
    const logit = js.map((j) => {
      let s = 0;
      for (let k = 0; k < dim; k++) {
        const d = xt[k] - Math.sqrt(ab) * (2 * images[j * dim + k] - 1);
        s += d * d;
      }
      return -s / (2 * (1 - ab));
    });
    const max = Math.max(...logit);
    const w = logit.map((l) => Math.exp(l - max));
    const z = w.reduce((a, b) => a + b, 0);
    const out = new Float64Array(dim);
    js.forEach((j, i) => {
      for (let k = 0; k < dim; k++) out[k] += (w[i] / z) * (2 * images[j * dim + k] - 1);
    });
    return out;
  };
  if (cond === -1) return post(-1);
  const c = post(cond);
  if (g === 1) return c;
  const u = post(-1);
  return c.map((v, k) => u[k] + g * (v - u[k]));
}

/** Small random data: n images of dim values, 60% zeros, 3 classes. */
function smallData(seed: number, n = 37, dim = 23) {
  const rng = random(seed);
  const images = new Float32Array(n * dim).map(() => (rng.next() < 0.6 ? 0 : rng.next()));
  const labels = new Int32Array(n).map(() => rng.int(3));
  return { images, labels, dim };
}

test("closedFormDenoiser: matches the textbook posterior mean", () => {
  const rng = random(3);
  const { images, labels, dim } = smallData(3);
  const batch = 7;
  const condition = Int32Array.from({ length: batch }, (_, r) => (r % 4) - 1); // −1, 0, 1, 2, −1, …
  const den = closedFormDenoiser({ images, labels, dim });
  assert.is(den.prediction, "x0");
  for (const ab of [0, 0.05, 0.5, 0.95, 0.999]) {
    const xt = new Float32Array(batch * dim).map(() => rng.normal() * 1.2);
    const out = new Float32Array(batch * dim);
    den.predict(xt, { t: 0, alphaBar: ab }, condition, out);
    for (let r = 0; r < batch; r++) {
      const want = naiveX0(images, labels, dim, xt.subarray(r * dim, (r + 1) * dim), ab, condition[r], 1);
      for (let k = 0; k < dim; k++) {
        assert.ok(Math.abs(out[r * dim + k] - want[k]) < 2e-5, `ᾱ=${ab} row ${r} pixel ${k}: ${out[r * dim + k]} vs ${want[k]}`);
      }
    }
  }
});

test("sampleDiffusion: classifier-free guidance mixes x̂0 of the class and of all data; noisy is the x_t the model saw", async () => {
  const data = smallData(8);
  const { images, labels, dim } = data;
  const schedule = noiseSchedule("cosine");
  for (const g of [0, 2.5]) {
    const prompts = [{ label: "class 1", condition: 1 }, { label: "all", condition: -1 }, { label: "class 2", condition: 2 }];
    const steps: StepColumns[] = [];
    for await (const t of sampleDiffusion(closedFormDenoiser(data), { prompts, instancesPerPrompt: 2, steps: 4, guidance: g, seed: 1 })) {
      steps.push(readStepTable(t));
    }
    const levels = ddim().levels(schedule, 4);
    steps.forEach((cols, s) => {
      assert.equal(cols.imageShape, [1, 1, dim]);
      for (let r = 0; r < 6; r++) {
        const xt = cols.noisy!.subarray(r * dim, (r + 1) * dim);
        const want = naiveX0(images, labels, dim, xt, levels[s].alphaBar, prompts[cols.prompt[r]].condition, g);
        for (let k = 0; k < dim; k++) assert.ok(Math.abs(cols.image![r * dim + k] - want[k]) < 1e-4, `g=${g} step ${s} row ${r}`);
      }
    });
  }
});

test("closedFormDenoiser: ᾱ = 1 gives the nearest image of the class, ᾱ = 0 the class mean", () => {
  const rng = random(5);
  const n = 20, dim = 10;
  const images = new Float32Array(n * dim).map(() => rng.next());
  const labels = Int32Array.from({ length: n }, (_, i) => i % 2);
  const den = closedFormDenoiser({ images, labels, dim });
  const xt = new Float32Array(2 * dim);
  for (let k = 0; k < dim; k++) {
    xt[k] = 2 * images[4 * dim + k] - 1 + 0.01; // near image 4 (class 0)
    xt[dim + k] = 2 * images[4 * dim + k] - 1; // image 4, but asked for class 1
  }
  const out = new Float32Array(2 * dim);
  den.predict(xt, { t: 0, alphaBar: 1 }, Int32Array.from([0, 1]), out);
  for (let k = 0; k < dim; k++) assert.ok(Math.abs(out[k] - (2 * images[4 * dim + k] - 1)) < 1e-6);
  assert.ok(labels[4] === 0);
  den.predict(xt, { t: 999, alphaBar: 0 }, Int32Array.from([1, -1]), out);
  for (let k = 0; k < dim; k++) {
    let cls = 0, all = 0;
    for (let j = 0; j < n; j++) {
      all += 2 * images[j * dim + k] - 1;
      if (labels[j] === 1) cls += 2 * images[j * dim + k] - 1;
    }
    assert.ok(Math.abs(out[k] - cls / 10) < 1e-6);
    assert.ok(Math.abs(out[dim + k] - all / n) < 1e-6);
  }
  assert.throws(() => den.predict(xt, { t: 500, alphaBar: 0.5 }, Int32Array.from([0, 7]), out), (e: unknown) => e instanceof OptionError);
  assert.throws(() => den.predict(xt.subarray(1), { t: 500, alphaBar: 0.5 }, Int32Array.from([0, 1]), out));
});

// ---- MNIST diffusion -------------------------------------------------------------

test("mnistDiffusion: a step table per step, stable instances, reproducible from the seed", async () => {
  const opts = { prompts: [3, "any"] as Array<number | "any">, instancesPerPrompt: 2, steps: 4, seed: 1, digitsPerClass: 100 };
  const steps: StepColumns[] = [];
  for await (const table of mnistDiffusion(opts)) steps.push(readStepTable(table));
  assert.is(steps.length, 4);
  steps.forEach((cols, s) => {
    assert.equal([...cols.instance], [0, 1, 2, 3]);
    assert.equal(cols.prompts, ["digit 3", "any digit"]);
    assert.equal([...cols.prompt], [0, 0, 1, 1]);
    assert.equal([...cols.step], [s, s, s, s]);
    assert.equal(cols.imageShape, [1, 28, 28]);
    assert.is(cols.image!.length, 4 * D);
    for (const v of cols.image!) assert.ok(v >= 0 && v <= 1);
  });
  assert.equal([...steps[0].timestep!], [999, 999, 999, 999]);
  assert.is(steps[3].timestep![0], 249);

  const all = readStepTable(await mnistTrajectories(opts));
  assert.is(all.step.length, 16);
  assert.equal(all.image, Float32Array.from(steps.flatMap((c) => [...c.image!])));
  const again = readStepTable(await mnistTrajectories(opts));
  assert.equal(again.image, all.image);
  const other = readStepTable(await mnistTrajectories({ ...opts, seed: 2 }));
  const last = rowsOfStep(all, 3)[0];
  assert.ok(rms(all.image!, last, other.image!, last) > 0.01);
  // Stochastic sampling (η = 1) is reproducible too.
  const s1 = readStepTable(await mnistTrajectories({ ...opts, scheduler: ddim({ eta: 1 }) }));
  const s2 = readStepTable(await mnistTrajectories({ ...opts, scheduler: ddim({ eta: 1 }) }));
  assert.equal(s1.image, s2.image);
  assert.not.equal(s1.image, all.image);
});

test("mnistDiffusion: conditional samples memorise a training digit of the class; step 0 is the class mean", async () => {
  const digits = await loadMnist();
  const { means, global } = classMeans(digits);
  const cols = readStepTable(await mnistTrajectories({ prompts: [3, 7, "any"], instancesPerPrompt: 3, steps: 8, seed: 11 }));
  const prompts = [3, 7, -1];
  let centroidHits = 0;
  for (const r of rowsOfStep(cols, 7)) {
    const want = prompts[cols.prompt[r]];
    const nn = nearest(digits, cols.image!, r);
    assert.ok(nn.dist < 0.01, `final x̂0 of row ${r} is ${nn.dist} (RMS) from the nearest training digit`);
    if (want === -1) continue;
    assert.is(nn.label, want);
    let best = Infinity, cls = -1;
    for (let c = 0; c < 10; c++) {
      const d = rms(cols.image!, r, means, c);
      if (d < best) (best = d), (cls = c);
    }
    if (cls === want) centroidHits++;
  }
  assert.ok(centroidHits >= 4, `nearest class mean agrees for ${centroidHits}/6`);
  for (const r of rowsOfStep(cols, 0)) {
    const want = prompts[cols.prompt[r]];
    const d = want === -1 ? rms(cols.image!, r, global, 0) : rms(cols.image!, r, means, want);
    assert.ok(d < 0.02, `step 0 x̂0 of row ${r} is ${d} (RMS) from its class mean`);
    assert.ok(nearest(digits, cols.image!, r).dist > 5 * d);
  }
});

test("mnistDiffusion: unconditional instances branch into several classes", async () => {
  const digits = await loadMnist();
  const cols = readStepTable(await mnistTrajectories({ prompts: ["any"], instancesPerPrompt: 12, steps: 6, seed: 4 }));
  const classes = new Set(rowsOfStep(cols, 5).map((r) => nearest(digits, cols.image!, r).label));
  assert.ok(classes.size >= 4, `only ${classes.size} classes: ${[...classes]}`);
});

test("mnistDiffusion: guidance > 1 and the linear schedule give valid digits of the class", async () => {
  const digits = mnistSubset(await loadMnist(), 200);
  const cols = readStepTable(
    await mnistTrajectories({ prompts: [1, 8], instancesPerPrompt: 2, steps: 5, guidance: 3, schedule: "linear", digitsPerClass: 200, seed: 2 }),
  );
  for (const v of cols.image!) assert.ok(v >= 0 && v <= 1 && Number.isFinite(v));
  for (const r of rowsOfStep(cols, 4)) {
    const nn = nearest(digits, cols.image!, r);
    assert.is(nn.label, [1, 8][cols.prompt[r]]);
    assert.ok(nn.dist < 0.05, `guided final x̂0 is ${nn.dist} (RMS) from a training digit`);
  }
});

test("schedules: scaled-linear is Stable Diffusion's; Karras sigmas run from σmax to σmin at fractional timesteps", () => {
  const sl = scaledLinearAlphaBar();
  assert.ok(Math.abs(sl[0] - (1 - 0.00085)) < 1e-12);
  let p = 1;
  for (let i = 0; i < 1000; i++) p *= 1 - (Math.sqrt(0.00085) + ((Math.sqrt(0.012) - Math.sqrt(0.00085)) * i) / 999) ** 2;
  assert.ok(Math.abs(sl[999] - p) < 1e-12);
  assert.is(noiseSchedule("scaled-linear").name, "scaled-linear");

  const schedule = noiseSchedule("linear");
  const sigma = (ab: number) => Math.sqrt((1 - ab) / ab);
  const levels = euler().levels(schedule, 10);
  assert.is(levels.length, 11);
  assert.ok(Math.abs(sigma(levels[0].alphaBar) - sigma(schedule.alphaBar[999])) < 1e-9);
  assert.ok(Math.abs(sigma(levels[9].alphaBar) - sigma(schedule.alphaBar[0])) < 1e-9);
  assert.equal(levels[10], { t: -1, alphaBar: 1 });
  assert.ok(Math.abs(levels[0].t - 999) < 1e-9 && Math.abs(levels[9].t) < 1e-9);
  for (let i = 1; i < 10; i++) assert.ok(levels[i].alphaBar > levels[i - 1].alphaBar && levels[i].t < levels[i - 1].t);
  assert.ok(levels.some((l) => l.t !== Math.round(l.t)));
  // The fractional t interpolates log σ: σ at t between its neighbours' σ.
  const l = levels[4], lo = Math.floor(l.t);
  const w = l.t - lo;
  const logSigma = (1 - w) * Math.log(sigma(schedule.alphaBar[lo])) + w * Math.log(sigma(schedule.alphaBar[lo + 1]));
  assert.ok(Math.abs(logSigma - Math.log(sigma(l.alphaBar))) < 1e-9);
  assert.throws(() => ddim({ eta: -1 }), (e: unknown) => e instanceof OptionError);
  assert.throws(() => euler({ rho: 0 }), (e: unknown) => e instanceof OptionError);
});

test("every scheduler and schedule reaches the data manifold: the final x̂0 is a training digit of the prompt's class", async () => {
  const digits = mnistSubset(await loadMnist(), 100);
  const schedulers = [ddim(), ddim({ eta: 1 }), ddpm(), euler(), euler({ ancestral: true })];
  for (const scheduler of schedulers) {
    for (const schedule of ["cosine", "linear", "scaled-linear"] as const) {
      const opts = { prompts: [2, "any"] as MnistPrompt[], instancesPerPrompt: 2, steps: 12, seed: 5, digitsPerClass: 100, scheduler, schedule };
      const cols = readStepTable(await mnistTrajectories(opts));
      for (const r of rowsOfStep(cols, 11)) {
        const nn = nearest(digits, cols.image!, r);
        const what = `${scheduler.name}/${schedule} row ${r}`;
        assert.ok(nn.dist < 0.02, `${what}: final x̂0 is ${nn.dist} (RMS) from the nearest training digit`);
        if (cols.prompt[r] === 0) assert.is(nn.label, 2, what);
      }
    }
  }
});

test("mnistDiffusion: an AbortSignal stops it with CancelledError", async () => {
  const before = new AbortController();
  before.abort();
  await rejectsWith(() => mnistTrajectories({ signal: before.signal }), CancelledError);

  const during = new AbortController();
  const gen = mnistDiffusion({ prompts: [0], instancesPerPrompt: 1, steps: 5, signal: during.signal })[Symbol.asyncIterator]();
  assert.ok(!(await gen.next()).done);
  during.abort();
  await rejectsWith(() => gen.next(), CancelledError);

  const timer = new AbortController();
  setTimeout(() => timer.abort(), 0);
  const e = await rejectsWith(() => mnistTrajectories({ prompts: [0], instancesPerPrompt: 1, steps: 50, signal: timer.signal }), CancelledError);
  assert.is((e as CancelledError).code, "cancelled");
});

test("mnistDiffusion: bad options give OptionError", async () => {
  const bad: object[] = [
    { prompts: [10] }, { prompts: [-1] }, { prompts: [2.5] }, { prompts: ["three"] }, { prompts: [] }, { prompts: [3, 3] },
    { steps: 0 }, { steps: 1.5 }, { steps: 1001 }, { instancesPerPrompt: 0 }, { guidance: Number.NaN },
    { guidance: -1 }, { schedule: "quadratic" }, { seed: 0.5 }, { digitsPerClass: 0 },
  ];
  for (const options of bad) {
    assert.throws(() => mnistDiffusion(options), (e: unknown) => e instanceof OptionError && e.code === "invalid-option", JSON.stringify(options));
    await rejectsWith(() => mnistTrajectories(options), OptionError);
  }
});

test.run();
