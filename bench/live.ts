/**
 * The live path under load (issue 14, items 5 and 8).
 *
 * `live`: a producer ten times faster than the incremental embedder (200
 * instances, 50-dimensional synthetic steps, each step produced in a tenth
 * of the time the embedder takes for one), with every step kept (the
 * default) and with `backlog: 4` (the oldest waiting steps dropped); then
 * 2,000 steps delivered at once. Per run: frames, the frames' latency
 * (from the moment their earliest step was complete), the time to the
 * first frame, the resident memory's peak over the run, dropped steps.
 *
 * `viewer`: the server's time per event with 1 and 200 clients reading the
 * event stream over real connections: a 30,000-row frame (1,500 instances ×
 * 20 steps) sent whole, then the delta of one more step, then the delta of
 * a polish pass that moves every point. `emitMs` is the synchronous time of
 * the event (session, delta, serialisation, enqueueing to every client);
 * `deliveredMs` the time until every client has the whole event.
 */
import { connect, type Socket } from "node:net";
import { from, Observable, take } from "rxjs";
import { evolve, frameTable, type FrameTable, IncrementalEmbedder, readFrameTable, setGuides, type StepTable } from "../mod.ts";
import { serve, viewerApp, viewerAssets, ViewerSession } from "../viewer.ts";
import { type BenchCase, percentile, round, rssMiB, timed } from "./bench.ts";
import { DIM, syntheticSteps } from "./synthetic.ts";

/** Runs a stream of frames to its end, sampling the resident memory every 20 ms. */
async function measure(run: (onFrame: (frame: FrameTable) => void) => Promise<void>) {
  const start = performance.now(), baseline = rssMiB();
  let peak = baseline, first = NaN;
  const latencies: number[] = [];
  let last: FrameTable | undefined, frames = 0;
  const sampler = setInterval(() => (peak = Math.max(peak, rssMiB())), 20);
  try {
    await run((frame) => {
      if (Number.isNaN(first)) first = performance.now() - start;
      last = frame;
      frames++;
      const u = readFrameTable(frame).update!;
      if (!u.final) latencies.push(u.latencyMs);
    });
  } finally {
    clearInterval(sampler);
  }
  peak = Math.max(peak, rssMiB());
  const u = readFrameTable(last!).update!;
  return {
    frames,
    firstFrameMs: round(first, 0),
    latencyP50Ms: round(percentile(latencies, 50), 0),
    latencyP95Ms: round(percentile(latencies, 95), 0),
    latencyMaxMs: round(Math.max(...latencies), 0),
    droppedSteps: u.droppedSteps ?? 0,
    embeddedSteps: new Set(readFrameTable(last!).step).size,
    wallMs: round(performance.now() - start, 0),
    rssBaselineMiB: baseline,
    rssPeakMiB: peak,
  };
}

/**
 * A producer in another process, as through a pipe: step k is ready at
 * k·`every` ms from the start, and every step that is ready when the event
 * loop gets to it is delivered (a busy embedder delays their delivery, not
 * their making: they pile up as they would in the pipe).
 */
function producer(tables: StepTable[], every: number): Observable<StepTable> {
  return new Observable<StepTable>((subscriber) => {
    const start = performance.now();
    let sent = 0;
    const timer = setInterval(() => {
      const due = Math.min(tables.length, Math.floor((performance.now() - start) / every) + 1);
      while (sent < due && !subscriber.closed) subscriber.next(tables[sent++]);
      if (sent === tables.length) {
        clearInterval(timer);
        subscriber.complete();
      }
    }, Math.max(1, every));
    return () => clearInterval(timer);
  });
}

