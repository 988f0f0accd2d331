import { test } from "uvu";
import * as assert from "uvu/assert";
import { decode } from "fast-png";
import { from } from "rxjs";
import { stepTable } from "../src/data/step_table.ts";
import { collectSteps } from "../src/sources/collect.ts";
import type { Encoder } from "../src/encoders/encoder.ts";
import { commitment } from "../src/explain/commitment.ts";
import { concepts } from "../src/explain/concepts.ts";
import type { Saliencies } from "../src/explain/saliency.ts";
import { radial } from "../src/layouts/radial.ts";
import { lineageTree } from "../src/lineage/lineage.ts";
import { pixels } from "../src/encoders/pixels.ts";
import { viewerApp, type ViewerAssets } from "../src/viewer/app.ts";
import { runLive } from "../src/viewer/run_live.ts";
import { type ExplanationFacts, ViewerSession } from "../src/viewer/viewer_session.ts";

/** Instance i at step s is one-hot at pixel classes[i][s] (2×2 images, 4 classes). */
function tables(classes: number[][]) {
  const n = classes.length, T = classes[0].length;
  return Array.from({ length: T }, (_, s) => {
    const image = new Float32Array(n * 4), features = new Float32Array(n * 4);
    classes.forEach((c, i) => {
      image[i * 4 + c[s]] = 1;
      features[i * 4 + c[s]] = 1 + 0.1 * i;
    });
    return stepTable({
      instance: Int32Array.from({ length: n }, (_, i) => i), prompt: Int32Array.from({ length: n }, (_, i) => (i < n / 2 ? 0 : 1)),
      prompts: ["any", "digit 1"], step: new Int32Array(n).fill(s), image, imageShape: [1, 2, 2], features, featureDim: 4,
    });
  });
}
const whole = (parts: ReturnType<typeof tables>) => collectSteps((async function* () {
  yield* parts;
})());
const brightest: Encoder = { name: "brightest", input: "image", encode: ({ values, dim }) => ({ features: Float32Array.from(values, (v) => 10 * v), dim }) };
const CLASSES = [[2, 2, 2, 2], [0, 1, 1, 1], [1, 0, 1, 0], [3, 3, 1, 1]];
const assets: ViewerAssets = { "/": { type: "text/html", body: "" }, "/viewer.js": { type: "text/javascript", body: "" }, "/viewer.css": { type: "text/css", body: "" } };

test("viewer: /explain says the hovered point's commitment, concepts and AUCs; /saliency draws its map", async () => {
  const table = await whole(tables(CLASSES));
  const session = new ViewerSession();
  const c = await commitment(table, { classifier: brightest });
  const saliency: Saliencies = {
    shape: [1, 2, 2], masksPerSecond: 1, perStep: [],
    rows: [{ instance: 1, prompt: "any", step: 2, timestep: 0, saliency: Float32Array.of(1, -1, 0, 0.5), ms: 1, curves: { insertion: { scores: new Float64Array(2), auc: 0.9 }, deletion: { scores: new Float64Array(2), auc: 0.3 }, stages: 1, evaluations: 4 } }],
  };
  session.setExplanations({ commitment: c, saliency, concepts: concepts(table, { baseline: "any" }) });
  const app = viewerApp(session, assets);
  const get = (path: string) => app(new Request(`http://127.0.0.1${path}`));
  const r = get("/explain?instance=1&step=2");
  assert.is(r.status, 200);
  const facts = (await r.json()) as ExplanationFacts;
  assert.equal({ ...facts, concepts: undefined }, { instance: 1, step: 2, commitmentStep: 1, finalClass: "1", classAtStep: "1", confidence: facts.confidence, saliency: true, insertionAuc: 0.9, deletionAuc: 0.3, concepts: undefined });
  assert.ok(facts.confidence! > 0.99);
  assert.ok("digit 1" in facts.concepts!);
  const png = decode(new Uint8Array(await get("/saliency?instance=1&step=2").arrayBuffer()));
  assert.equal([png.width, png.height], [2, 2]);
  assert.equal(Array.from(png.data.slice(0, 6)), [255, 0, 0, 0, 0, 255]); // +1 red, −1 blue
  assert.is(get("/saliency?instance=0&step=2").status, 404);
  assert.is(get("/explain?instance=9&step=2").status, 404);
  assert.is(get("/explain?instance=x").status, 400);
  app.close();
});

