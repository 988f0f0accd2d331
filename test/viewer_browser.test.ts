/**
 * The live viewer in a real browser: headless Chromium (Debian's `chromium`,
 * which .ci/run installs) driven by playwright-core. It opens the page while
 * the default generator runs, sees points appear and their count grow as
 * steps arrive (frames come as deltas), sees every view draw instance tracks
 * and step labels, keeps its scale when a stray point comes, hovers a point
 * and gets its image with the instance highlighted at every step, sees the
 * hover clear, filters a prompt, shows the tree, and leaves a screenshot of
 * each view in out/test-artifacts/ (viewer.png, viewer-rectilinear.png,
 * viewer-tree.png; docs/see/ holds copies).
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { existsSync, mkdirSync } from "node:fs";
import { concatMap, delay, from, map } from "rxjs";
import { chromium, type Page } from "playwright-core";
import { frameTable } from "../src/data/frame_table.ts";
import { setGuides, type Guide } from "../src/data/guides.ts";
import { pcaEncoder } from "../src/encoders/pca_encoder.ts";
import { startViewer } from "../src/viewer/start.ts";
import { liveMnistDiffusion } from "../src/stream/live_mnist.ts";
import { runLive } from "../src/viewer/run_live.ts";
import { ViewerSession } from "../src/viewer/viewer_session.ts";
import { digitUnet } from "../src/sources/digit_unet.ts";

const CHROMIUM = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find(existsSync);
const ARTIFACTS = "out/test-artifacts";

/** Waits until `read()` in the page satisfies `ok`, returning the value. */
async function until<T>(page: Page, read: () => T, ok: (value: T) => boolean, what: string, ms = 15000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await page.evaluate(read);
    if (ok(value)) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what} (last: ${JSON.stringify(value)})`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A viewer session served on a free port, and headless Chromium (a fresh profile) to look at it. */
async function openViewer() {
  if (!CHROMIUM) throw new Error("no chromium binary: apt-get install -y chromium (.ci/run does)");
  const session = new ViewerSession();
  const server = await startViewer(session, { port: 0 });
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  return { session, server, browser };
}

const points = () => Number(document.getElementById("count")!.dataset.points);

interface Drawn {
  tracks: number;
  labels: string[];
  highlighted: number;
  scale: number;
}
type Viewer = { diffusionLife: { drawn(): Drawn; box(view: string): { fits: number } } };
const drawn = () => (window as unknown as Viewer).diffusionLife.drawn();
const fits = (view: string) => (window as unknown as Viewer).diffusionLife.box(view).fits;

test("viewer in Chromium: points appear and grow live, hovering shows the image, the legend filters", async () => {
  const { session, server, browser } = await openViewer();
  const controller = new AbortController();
  let live: Promise<void> | undefined;
  let release!: () => void;
  const firstSeen = new Promise<void>((resolve) => (release = resolve));
  try {
    // launch() gives a fresh profile (user data dir) of its own.
    const page = await browser.newPage({ viewport: { width: 1100, height: 760 } });
    await page.goto(server.url);
    assert.is(await page.evaluate(points), 0);

    // The default generator, paced so that the page sees the steps come one by one. The third
    // step waits until the page has shown the first points: on a loaded machine the first
    // embedding can take longer than all ten steps' pacing, and the page must be seen growing
    // while steps are still coming.
    const source = liveMnistDiffusion({ prompts: ["any", 0, 1, 7], instancesPerPrompt: 8, steps: 10, seed: 3, digitsPerClass: 120 })
      .pipe(concatMap((table, i) => from(i === 2 ? firstSeen : Promise.resolve()).pipe(map(() => table), delay(120))));
    // The radial frames as the session sends them, to replay one with a stray point later.
    let lastRadial: { rows: { instance: number[]; prompt: number[]; step: number[]; x: number[]; y: number[] }; guides: Guide[] } | undefined;
    session.subscribe((e) => {
      if (e.event === "frame" && (e.data as { view: string }).view === "radial") lastRadial = e.data as typeof lastRadial;
    });
    live = runLive(source, session, { encoders: [pcaEncoder({ components: 20 })], iterations: 30, signal: controller.signal });

    const first = await until(page, points, (n) => n > 0, "the first points");
    const stepsSeen = await page.evaluate(() => Number(document.getElementById("steps")!.dataset.steps));
    release();
    const later = await until(page, points, (n) => n > first, "more points as steps arrive");
    assert.ok(later > first && stepsSeen < 10, `${first} → ${later} points while ${stepsSeen} of 10 steps were in`);
    await live;
    await until(page, () => document.getElementById("status")!.dataset.state, (s) => s === "done", "the end");
    const all = await until(page, points, (n) => n === 32 * 10, "every point of every step");

    // The tree of the embedding: one track per instance, step labels on the lanes.
    const radial = await page.evaluate(drawn);
    assert.is(radial.tracks, 32, "one track per instance");
    assert.ok(radial.labels.includes("t=0") && radial.labels.includes("t=9") && radial.labels.length >= 4, radial.labels.join(" "));
    // The scale is not refitted on every frame: a few times while the rings grow (11 frames, at most about half), once at the end.
    const radialFits = await page.evaluate(fits, "radial");
    assert.ok(radialFits >= 1 && radialFits <= 6, `${radialFits} fits`);

    // Hover a point of the last step: its image comes from the server.
    const target = await page.evaluate(() => {
      const t = (window as unknown as { diffusionLife: { targets(): { x: number; y: number; instance: number; step: number }[] } }).diffusionLife
        .targets().filter((p) => p.step === 9)[5];
      const box = document.getElementById("plot")!.getBoundingClientRect();
      return { x: box.left + t.x, y: box.top + t.y, instance: t.instance, step: t.step };
    });
    await page.mouse.move(target.x, target.y);
    const hovered = await until(page, () => {
      const img = document.getElementById("hover-image") as HTMLImageElement;
      return { hidden: document.getElementById("hover")!.hidden, width: img.complete ? img.naturalWidth : 0, instance: img.dataset.instance, step: img.dataset.step };
    }, (h) => !h.hidden && h.width === 28, "the hovered image");
    assert.equal([hovered.instance, hovered.step], [String(target.instance), "9"]);
    // The hovered instance is highlighted at every step (its ten points), not only where the pointer is.
    assert.is((await page.evaluate(drawn)).highlighted, 10);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: `${ARTIFACTS}/viewer.png` });
    // Off the points the hover clears: panel hidden, caption empty, nothing highlighted.
    const box = (await page.locator("#plot").boundingBox())!;
    await page.mouse.move(box.x + 3, box.y + box.height - 3);
    const cleared = await until(page, () => ({
      hidden: document.getElementById("hover")!.hidden,
      caption: document.getElementById("hover-caption")!.textContent,
    }), (h) => h.hidden, "the hover to clear");
    assert.is(cleared.caption, "");
    assert.is((await page.evaluate(drawn)).highlighted, 0);
    // A stray point (one instance thrown 100 times as far) neither rescales nor squashes the picture.
    const stray = lastRadial!;
    const x = Float32Array.from(stray.rows.x), y = Float32Array.from(stray.rows.y);
    x[0] *= 100;
    y[0] *= 100;
    const strayFrame = setGuides(frameTable({
      instance: Int32Array.from(stray.rows.instance),
      prompt: Int32Array.from(stray.rows.prompt),
      prompts: session.prompts,
      step: Int32Array.from(stray.rows.step),
      x,
      y,
      native: {},
      layout: "radial",
    }), stray.guides);
    session.addFrame("radial", strayFrame);
    await page.waitForTimeout(300);
    const after = await page.evaluate(drawn);
    assert.is(after.scale, radial.scale, "the same pixels per unit");
    assert.is(await page.evaluate(fits, "radial"), radialFits, "no refit");
    session.addFrame("radial", setGuides(frameTable({
      instance: Int32Array.from(stray.rows.instance),
      prompt: Int32Array.from(stray.rows.prompt),
      prompts: session.prompts,
      step: Int32Array.from(stray.rows.step),
      x: Float32Array.from(stray.rows.x),
      y: Float32Array.from(stray.rows.y),
      native: {},
      layout: "radial",
    }), stray.guides));

    // Unticking a prompt hides its points; the step slider shows earlier steps only.
    await page.locator('#legend input[data-prompt="0"]').uncheck();
    assert.is(await page.evaluate(points), all - 8 * 10);
    await page.locator('#legend input[data-prompt="0"]').check();
    await page.locator("#step").fill("4");
    assert.is(await page.evaluate(points), 32 * 5);
    await page.locator("#step").fill("9");

    // The rectilinear view: tracks and step labels too.
    await page.locator('#views button[data-view="rectilinear"]').click();
    const rectilinear = await page.evaluate(drawn);
    assert.is(rectilinear.tracks, 32);
    assert.ok(rectilinear.labels.includes("t=0") && rectilinear.labels.length >= 4, rectilinear.labels.join(" "));
    await page.screenshot({ path: `${ARTIFACTS}/viewer-rectilinear.png` });

    // The tree view: nodes from the noise root to one leaf per instance.
    await page.locator('#views button[data-view="tree"]').click();
    const nodes = await until(page, points, (n) => n > 32, "the tree's nodes");
    assert.ok(nodes >= 32 + 10, `${nodes} nodes`);
    assert.not.ok(await page.evaluate(() => document.getElementById("branches")!.hidden));
    await page.screenshot({ path: `${ARTIFACTS}/viewer-tree.png` });
  } finally {
    release();
    controller.abort();
    await live?.catch(() => {});
    await browser.close();
    await server.close();
  }
});

test("viewer in Chromium on the shipped U-Net: the neural model's generation arrives live, with tracks and images", async () => {
  const { session, server, browser } = await openViewer();
  const denoiser = await digitUnet({ backend: "wasm" });
  const controller = new AbortController();
  let live: Promise<void> | undefined;
  try {
    const page = await browser.newPage({ viewport: { width: 1100, height: 760 } });
    await page.goto(server.url);
    // What `watch --model unet` runs: the default generator with the U-Net as its denoiser.
    const source = liveMnistDiffusion({ denoiser, prompts: ["any", 0, 7], instancesPerPrompt: 8, steps: 6, guidance: 2, seed: 1 });
    live = runLive(source, session, { encoders: [pcaEncoder({ components: 20 })], iterations: 30, signal: controller.signal });
    await live;
    await until(page, () => document.getElementById("status")!.dataset.state, (s) => s === "done", "the end", 60000);
    await until(page, points, (n) => n === 24 * 6, "every point of every step");
    const radial = await page.evaluate(drawn);
    assert.is(radial.tracks, 24, "one track per instance");
    // Hovering a point of the last step shows the network's image.
    const target = await page.evaluate(() => {
      const t = (window as unknown as { diffusionLife: { targets(): { x: number; y: number; step: number }[] } }).diffusionLife
        .targets().filter((p) => p.step === 5)[3];
      const box = document.getElementById("plot")!.getBoundingClientRect();
      return { x: box.left + t.x, y: box.top + t.y };
    });
    await page.mouse.move(target.x, target.y);
    await until(page, () => {
      const img = document.getElementById("hover-image") as HTMLImageElement;
      return img.complete ? img.naturalWidth : 0;
    }, (w) => w === 28, "the hovered image");
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: `${ARTIFACTS}/viewer-unet.png` });
  } finally {
    controller.abort();
    await live?.catch(() => {});
    await denoiser.release();
    await browser.close();
    await server.close();
  }
});

test.run();
