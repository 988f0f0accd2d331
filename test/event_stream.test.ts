// The viewer's event stream and server under load and misuse (issue 14, items 8, 9 and 10): one
// serialisation per event for every client, frames as deltas, slow clients disconnected, the number
// of streams capped; TRACE is a 405, /image needs its parameters, /favicon.ico is served.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { connect, type Socket } from "node:net";
import { frameTable, type FrameTable } from "../src/data/frame_table.ts";
import { setGuides } from "../src/data/guides.ts";
import { serve } from "../src/runtime/server.ts";
import { viewerApp, type ViewerHandler } from "../src/viewer/app.ts";
import { viewerAssets } from "../src/viewer/start.ts";
import { ViewerSession } from "../src/viewer/viewer_session.ts";

/** A radial-like frame of `steps` steps × `n` instances; `shift` moves every point (a polish pass). */
function frame(steps: number, n: number, shift = 0): FrameTable {
  const rows = steps * n;
  const step = Int32Array.from({ length: rows }, (_, r) => Math.floor(r / n));
  const instance = Int32Array.from({ length: rows }, (_, r) => r % n);
  const angle = Float32Array.from({ length: rows }, (_, r) => (2 * Math.PI * (r % n)) / n + shift);
  const radius = Float32Array.from(step, (t) => 5 + 8.75 * t);
  const table = frameTable({
    instance,
    prompt: Int32Array.from(instance, (i) => i % 3),
    prompts: ["any digit", "digit 3", "digit 7"],
    step,
    x: Float32Array.from(angle, (a, r) => radius[r] * Math.cos(a)),
    y: Float32Array.from(angle, (a, r) => radius[r] * Math.sin(a)),
    native: { radius, angle },
    layout: "radial",
  });
  return setGuides(table, Array.from({ length: steps }, (_, t) => ({ step: t, shape: "circle" as const, cx: 0, cy: 0, r: 5 + 8.75 * t })));
}

interface Sse {
  event: string;
  data: any;
}

/** An event-stream client that reads everything as it comes. */
async function client(url: string) {
  const controller = new AbortController();
  const response = await fetch(`${url}events`, { signal: controller.signal });
  const events: Sse[] = [];
  let buffer = "";
  const reading = (async () => {
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        buffer += value;
        let end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1], data = /^data: (.*)$/m.exec(block)?.[1];
          if (event && data) events.push({ event, data: JSON.parse(data) });
        }
      }
    } catch {
      // aborted
    }
  })();
  return {
    status: response.status,
    events,
    async until(ok: (events: Sse[]) => boolean, what: string) {
      const end = Date.now() + 10000;
      while (!ok(events)) {
        if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },
    close: async () => {
      controller.abort();
      await reading;
    },
  };
}

/** Applies frame and frame-delta events as the page does; the frames by view. */
function replay(events: Sse[]): Record<string, any> {
  const frames: Record<string, any> = {};
  for (const { event, data } of events) {
    if (event === "frame") frames[data.view] = structuredClone(data);
    if (event !== "frame-delta") continue;
    const f = frames[data.view];
    assert.is(f.version, data.base, "a delta applies to the version held");
    data.moved.index.forEach((i: number, k: number) => {
      f.rows.x[i] = data.moved.x[k];
      f.rows.y[i] = data.moved.y[k];
    });
    for (const key of ["instance", "prompt", "step", "x", "y"]) f.rows[key].push(...data.added[key]);
    f.version = data.version;
    if (data.guides) f.guides = data.guides;
  }
  return frames;
}

/** The rows of a frame as sorted "step/instance:x,y" strings (order-free). */
const points = (rows: any) => rows.x.map((x: number, i: number) => `${rows.step[i]}/${rows.instance[i]}:${x},${rows.y[i]}`).sort();

async function start(options: Parameters<typeof viewerApp>[2] = {}) {
  const session = new ViewerSession();
  const app: ViewerHandler = viewerApp(session, await viewerAssets(), options);
  const server = await serve(app, { port: 0 });
  return { session, app, server, close: async () => (app.close?.(), await server.close()) };
}

