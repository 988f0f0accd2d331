/**
 * The live viewer in a real browser: headless Chromium (Debian's `chromium`,
 * which .ci/run installs) driven by playwright-core. It opens the page while
 * the default generator runs, sees points appear and their count grow as
 * steps arrive, hovers a point and gets its image, filters a prompt, shows
 * the tree, and leaves a screenshot in out/test-artifacts/viewer.png.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { existsSync, mkdirSync } from "node:fs";
import { concatMap, delay, of } from "rxjs";
import { chromium, type Page } from "playwright-core";
import { pcaEncoder } from "../src/encoders/pca_encoder.ts";
import { startViewer } from "../src/viewer/start.ts";
import { liveMnistDiffusion } from "../src/stream/live_mnist.ts";
import { runLive } from "../src/viewer/run_live.ts";
import { ViewerSession } from "../src/viewer/viewer_session.ts";

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

const points = () => Number(document.getElementById("count")!.dataset.points);

test("viewer in Chromium: points appear and grow live, hovering shows the image, the legend filters", async () => {
  if (!CHROMIUM) throw new Error("no chromium binary: apt-get install -y chromium (.ci/run does)");
  const session = new ViewerSession();
  const server = await startViewer(session, { port: 0 });
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  const controller = new AbortController();
  let live: Promise<void> | undefined;
  try {
    // launch() gives a fresh profile (user data dir) of its own.
    const page = await browser.newPage({ viewport: { width: 1100, height: 760 } });
    await page.goto(server.url);
    assert.is(await page.evaluate(points), 0);

    // The default generator, paced so that the page sees the steps come one by one.
    const source = liveMnistDiffusion({ prompts: ["any", 0, 1, 7], instancesPerPrompt: 8, steps: 10, seed: 3, digitsPerClass: 120 })
      .pipe(concatMap((table) => of(table).pipe(delay(120))));
    live = runLive(source, session, { encoders: [pcaEncoder({ components: 20 })], iterations: 30, signal: controller.signal });

    const first = await until(page, points, (n) => n > 0, "the first points");
    const stepsSeen = await page.evaluate(() => Number(document.getElementById("steps")!.dataset.steps));
    const later = await until(page, points, (n) => n > first, "more points as steps arrive");
    assert.ok(later > first && stepsSeen < 10, `${first} → ${later} points while ${stepsSeen} of 10 steps were in`);
    await live;
    await until(page, () => document.getElementById("status")!.dataset.state, (s) => s === "done", "the end");
    const all = await until(page, points, (n) => n === 32 * 10, "every point of every step");

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
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: `${ARTIFACTS}/viewer.png` });

    // Unticking a prompt hides its points; the step slider shows earlier steps only.
    await page.locator('#legend input[data-prompt="0"]').uncheck();
    assert.is(await page.evaluate(points), all - 8 * 10);
    await page.locator('#legend input[data-prompt="0"]').check();
    await page.locator("#step").fill("4");
    assert.is(await page.evaluate(points), 32 * 5);
    await page.locator("#step").fill("9");

    // The tree view: nodes from the noise root to one leaf per instance.
    await page.locator('#views button[data-view="tree"]').click();
    const nodes = await until(page, points, (n) => n > 32, "the tree's nodes");
    assert.ok(nodes >= 32 + 10, `${nodes} nodes`);
    assert.not.ok(await page.evaluate(() => document.getElementById("branches")!.hidden));
    await page.screenshot({ path: `${ARTIFACTS}/viewer-tree.png` });
  } finally {
    controller.abort();
    await live?.catch(() => {});
    await browser.close();
    await server.close();
  }
});

test.run();
