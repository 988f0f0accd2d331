import { test } from "uvu";
import * as assert from "uvu/assert";
import { connect } from "node:net";
import { decode } from "fast-png";
import { from } from "rxjs";
import { stepTable } from "../src/data/step_table.ts";
import { pcaEncoder } from "../src/encoders/pca_encoder.ts";
import { OptionError } from "../src/errors.ts";
import { radial } from "../src/layouts/radial.ts";
import { startViewer } from "../src/viewer/start.ts";
import { random } from "../src/util/random.ts";
import { runLive } from "../src/viewer/run_live.ts";
import { type ViewerEvent, ViewerSession } from "../src/viewer/viewer_session.ts";
import { horizontalLanes } from "../examples/horizontal_lanes.ts";

/** Two prompts × 4 instances, 4×4 grey images that drift apart step by step. */
function steps(count = 4) {
  const rng = random(5);
  return Array.from({ length: count }, (_, s) => {
    const n = 8, image = new Float32Array(n * 16);
    for (let i = 0; i < n; i++) {
      for (let p = 0; p < 16; p++) image[i * 16 + p] = Math.min(1, Math.max(0, 0.5 + (i < 4 ? 0.1 : -0.1) * s * (p % 2) + 0.02 * rng.normal()));
    }
    return stepTable({
      instance: Int32Array.from({ length: n }, (_, i) => i),
      prompt: Int32Array.from({ length: n }, (_, i) => (i < 4 ? 0 : 1)),
      prompts: ["cats", "dogs"],
      step: new Int32Array(n).fill(s),
      image,
      imageShape: [1, 4, 4],
    });
  });
}

/** A raw HTTP/1.1 GET, so paths reach the server exactly as written (fetch would normalise them). */
function rawGet(port: number, path: string, host = "127.0.0.1"): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => socket.write(`GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`));
    let head = "";
    socket.on("data", (d) => (head += d.toString("latin1")));
    socket.on("end", () => resolve(Number(/^HTTP\/1\.1 (\d+)/.exec(head)?.[1] ?? 0)));
    socket.on("error", reject);
  });
}

/** Events from /events until `until` says enough (or 5 s pass). */
async function readEvents(url: string, until: (events: ViewerEvent[]) => boolean): Promise<ViewerEvent[]> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), 5000);
  const response = await fetch(`${url}events`, { signal: controller.signal });
  assert.is(response.headers.get("content-type"), "text/event-stream; charset=utf-8");
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  const events: ViewerEvent[] = [];
  let buffer = "";
  try {
    while (!until(events)) {
      const { done, value } = await reader.read();
      if (done) break;
      buffer += value;
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1], data = /^data: (.*)$/m.exec(block)?.[1];
        if (event && data) events.push({ event: event as ViewerEvent["event"], data: JSON.parse(data) });
      }
    }
  } finally {
    clearTimeout(timer);
    await reader.cancel().catch(() => {});
  }
  return events;
}

test("viewer: a live source fills the session, which the page's event stream replays", async () => {
  const session = new ViewerSession();
  const server = await startViewer(session, { port: 0 });
  try {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/$/, "loopback by default");
    await runLive(from(steps()), session, { encoders: [pcaEncoder({ components: 4 })], iterations: 20 });
    const events = await readEvents(server.url, (e) => e.some((x) => x.event === "status"));
    const kinds = events.map((e) => e.event + ((e.data as { view?: string }).view ? `:${(e.data as { view: string }).view}` : ""));
    assert.equal(kinds.sort(), ["frame:radial", "frame:rectilinear", "prompts", "status", "steps", "tree", "views"]);
    assert.is(events[events.length - 1].event, "status", "the status comes last");
    const byKind = Object.fromEntries(events.map((e) => [e.event === "frame" ? `frame:${(e.data as { view: string }).view}` : e.event, e.data])) as Record<string, any>;
    assert.equal(byKind.views.views, ["radial", "rectilinear", "tree"]);
    assert.equal(byKind.prompts.prompts, ["cats", "dogs"]);
    assert.equal(byKind.steps.steps, [0, 1, 2, 3]);
    assert.is(byKind.steps.rows, 32);
    assert.is(byKind["frame:radial"].rows.x.length, 32);
    assert.is(byKind["frame:radial"].guides.length, 4);
    assert.is(byKind.tree.nodes.step.filter((s: number) => s === 3).length, 8, "one leaf per instance");
    assert.equal(byKind.status, { state: "done" });
  } finally {
    await server.close();
  }
});

