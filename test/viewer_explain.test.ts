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

test("viewer: runLive with explain keeps the session's commitment current as steps arrive", async () => {
  const session = new ViewerSession();
  await runLive(from(tables(CLASSES)), session, { encoders: [pixels()], layouts: [radial()], tree: false, iterations: 5, explain: { classifier: brightest } });
  assert.is(session.explanation(2, 3)!.commitmentStep, 3);
  assert.is(session.explanation(0, 0)!.classAtStep, "2");
});

test.run();