export const liveCase: BenchCase = {
  name: "live",
  async *run() {
    const n = 200, steps = 60, iterationsPerStep = 20;
    const tables = syntheticSteps(n, steps, 1);
    // The embedder's time per step, on this machine now.
    const probe = new IncrementalEmbedder({ iterationsPerStep, quality: false, instances: n, seed: 0 });
    const per: number[] = [];
    for (const t of tables.slice(0, 6)) {
      probe.push(t);
      per.push((await timed(() => probe.update()))[1]);
    }
    probe.dispose();
    const stepMs = percentile(per.slice(1), 50);
    const every = Math.max(1, Math.round(stepMs / 10));
    for (const backlog of [undefined, 4]) {
      const embedder = new IncrementalEmbedder({ iterationsPerStep, quality: false, instances: n, seed: 0, polish: 0, backlog });
      const result = await measure((onFrame) =>
        new Promise<void>((resolve, reject) => {
          producer(tables, every).pipe(evolve(embedder)).subscribe({ next: onFrame, error: reject, complete: resolve });
        })
      );
      const { peakPendingSteps, peakPendingRows } = embedder.stats;
      embedder.dispose();
      yield {
        what: "producer 10× faster than the embedder",
        policy: backlog === undefined ? "keep every step (default)" : `backlog ${backlog}: drop the oldest waiting`,
        instances: n,
        steps,
        dim: DIM,
        embedderStepMs: round(stepMs, 1),
        producerEveryMs: every,
        budgetMs: 250,
        ...result,
        peakPendingSteps,
        peakPendingRows,
      };
    }
    // 2,000 steps at once (a synchronous source): frames every budget, the first 12 of them.
    const burst = 2000, m = 20;
    const many = syntheticSteps(m, burst, 2);
    const result = await measure((onFrame) =>
      new Promise<void>((resolve, reject) => {
        from(many).pipe(evolve({ iterationsPerStep, quality: false, seed: 0, polish: 0 }), take(12))
          .subscribe({ next: onFrame, error: reject, complete: resolve });
      })
    );
    yield {
      what: "2,000 steps delivered at once (the first 12 frames)",
      instances: m,
      steps: burst,
      budgetMs: 250,
      firstFrameMs: result.firstFrameMs,
      framesPerSecond: round(result.frames / (result.wallMs / 1000), 1),
      latencyP50Ms: result.latencyP50Ms,
      rssPeakMiB: result.rssPeakMiB,
    };
  },
};

/** A frame of `steps` steps × `n` instances on rings; `shift` turns every point. */
function ringFrame(steps: number, n: number, shift = 0): FrameTable {
  const rows = steps * n;
  const step = Int32Array.from({ length: rows }, (_, r) => Math.floor(r / n));
  const instance = Int32Array.from({ length: rows }, (_, r) => r % n);
  const angle = Float32Array.from({ length: rows }, (_, r) => (2 * Math.PI * (r % n)) / n + shift);
  const radius = Float32Array.from(step, (t) => 5 + 8.75 * t);
  const table = frameTable({
    instance,
    prompt: Int32Array.from(instance, (i) => i % 5),
    prompts: ["any digit", "digit 0", "digit 1", "digit 3", "digit 7"],
    step,
    x: Float32Array.from(angle, (a, r) => radius[r] * Math.cos(a)),
    y: Float32Array.from(angle, (a, r) => radius[r] * Math.sin(a)),
    native: { radius, angle },
    layout: "radial",
  });
  return setGuides(table, Array.from({ length: steps }, (_, t) => ({ step: t, shape: "circle" as const, cx: 0, cy: 0, r: 5 + 8.75 * t })));
}

/** A raw event-stream reader that counts the events it has read whole. */
function reader(port: number): Promise<{ socket: Socket; events: () => number }> {
  return new Promise((resolve) => {
    let events = 0, tail = "";
    const socket = connect(port, "127.0.0.1", () => {
      socket.write("GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
      resolve({ socket, events: () => events });
    });
    socket.setEncoding("latin1");
    socket.on("data", (d: string) => {
      const text = tail + d;
      events += text.split("\nevent: frame").length - 1;
      tail = text.slice(-16);
    });
    socket.on("error", () => {});
  });
}

export const viewerCase: BenchCase = {
  name: "viewer",
  async *run() {
    const n = 1500, steps = 20;
    const full = ringFrame(steps - 1, n), more = ringFrame(steps, n), polished = ringFrame(steps, n, 0.01);
    for (const clients of [1, 200]) {
      const session = new ViewerSession();
      const app = viewerApp(session, await viewerAssets(), { maxClients: 512 });
      const server = await serve(app, { port: 0 });
      const readers = await Promise.all(Array.from({ length: clients }, () => reader(server.port)));
      while (app.events.stats.clients < clients) await new Promise((resolve) => setTimeout(resolve, 10));
      const figures: Record<string, unknown> = {};
      let expected = 0;
      for (const [name, frame] of [["whole frame (19 steps, 28,500 rows)", full], ["delta: one more step (1,500 new points)", more], ["delta: polish (30,000 moved points)", polished]] as const) {
        const before = app.events.stats.bytes;
        const started = performance.now();
        session.addFrame("radial", frame);
        const emitMs = performance.now() - started;
        expected++;
        while (readers.some((r) => r.events() < expected)) await new Promise((resolve) => setImmediate(resolve));
        figures[name] = {
          emitMs: round(emitMs, 1),
          deliveredMs: round(performance.now() - started, 0),
          eventKiB: round((app.events.stats.bytes - before) / 1024, 0),
        };
      }
      yield { what: "server time per event", clients, rowsPerFrame: steps * n, ...figures, slowDisconnects: app.events.stats.slowDisconnects };
      for (const r of readers) r.socket.destroy();
      app.close();
      await server.close();
    }
  },
};