test("event stream: each event is serialised once for all clients; frames after the first go as deltas", async () => {
  const { session, app, server, close } = await start();
  const clients = await Promise.all(Array.from({ length: 5 }, () => client(server.url)));
  const seen: string[] = [];
  session.subscribe((e) => seen.push(e.event));
  try {
    session.addFrame("radial", frame(1, 40));
    await Promise.all(clients.map((c) => c.until((e) => e.some((x) => x.event === "frame"), "the first frame")));
    // Count serialisations while one more step arrives for five clients.
    const next = frame(2, 40);
    const stringify = JSON.stringify;
    let calls = 0;
    JSON.stringify = ((...args: Parameters<typeof stringify>) => (calls++, stringify(...args))) as typeof stringify;
    try {
      session.addFrame("radial", next);
    } finally {
      JSON.stringify = stringify;
    }
    assert.ok(calls <= 2, `${calls} serialisations for 5 clients (the delta, and the guides to compare)`);
    await Promise.all(clients.map((c) => c.until((e) => e.some((x) => x.event === "frame-delta"), "a delta")));
    const delta = clients[0].events.find((e) => e.event === "frame-delta")!.data;
    assert.is(delta.added.x.length, 40, "the new step's points only");
    assert.is(delta.moved.index.length, 0, "the earlier step did not move");
    assert.is(delta.guides.length, 2, "the guides changed: sent");
    // A polish pass moves every point: a delta of moved points, no new ones.
    session.addFrame("radial", frame(2, 40, 0.1));
    await clients[0].until((e) => e.filter((x) => x.event === "frame-delta").length === 2, "the moved points");
    const moved = clients[0].events.filter((e) => e.event === "frame-delta")[1].data;
    assert.is(moved.moved.index.length, 80);
    assert.is(moved.added.x.length, 0);
    assert.not.ok("guides" in moved, "unchanged guides are not sent again");
    // What the clients rebuilt is what a late joiner gets whole, and what the session holds.
    const late = await client(server.url);
    await late.until((e) => e.some((x) => x.event === "frame"), "the late joiner's frame");
    const joined = late.events.find((e) => e.event === "frame")!.data;
    assert.is(joined.version, 3);
    for (const c of clients) assert.equal(points(replay(c.events).radial.rows), points(joined.rows));
    await late.close();
    assert.is(app.events.stats.events, seen.length, "one message per session event, whatever the number of clients");
    assert.is(seen.filter((e) => e === "frame").length, 3);
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    await close();
  }
});

test("event stream: a client that stops reading is disconnected, its queue dropped, memory bounded", async () => {
  const { session, app, server, close } = await start({ maxBufferedBytes: 256 * 1024 });
  // A raw connection that asks for the stream and never reads.
  const socket: Socket = await new Promise((resolve) => {
    const s = connect(server.port, "127.0.0.1", () => {
      s.write(`GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
      resolve(s);
    });
  });
  socket.pause();
  const closed = new Promise<void>((resolve) => socket.on("close", () => resolve()));
  socket.on("error", () => {});
  const reader = await client(server.url);
  try {
    await reader.until(() => app.events.stats.clients === 2, "both clients");
    // Big frames (whole, another layout name each time, so no delta is possible): megabytes for the stalled client.
    for (let k = 0; k < 60 && app.events.stats.slowDisconnects === 0; k++) {
      session.addFrame(`view-${k}`, frame(10, 1000));
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    assert.ok(app.events.stats.slowDisconnects >= 1, "the stalled client was let go");
    socket.resume(); // read what the kernel holds: then the end of the connection shows
    await closed;
    assert.is(app.events.stats.clients, 1, "the reading client stays");
    await reader.until((e) => e.filter((x) => x.event === "frame").length >= 2, "the reader's frames");
  } finally {
    socket.destroy();
    await reader.close();
    await close();
  }
});

test("event stream: the number of streams is capped (503 beyond)", async () => {
  const { server, close } = await start({ maxClients: 2 });
  const a = await client(server.url), b = await client(server.url);
  try {
    const c = await fetch(`${server.url}events`);
    assert.is(c.status, 503);
    assert.is(c.headers.get("retry-after"), "5");
    await c.body?.cancel();
  } finally {
    await a.close();
    await b.close();
    await close();
  }
});

/** A raw request; the status line and headers of the answer ("" for an empty reply). */
function raw(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => socket.write(request));
    let head = "";
    socket.on("data", (d) => (head += d.toString("latin1")));
    socket.on("end", () => resolve(head));
    socket.on("close", () => resolve(head));
    socket.on("error", reject);
  });
}

test("server: TRACE is a 405 with Allow, /image needs both parameters, /favicon.ico is an icon", async () => {
  const { server, close } = await start();
  try {
    const trace = await raw(server.port, "TRACE / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    assert.match(trace, /^HTTP\/1\.1 405 /);
    assert.match(trace, /\r\nallow: GET, HEAD\r\n/i);
    for (const path of ["image", "image?instance=1", "image?step=0", "image?instance=&step=", "image?instance=1.5&step=0"]) {
      const r = await fetch(`${server.url}${path}`);
      assert.is(r.status, 400, path);
      await r.body?.cancel();
    }
    const icon = await fetch(`${server.url}favicon.ico`);
    assert.is(icon.status, 200);
    assert.is(icon.headers.get("content-type"), "image/png");
    assert.equal(Array.from(new Uint8Array(await icon.arrayBuffer()).subarray(1, 4)), [80, 78, 71]);
  } finally {
    await close();
  }
});

test.run();
