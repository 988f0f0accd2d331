// The plugin API as a user meets it: an Affinity, a Kernel, a Loss, an Optimizer and a Layout written
// from scratch against the public entry alone, run through embedSteps, evolve and checkpoints.
import { firstValueFrom, from, toArray } from "rxjs";
import { test } from "uvu";
import * as assert from "uvu/assert";
import {
  type Affinity,
  alignment,
  autoScale,
  checkGradient,
  displacement,
  embedSteps,
  evolve,
  type Guide,
  IncrementalEmbedder,
  type Kernel,
  type Layout,
  type Loss,
  OptionError,
  type Optimizer,
  random,
  readFrameTable,
  readGuides,
  rectilinear,
  semantic,
  studentT,
  symmetrize,
  tablesPerStep,
  stepTable,
  type StepTable,
  weightAt,
  type Weight,
} from "../mod.ts";

/** How often each plugin was called. */
function counters() {
  return { affinity: 0, hinted: 0, kernelGradient: 0, kl: 0, loss: 0, update: 0, place: 0, display: 0, guides: 0 };
}
type Counters = ReturnType<typeof counters>;

/** Affinity: a uniform k-nearest-neighbour graph (UMAP-like), symmetrised into a P summing to 1. */
function knnAffinity(k: number, calls: Counters): Affinity {
  return {
    name: "knn",
    compute(features, n, dim, hint) {
      calls.affinity++;
      if (hint) calls.hinted++;
      const kk = Math.min(k, n - 1), neighbors = new Int32Array(n * kk);
      for (let i = 0; i < n; i++) {
        const d2 = Array.from({ length: n }, (_, j) => {
          let s = 0;
          for (let c = 0; c < dim; c++) s += (features[i * dim + c] - features[j * dim + c]) ** 2;
          return [j === i ? Infinity : s, j] as const;
        }).sort((a, b) => a[0] - b[0]);
        for (let a = 0; a < kk; a++) neighbors[i * kk + a] = d2[a][1];
      }
      return symmetrize(n, kk, neighbors, new Float64Array(n * kk).fill(1 / kk));
    },
  };
}

/**
 * Kernel: heavy-tailed t-SNE's w = (1 + d²/α)^−α (α = 1 is t-SNE's), exact.
 * ∂KL/∂y_i = 4 Σ_j (ex·p_ij − q_ij) w_ij^(1/α) (y_i − y_j).
 */
function heavyTailed(alpha: number, calls: Counters): Kernel {
  const w = (y: Float64Array, i: number, j: number) => 1 + ((y[2 * i] - y[2 * j]) ** 2 + (y[2 * i + 1] - y[2 * j + 1]) ** 2) / alpha;
  const z = (y: Float64Array, n: number) => {
    let sum = 0;
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) sum += 2 * w(y, i, j) ** -alpha;
    return sum;
  };
  return {
    name: "heavy-tailed",
    klGradient(y, P, exaggeration, weight, grad) {
      calls.kernelGradient++;
      const n = P.n, Z = z(y, n);
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) {
          if (j === i) continue;
          const b = w(y, i, j), f = (4 * weight * b ** (-alpha - 1)) / Z; // repulsion: 4 q_ij w^(1/α)
          grad[2 * i] -= f * (y[2 * i] - y[2 * j]);
          grad[2 * i + 1] -= f * (y[2 * i + 1] - y[2 * j + 1]);
        }
        for (let e = P.rowPtr[i]; e < P.rowPtr[i + 1]; e++) {
          const j = P.col[e], f = (4 * weight * exaggeration * P.val[e]) / w(y, i, j);
          grad[2 * i] += f * (y[2 * i] - y[2 * j]);
          grad[2 * i + 1] += f * (y[2 * i + 1] - y[2 * j + 1]);
        }
      }
    },
    kl(y, P) {
      calls.kl++;
      const Z = z(y, P.n);
      let kl = 0;
      for (let i = 0; i < P.n; i++) {
        for (let e = P.rowPtr[i]; e < P.rowPtr[i + 1]; e++) {
          const p = P.val[e];
          if (p > 0) kl += p * Math.log(p * Z * w(y, i, P.col[e]) ** alpha);
        }
      }
      return kl;
    },
  };
}

/** Loss: holds each step's mean free coordinate at 0, (w/2)·Σ_t m_t² (for layouts whose free coordinate does not wrap). */
function centring(weight: Weight, calls: Counters): Loss {
  const g = new Float64Array(2);
  const mean = (ctx: Parameters<Loss["value"]>[0], k: number) => {
    const s = ctx.steps[k];
    let sum = 0;
    for (let i = 0; i < s.n; i++) sum += ctx.layout.free(s.y[2 * i], s.y[2 * i + 1], g);
    return sum / s.n;
  };
  return {
    name: "centring",
    gradient(ctx) {
      calls.loss++;
      const w = weightAt(weight, ctx.progress);
      ctx.steps.forEach((s, k) => {
        if (!ctx.active[k]) return;
        const h = (w * mean(ctx, k)) / s.n;
        for (let i = 0; i < s.n; i++) {
          ctx.layout.free(s.y[2 * i], s.y[2 * i + 1], g);
          s.grad[2 * i] += h * g[0];
          s.grad[2 * i + 1] += h * g[1];
        }
      });
    },
    value(ctx) {
      const w = weightAt(weight, ctx.progress);
      return ctx.steps.reduce((sum, _, k) => sum + (w / 2) * mean(ctx, k) ** 2, 0);
    },
  };
}