test("viewer: any layout is a view of its name; the tree can be left out", async () => {
  const session = new ViewerSession();
  const events: ViewerEvent[] = [];
  session.subscribe((e) => events.push(e));
  await runLive(from(steps()), session, { encoders: [pcaEncoder({ components: 4 })], layouts: [horizontalLanes(), radial()], tree: false, iterations: 20 });
  assert.equal(events[0], { event: "views", data: { views: ["horizontal-lanes", "radial"] } });
  const frames = events.filter((e) => e.event === "frame").map((e) => e.data as { view: string; layout: string; rows: { y: number[] }; guides: { shape: string; y1: number; y2: number }[] });
  assert.equal([...new Set(frames.map((f) => f.view))].sort(), ["horizontal-lanes", "radial"]);
  const last = frames.filter((f) => f.view === "horizontal-lanes").pop()!;
  assert.is(last.layout, "horizontal-lanes");
  assert.is(last.guides.length, 4);
  assert.ok(last.guides.every((g) => g.shape === "line" && g.y1 === g.y2), "rows");
  assert.not.ok(events.some((e) => e.event === "tree"));
  await runLive(from(steps()), new ViewerSession(), { encoders: [], layouts: [radial(), radial()] }).then(
    () => assert.unreachable(),
    (e) => assert.instance(e, OptionError),
  );
});

test("viewer: serves its page, images as PNG, and nothing else", async () => {
  const session = new ViewerSession();
  const tables = steps(2);
  tables.forEach((t) => session.addSteps(t));
  const server = await startViewer(session, { port: 0 });
  try {
    const page = await fetch(server.url);
    assert.is(page.status, 200);
    assert.match(await page.text(), /<script type="module" src="\/viewer.js">/);
    assert.match(await (await fetch(`${server.url}viewer.js`)).text(), /new EventSource\("\/events"\)/);
    assert.is((await fetch(`${server.url}viewer.css`)).headers.get("content-type"), "text/css; charset=utf-8");

    const image = await fetch(`${server.url}image?instance=5&step=1`);
    assert.is(image.headers.get("content-type"), "image/png");
    const png = decode(new Uint8Array(await image.arrayBuffer()));
    assert.equal([png.width, png.height, png.channels], [4, 4, 1]);
    const expected = tables[1].getChild("image")!.get(5)!.toArray() as Float32Array;
    assert.equal(Array.from(png.data), Array.from(expected, (v) => Math.round(255 * v)));
    assert.is((await fetch(`${server.url}image?instance=99&step=1`)).status, 404);
    assert.is((await fetch(`${server.url}image?instance=x&step=1`)).status, 400);

    const port = server.port;
    for (const path of ["/../package.json", "/%2e%2e/package.json", "/..%2fpackage.json", "/viewer.js/../../../mod.ts", "//etc/passwd", "/index.html", "/src/viewer/viewer.js", "/app.ts", "/constructor", "/__proto__"]) {
      assert.is(await rawGet(port, path), 404, path);
    }
    assert.is(await rawGet(port, "/", "localhost"), 200);
    assert.is(await rawGet(port, "/", "evil.example"), 403, "a rebinding host name is refused");
    assert.is((await fetch(server.url, { method: "POST", body: "x" })).status, 405);
  } finally {
    await server.close();
  }
});

test.run();
