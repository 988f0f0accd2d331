import { test } from "uvu";
import * as assert from "uvu/assert";
import { decode } from "fast-png";
import { closedFormJacobian } from "../src/geometry/closed_form_jacobian.ts";
import { closedFormDenoiser } from "../src/sources/closed_form.ts";
import { collectSteps } from "../src/sources/collect.ts";
import { loadMnist, MNIST_DIM, MNIST_SHAPE, mnistSubset } from "../src/sources/mnist.ts";
import { sampleDiffusion } from "../src/sources/sampler.ts";
import { BasisPanel } from "../src/viewer/basis_panel.ts";
import { startViewer } from "../src/viewer/start.ts";
import { ViewerSession } from "../src/viewer/viewer_session.ts";

const digits = mnistSubset(await loadMnist(), 30);
const denoiser = closedFormDenoiser({ images: digits.images, labels: digits.labels, dim: MNIST_DIM });
const prompts = [{ label: "digit 3", condition: 3 }, { label: "any digit", condition: -1 }];
const steps = await collectSteps(sampleDiffusion(denoiser, { prompts, instancesPerPrompt: 2, steps: 6, range: [-1, 1], imageShape: MNIST_SHAPE }));

test("viewer basis: /basis draws the hovered node's basis vectors; nodes without x_t are 404, without J empty", async () => {
  const panel = new BasisPanel(closedFormJacobian(denoiser), { k: 4, condition: (p) => prompts.find((q) => q.label === p)!.condition });
  panel.addSteps(steps);
  const server = await startViewer(new ViewerSession(), { port: 0, basis: panel });
  try {
    const response = await fetch(new URL("/basis?instance=0&step=0", server.url));
    assert.is(response.status, 200);
    assert.is(response.headers.get("content-type"), "image/png");
    const png = decode(new Uint8Array(await response.arrayBuffer()));
    assert.equal([png.width, png.height], [3 * 28 + 2 * 2, 2 * 28 + 2], "4 vectors of 28×28, three to a row, 2 px apart");
    const again = await panel.png(0, 0);
    assert.ok(again && again.length > 0, "kept");
    assert.is((await fetch(new URL("/basis?instance=99&step=0", server.url))).status, 404);
    assert.is((await fetch(new URL("/basis?instance=0", server.url))).status, 400);
    // At the last step the closed form's weights sit on one digit: J = 0, no basis to draw.
    const last = await fetch(new URL("/basis?instance=0&step=5", server.url));
    assert.is(last.status, 200);
    assert.is((await last.arrayBuffer()).byteLength, 0, "an empty body: not an image");
    const gone = new AbortController();
    gone.abort();
    assert.is(await panel.png(1, 2, gone.signal), undefined, "a page that left is not computed for");
    assert.ok(await panel.png(1, 2), "and a later request computes it");
  } finally {
    await server.close();
  }
  const plain = await startViewer(new ViewerSession(), { port: 0 });
  try {
    assert.is((await fetch(new URL("/basis?instance=0&step=0", plain.url))).status, 404, "no panel");
  } finally {
    await plain.close();
  }
});

test.run();