/** Optimizer: heavy-ball momentum without gains, its velocity kept in the step (so checkpoints carry it). */
function heavyBall(calls: Counters): Optimizer {
  return {
    name: "heavy-ball",
    update(s, iteration) {
      calls.update++;
      const momentum = iteration < 10 ? 0.5 : 0.8, lr = Math.max(s.n / 4, 50);
      for (let i = 0; i < s.y.length; i++) {
        s.velocity[i] = momentum * s.velocity[i] - lr * s.grad[i];
        s.y[i] += s.velocity[i];
        s.grad[i] = 0;
      }
    },
  };
}

/**
 * Layout: columns x = gap·t already in the optimisation frame, which is also the display frame;
 * lane coordinate x, free coordinate y / scale.
 */
function columns(calls: Counters, scale = 20): Layout {
  const gap = 3 * scale;
  return {
    name: "columns",
    circular: false,
    native: ["column", "height"],
    scale,
    fit: (n) => columns(calls, autoScale(n)),
    arrange() {
      return this;
    },
    laneCenter: (t) => gap * t,
    lane(x, _y, g) {
      g[0] = 1;
      g[1] = 0;
      return x;
    },
    free(_x, y, g) {
      g[0] = 0;
      g[1] = 1 / scale;
      return y / scale;
    },
    place(t, f, d, out) {
      calls.place++;
      out[0] = gap * t + d;
      out[1] = f * scale;
    },
    display(x, y, _t, out) {
      calls.display++;
      out[0] = x;
      out[1] = y;
      out[2] = x;
      out[3] = y / scale;
    },
    guides(steps, span) {
      calls.guides++;
      return steps.map((t): Guide => ({ step: t, shape: "line", x1: gap * t, y1: span.min * scale, x2: gap * t, y2: span.max * scale }));
    },
  };
}

const DIM = 6, STEPS = 4, N = 12;

/** Three clusters that separate as the steps go on; instance i has prompt i % 3. */
function steps(): StepTable {
  const rng = random(4);
  const centres = Array.from({ length: 3 }, () => Float32Array.from({ length: DIM }, () => 5 * rng.normal()));
  const rows = STEPS * N;
  return stepTable({
    instance: Int32Array.from({ length: rows }, (_, r) => r % N),
    prompt: Int32Array.from({ length: rows }, (_, r) => r % 3),
    prompts: ["a", "b", "c"],
    step: Int32Array.from({ length: rows }, (_, r) => Math.floor(r / N)),
    features: Float32Array.from({ length: rows * DIM }, (_, e) => {
      const r = Math.floor(e / DIM);
      return (centres[r % 3][e % DIM] * (Math.floor(r / N) + 1)) / STEPS + rng.normal();
    }),
    featureDim: DIM,
  });
}

/** Every user plugin at once, counting into `calls`. */
function plugins(calls: Counters) {
  return {
    layout: columns(calls),
    affinity: knnAffinity(3, calls),
    losses: [semantic({ kernel: heavyTailed(0.5, calls) }), displacement(), alignment(), centring(10, calls)],
    optimizer: heavyBall(calls),
  };
}

const positions = (e: IncrementalEmbedder) => e.embedding.steps.map((s) => Array.from(s.y));

test("embedSteps: each user plugin is used in place of the built-in one and changes the result", async () => {
  const table = steps(), base = { layout: rectilinear(), iterations: 60, seed: 1 };
  const xy = async (options: Parameters<typeof embedSteps>[1]) => {
    const f = readFrameTable((await embedSteps(table, options)).frame);
    return [...f.x, ...f.y];
  };
  const reference = await xy(base);
  const cases: [keyof Counters, (c: Counters) => Parameters<typeof embedSteps>[1]][] = [
    ["affinity", (c) => ({ ...base, affinity: knnAffinity(3, c) })],
    ["kernelGradient", (c) => ({ ...base, losses: [semantic({ kernel: heavyTailed(0.5, c) }), displacement(), alignment()] })],
    ["loss", (c) => ({ ...base, losses: [semantic(), displacement(), alignment(), centring(10, c)] })],
    ["update", (c) => ({ ...base, optimizer: heavyBall(c) })],
    ["display", (c) => ({ ...base, layout: columns(c) })],
  ];
  for (const [counter, options] of cases) {
    const calls = counters();
    const result = await xy(options(calls));
    assert.ok(calls[counter] > 0, `${counter} was called`);
    assert.ok(result.every(Number.isFinite));
    assert.not.equal(result, reference, `${counter} changed the result`);
  }

  const calls = counters();
  const all = await embedSteps(table, { ...plugins(calls), iterations: 60, seed: 1 });
  assert.equal([calls.affinity, calls.loss, calls.update], [STEPS, 60, 60 * STEPS]);
  assert.is(calls.kernelGradient, 60 * STEPS);
  const frame = readFrameTable(all.frame);
  assert.is(frame.layout, "columns");
  assert.equal(Object.keys(frame.native), ["column", "height"]);
  assert.equal(readGuides(all.frame)!.map((g) => g.step), [0, 1, 2, 3]);
  // The columns layout displays the optimisation frame as it is: step t is drawn around x = gap·t.
  const scale = all.embedding.layout.scale, gap = 3 * scale;
  const strays = [0, 1, 2, 3].map((t) => frame.x.reduce((sum, x, r) => sum + (frame.step[r] === t ? Math.abs(x - gap * t) : 0), 0) / N);
  assert.ok(strays.every((d) => d < scale), `mean distances from the lanes ${strays}`);
  assert.ok(all.quality.meanTrustworthiness > 0.7, `trustworthiness ${all.quality.meanTrustworthiness}`);
});

