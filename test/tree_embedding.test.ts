/**
 * The estimator face (issue 18): fit, transform, partialFit, save and load.
 * Transform places new instances against the fixed fitted points of their
 * step; the fitted tree does not move.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { tableToIPC } from "apache-arrow";
import {
  DimensionError,
  type EmbeddingSpec,
  IncrementalEmbedder,
  OptionError,
  random,
  readFrameTable,
  readSpec,
  type StepTable,
  stepTable,
  tablesPerStep,
  TreeEmbedding,
} from "../mod.ts";
import { anchoredSemantic } from "../src/embed/losses/anchored_semantic.ts";
import { ReferenceField } from "../src/embed/kernel/reference_field.ts";
import { stepState } from "../src/embed/state/state.ts";
import { medianFree } from "../src/embed/run/transform.ts";

/**
 * T steps of n instances, 4 prompts whose clusters separate as the steps go
 * on; `keep` picks instances (ids stay those of the whole set).
 */
function generations(T: number, n: number, dim: number, seed: number, keep: (id: number) => boolean = () => true): StepTable {
  const rng = random(seed);
  const centres = Array.from({ length: 4 }, () => Float32Array.from({ length: dim }, () => 5 * rng.normal()));
  const base = Float32Array.from({ length: n * dim }, () => rng.normal());
  const noise = Float32Array.from({ length: T * n * dim }, () => 0.3 * rng.normal());
  const ids = Array.from({ length: n }, (_, i) => i).filter(keep);
  const rows = T * ids.length, features = new Float32Array(rows * dim);
  let r = 0;
  for (let t = 0; t < T; t++) {
    for (const i of ids) {
      for (let d = 0; d < dim; d++) features[r * dim + d] = centres[i % 4][d] * (t + 1) / T + base[i * dim + d] + noise[(t * n + i) * dim + d];
      r++;
    }
  }
  return stepTable({
    instance: Int32Array.from({ length: rows }, (_, k) => ids[k % ids.length]),
    prompt: Int32Array.from({ length: rows }, (_, k) => ids[k % ids.length] % 4),
    prompts: ["p0", "p1", "p2", "p3"],
    step: Int32Array.from({ length: rows }, (_, k) => Math.floor(k / ids.length)),
    features,
    featureDim: dim,
  });
}

const T = 5, N = 160, DIM = 16;
/** The fitted instances (three in four) and the held-out ones, of every prompt. */
const fittedIds = (id: number) => Math.floor(id / 4) % 4 !== 3;
const SPEC: EmbeddingSpec = { version: 1, phases: [{ iterations: 60, exaggeration: 4 }, { iterations: 240 }] };

const frameBytes = (frame: Parameters<typeof tableToIPC>[0]) => Array.from(tableToIPC(frame, "file"));
/** Every column's values and the metadata (two tables built apart differ in their Arrow dictionary ids only). */
const frameContent = (frame: Parameters<typeof tableToIPC>[0]) => ({
  columns: frame.schema.fields.map((f) => [f.name, String(f.type), Array.from(frame.getChild(f.name)!.toArray() as ArrayLike<number>)]),
  prompts: readFrameTable(frame).prompts,
  metadata: [...frame.schema.metadata].sort(),
});

test("transform of instances already in the fit puts them where they were fitted, and leaves the fitted frame bit-identical", async () => {
  const tree = new TreeEmbedding(SPEC);
  const fitted = generations(T, N, DIM, 1, fittedIds);
  const { frame } = await tree.fit(fitted);
  const before = frameBytes(frame), positions = tree.embedding!.steps.map((s) => Array.from(s.y));
  const again = await tree.transform(fitted);
  assert.equal(frameBytes(frame), before, "the fitted frame changed");
  assert.equal(tree.embedding!.steps.map((s) => Array.from(s.y)), positions, "the fitted points moved");
  assert.is(readFrameTable(again.frame).x.length, readFrameTable(frame).x.length);
  // Displacement in the optimisation frame (where every lane has one scale), in lane scales.
  const scale = tree.embedding!.layout.scale;
  const perStep = tree.embedding!.steps.map((a, k) => {
    const b = again.embedding.steps[k], row = new Map<number, number>();
    b.instance.forEach((id, i) => row.set(id, i));
    return Array.from(a.instance, (id, i) => {
      const j = row.get(id)!;
      return Math.hypot(a.y[2 * i] - b.y[2 * j], a.y[2 * i + 1] - b.y[2 * j + 1]) / scale;
    });
  });
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
  const all = median(perStep.flat());
  console.log(`  in-fit instances transformed: median displacement ${all.toFixed(4)} lane scales (per step ${perStep.map((d) => median(d).toFixed(4)).join(", ")})`);
  assert.ok(all < 0.03, `median displacement ${all} lane scales`);
  for (const d of perStep) assert.ok(median(d) < 0.05, `a step's median displacement is ${median(d)} lane scales`);
  tree.dispose();
});