test("viewer: runLive with explain keeps the session's commitment, class scores, concepts and level current as steps arrive", async () => {
  const session = new ViewerSession();
  await runLive(from(tables(CLASSES)), session, { encoders: [pixels()], layouts: [radial()], tree: false, iterations: 5, explain: { classifier: brightest, baseline: "any" } });
  assert.is(session.explanation(2, 3)!.commitmentStep, 3);
  const facts = session.explanation(0, 0)!;
  assert.is(facts.classAtStep, "2");
  // One-hot images scored ×10: class 2 has e^10 against 1 for each of the other three.
  assert.equal(facts.classScores!.map((c) => c.class), ["2", "0", "1"]);
  assert.ok(Math.abs(facts.classScores![0].probability - Math.exp(10) / (Math.exp(10) + 3)) < 1e-6);
  // Concepts per step from the pixel features: "digit 1" (instances 2, 3) against "any" (0, 1), 1 at its own mean.
  const at = (i: number, s: number) => session.explanation(i, s)!.concepts!["digit 1"];
  for (const s of [0, 1, 2, 3]) assert.ok(Math.abs((at(2, s) + at(3, s)) / 2 - 1) < 1e-6, `step ${s}: the concept's mean projects to 1`);
  assert.ok(Math.abs((at(0, 1) + at(1, 1)) / 2) < 1e-6, "the baseline's mean projects to 0");
  // Level against the last step: instance 0 never changes (no first distance to be relative to); instance 2 lights pixels 1, 0, 1, 0.
  assert.equal(facts.level, { ssim: 1, relative: NaN, against: 3 });
  assert.equal([0, 1, 2, 3].map((s) => session.explanation(2, s)!.level!.relative), [1, 0, 1, 0]);
  assert.is(session.explanation(2, 1)!.level!.ssim, 1);
  assert.ok(session.explanation(2, 2)!.level!.ssim < 0.5, "another pixel lit: far from the final image");
});

test("viewer: the tree event marks each node by the share of its instances committed, and again as the commitment grows", async () => {
  const session = new ViewerSession();
  await runLive(from(tables(CLASSES)), session, { encoders: [pixels()], layouts: [], tree: true, iterations: 5, explain: { classifier: brightest } });
  let tree: { nodes: { step: number[]; size: number[]; committed?: (number | null)[] } } | undefined;
  session.subscribe((e) => e.event === "tree" && (tree = e.data as typeof tree));
  const { step, committed } = tree!.nodes;
  assert.ok(committed, "committed shares sent");
  assert.is(committed![0], null, "the root (noise) is not marked");
  // Commitment steps 0, 1, 3, 2 (CLASSES): committed at step s are the instances whose step ≤ s.
  const at = (s: number) => committed!.filter((_, i) => step[i] === s);
  // Instances committed at step s over its nodes (share × size), out of 4.
  const share = (s: number) => step.reduce((sum: number, t, i) => sum + (t === s ? committed![i]! * tree!.nodes.size[i] : 0), 0) / 4;
  assert.equal([0, 1, 2, 3].map(share), [0.25, 0.5, 0.75, 1]);
  assert.equal(at(3), [1, 1, 1, 1], "one leaf per instance, all committed at the end");

  // A tree first, the commitment after it: the tree is sent again, marked.
  const later = new ViewerSession();
  const events: unknown[] = [];
  later.subscribe((e) => e.event === "tree" && events.push(e.data));
  const table = await whole(tables(CLASSES));
  later.setTree(lineageTree(table));
  assert.not.ok("committed" in (events[0] as { nodes: object }).nodes, "no commitment yet: no marks");
  later.setExplanations({ commitment: await commitment(table, { classifier: brightest }) });
  assert.is(events.length, 2);
  assert.equal((events[1] as NonNullable<typeof tree>).nodes.committed!.filter((_, i) => step[i] === 3), [1, 1, 1, 1]);
});

test.run();