test("evolve: frames stream with every user plugin, each called", async () => {
  const calls = counters();
  const frames = await firstValueFrom(
    from(tablesPerStep(steps())).pipe(evolve({ ...plugins(calls), iterationsPerStep: 15, polish: 15, seed: 2 }), toArray()),
  );
  const last = readFrameTable(frames[frames.length - 1]);
  assert.ok(last.update!.final);
  assert.equal(frames.slice(0, -1).flatMap((f) => readFrameTable(f).update!.steps), [0, 1, 2, 3]);
  assert.is(last.layout, "columns");
  assert.is(calls.affinity, STEPS);
  assert.is(calls.hinted, STEPS - 1); // each later step gets the previous step's graph
  assert.is(calls.loss, STEPS * 15 + 15);
  // Each new step alone is optimised, then all of them in the polish pass.
  assert.is(calls.update, STEPS * 15 + STEPS * 15);
  assert.ok(calls.kernelGradient > 0 && calls.kl > 0 && calls.place >= STEPS * N && calls.guides >= frames.length);
});

test("checkpoint: a run with user plugins restores exactly; the optimiser and layout must be passed again", async () => {
  const tables = tablesPerStep(steps()), options = { iterationsPerStep: 10, polish: 10, seed: 3 };
  const reference = new IncrementalEmbedder({ ...plugins(counters()), ...options });
  for (const t of tables) {
    reference.push(t);
    await reference.update();
  }
  await reference.finish();

  const first = new IncrementalEmbedder({ ...plugins(counters()), ...options });
  for (const t of tables.slice(0, 2)) {
    first.push(t);
    await first.update();
  }
  const bytes = await first.checkpoint();
  first.dispose();
  assert.throws(() => IncrementalEmbedder.restore(bytes), (err: unknown) => err instanceof OptionError && /optimiser "heavy-ball"/.test(err.message));
  assert.throws(
    () => IncrementalEmbedder.restore(bytes, { optimizer: heavyBall(counters()) }),
    (err: unknown) => err instanceof OptionError && /columns layout/.test(err.message),
  );
  const calls = counters();
  const restored = IncrementalEmbedder.restore(bytes, plugins(calls));
  for (const t of tables.slice(2)) {
    restored.push(t);
    await restored.update();
  }
  await restored.finish();
  assert.equal(positions(restored), positions(reference));
  assert.is(calls.affinity, 3); // steps 1 (buffered at the checkpoint), 2 and 3
  assert.ok(calls.update > 0 && calls.loss > 0 && calls.kernelGradient > 0);
});

test("checkGradient passes for the user loss and for the semantic loss with the user kernel, in the user layout", async () => {
  for (const layout of [columns(counters()), rectilinear()]) {
    const own = await checkGradient(centring((p) => 1 + p, counters()), layout);
    assert.ok(own.maxRelativeError < 1e-6 && own.inactiveUntouched, `centring: ${own.maxRelativeError}`);
    const kernel = await checkGradient(semantic({ kernel: heavyTailed(0.5, counters()) }), layout);
    assert.ok(kernel.maxRelativeError < 1e-6, `heavy-tailed kernel: ${kernel.maxRelativeError}`);
  }
});

test("the quality report's KL is computed with the embedding's own kernel, a user kernel", async () => {
  const calls = counters(), kernel = heavyTailed(0.5, calls);
  const result = await embedSteps(steps(), { layout: rectilinear(), losses: [semantic({ kernel }), displacement(), alignment()], iterations: 30 });
  assert.is(result.embedding.kernel, kernel);
  const builtIn = studentT();
  result.embedding.steps.forEach((s, k) => {
    assert.is(result.quality.steps[k].kl, kernel.kl(s.y, s.P));
    assert.ok(Math.abs(result.quality.steps[k].kl! - builtIn.kl(s.y, s.P)) > 1e-3);
  });
});

test.run();