test("transform of held-out instances: the picture keeps about the quality of fitting them all together", async () => {
  const tree = new TreeEmbedding(SPEC);
  await tree.fit(generations(T, N, DIM, 1, fittedIds));
  const placed = await tree.transform(generations(T, N, DIM, 1, (id) => !fittedIds(id)));
  const all = await new TreeEmbedding(SPEC).fit(generations(T, N, DIM, 1));
  const q = placed.quality!, last = q.steps[T - 1];
  console.log(
    `  held out: trustworthiness ${q.meanTrustworthiness.toFixed(3)} (fit all ${all.quality.meanTrustworthiness.toFixed(3)}), ` +
      `prompt hit at the last step ${last.neighborhoodHit.toFixed(3)} (${all.quality.steps[T - 1].neighborhoodHit.toFixed(3)})`,
  );
  assert.is(readFrameTable(placed.frame).x.length, T * N / 4);
  assert.ok(q.meanTrustworthiness > all.quality.meanTrustworthiness - 0.03);
  assert.ok(last.neighborhoodHit > all.quality.steps[T - 1].neighborhoodHit - 0.05);
  // The new frame is drawn like the fitted one: same layout, same spec, prompts in the fitted order.
  const g = readFrameTable(placed.frame);
  assert.is(g.layout, "radial");
  assert.equal(g.prompts.slice(0, 4), readFrameTable(tree.frame!).prompts.slice(0, 4));
  assert.equal(readSpec(placed.frame), tree.spec);
  tree.dispose();
});

test("transform: steps the tree does not have, features of another size and bad options are typed errors", async () => {
  const tree = new TreeEmbedding(SPEC);
  await tree.fit(generations(3, 40, DIM, 2));
  const rejection = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e);
  const late = await rejection(tree.transform(generations(4, 8, DIM, 3)));
  assert.ok(late instanceof OptionError && /step 3 is not in the fitted tree/.test(late.message), String(late));
  assert.instance(await rejection(tree.transform(generations(2, 8, DIM + 1, 3))), DimensionError);
  const option = await rejection(tree.transform(generations(2, 8, DIM, 3), { perplexity: 0.5 }));
  assert.ok(option instanceof OptionError && /option "perplexity": must be a number > 1/.test(option.message), String(option));
  tree.dispose();
});

test("save and load round-trip: the same frame, to the bit, and the same transform", async () => {
  const tree = new TreeEmbedding({ ...SPEC, affinity: { type: "perplexity", metric: "cosine" } });
  await tree.fit(generations(T, 80, DIM, 4, fittedIds));
  const bytes = await tree.save();
  const loaded = TreeEmbedding.load(bytes);
  assert.equal(loaded.spec, tree.spec);
  assert.equal(frameContent(loaded.frame!), frameContent(tree.frame!));
  const held = generations(T, 80, DIM, 4, (id) => !fittedIds(id));
  const a = await tree.transform(held), b = await loaded.transform(held);
  assert.equal(frameContent(b.frame), frameContent(a.frame));
  // The checkpoint is the incremental embedder's: it restores there too.
  assert.is(IncrementalEmbedder.restore(bytes).embedding.steps.length, T);
  tree.dispose();
  loaded.dispose();
});

test("partialFit: a stream from nothing is the incremental embedder's; after a fit it continues the fitted tree", async () => {
  const table = generations(4, 40, DIM, 5);
  const [s0, s1, s2, s3] = tablesPerStep(table);
  const streamed = new TreeEmbedding(SPEC);
  for (const s of [s0, s1, s2]) await streamed.partialFit(s);
  const final = await streamed.finish();
  assert.is(readFrameTable(final).update!.final, true);
  assert.equal(streamed.embedding!.steps.map((s) => s.step), [0, 1, 2]);

  const tree = new TreeEmbedding(SPEC);
  await tree.fit(generations(3, 40, DIM, 5));
  const fittedStep2 = Array.from(tree.embedding!.steps[2].y);
  const update = await tree.partialFit(s3);
  assert.ok(update === undefined || readFrameTable(update).update!.steps.length === 0);
  const done = await tree.finish();
  assert.equal(tree.embedding!.steps.map((s) => s.step), [0, 1, 2, 3]);
  assert.is(readFrameTable(done).x.length, 4 * 40);
  // Step 3 started from each instance's fitted point at step 2 (a warm start), so its tracks stay aligned.
  const g = new Float64Array(2), layout = tree.embedding!.layout;
  const s3state = tree.embedding!.steps[3];
  let moved = 0;
  for (let i = 0; i < s3state.n; i++) {
    const a = layout.free(fittedStep2[2 * i], fittedStep2[2 * i + 1], g), b = layout.free(s3state.y[2 * i], s3state.y[2 * i + 1], g);
    moved += Math.abs(Math.atan2(Math.sin(a - b), Math.cos(a - b)));
  }
  assert.ok(moved / s3state.n < 0.5, `step 3 strays ${moved / s3state.n} rad from step 2`);
  streamed.dispose();
  tree.dispose();
});

test("the anchored semantic loss: its gradient is that of its value (finite differences), held steps untouched", () => {
  const rng = random(7), nRef = 30, n = 6;
  const reference = Float64Array.from({ length: 2 * nRef }, () => 3 * rng.normal());
  const y = Float64Array.from({ length: 2 * n }, () => 3 * rng.normal());
  const P = { n, rowPtr: Int32Array.from({ length: n + 1 }, (_, i) => 4 * i), col: Int32Array.from({ length: 4 * n }, () => Math.floor(rng.next() * nRef)), val: new Float64Array(4 * n).fill(0.25) };
  const s = stepState({ step: 0, n, instance: Int32Array.from({ length: n }, (_, i) => i), prompt: new Int32Array(n), features: new Float32Array(n), dim: 1, P, y });
  const held = stepState({ step: 1, n: 1, instance: Int32Array.of(0), prompt: Int32Array.of(0), features: new Float32Array(1), dim: 1, P, y: Float64Array.of(1, 1) });
  const anchors = new Map([[s, { P, reference, field: new ReferenceField(reference, nRef) }], [held, { P, reference, field: new ReferenceField(reference, nRef) }]]);
  const loss = anchoredSemantic({ anchors, weight: 1.7 });
  const ctx = { steps: [s, held], active: Uint8Array.of(1, 0), layout: undefined as never, progress: 1, exaggeration: 1 };
  loss.gradient(ctx);
  assert.equal(Array.from(held.grad), [0, 0]);
  const h = 1e-6;
  for (let c = 0; c < 2 * n; c++) {
    const keep = s.y[c];
    s.y[c] = keep + h;
    const up = loss.value(ctx);
    s.y[c] = keep - h;
    const down = loss.value(ctx);
    s.y[c] = keep;
    const numeric = (up - down) / (2 * h);
    assert.ok(Math.abs(numeric - s.grad[c]) < 1e-6 * Math.max(1, Math.abs(numeric)), `coordinate ${c}: ${s.grad[c]} vs ${numeric}`);
  }
});

test("the fitted points' field: group-wise Barnes-Hut close to the exact sum, on a blob and on a lane's ring", () => {
  const rng = random(8), n = 2000, m = 400;
  const blob = () => 20 * rng.normal();
  const ring = (k: number) => {
    const a = rng.next() * 2 * Math.PI, r = 100 + rng.normal();
    return k % 2 ? r * Math.sin(a) : r * Math.cos(a);
  };
  for (const draw of [blob, ring]) {
    const y = new Float64Array(2 * n), t = new Float64Array(2 * m);
    for (let k = 0; k < 2 * n; k += 2) [y[k], y[k + 1]] = [draw(0), draw(1)];
    for (let k = 0; k < 2 * m; k += 2) [t[k], t[k + 1]] = [draw(0), draw(1)];
    const a = new Float64Array(3 * m), b = new Float64Array(3 * m);
    new ReferenceField(y, n, { exactBelow: Infinity }).sum(t, m, a);
    new ReferenceField(y, n).sum(t, m, b);
    let z = 0, zMax = 0, error = 0, norm = 0;
    for (let i = 0; i < m; i++) {
      const r = Math.abs(a[3 * i + 2] - b[3 * i + 2]) / a[3 * i + 2];
      z += r * r;
      zMax = Math.max(zMax, r);
      error += (a[3 * i] - b[3 * i]) ** 2 + (a[3 * i + 1] - b[3 * i + 1]) ** 2;
      norm += a[3 * i] ** 2 + a[3 * i + 1] ** 2;
    }
    assert.ok(Math.sqrt(z / m) < 0.01 && zMax < 0.03, `Z: rms ${Math.sqrt(z / m)}, max ${zMax}`);
    assert.ok(Math.sqrt(error / norm) < 0.02, `relative force error ${Math.sqrt(error / norm)}`);
    // One point alone gets what it gets among others.
    const one = new Float64Array(2);
    const z0 = new ReferenceField(y, n).at(t[0], t[1], one);
    assert.ok(Math.abs(z0 - a[2]) / a[2] < 0.03);
  }
});

test("a circular median unwraps around ±π", () => {
  assert.ok(Math.abs(Math.abs(medianFree([3.1, -3.1, 3.0], true)) - 3.1) < 1e-9);
  assert.is(medianFree([1, 5, 2], false), 2);
});

test.run();
