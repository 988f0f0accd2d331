/**
 * The viewer's event stream on the wire: one subscriber to the session that
 * serves every page (server-sent events), so that
 *
 * - each event is **serialised once**, and the same bytes go to every client;
 * - frames go out as **deltas**: after a view's first frame, an update sends
 *   only its new points (a new step) and the points that moved (all of them
 *   after the polish pass), as a `frame-delta` event against the version the
 *   page holds; a page that joins gets the latest full state once (built and
 *   serialised on the first join after a change, shared by later joiners);
 * - a **slow client** (more than `maxBufferedBytes` waiting for it: a page
 *   that stopped reading) is disconnected — its queue dropped, not grown —
 *   and the browser's EventSource reconnects by itself and gets the full
 *   state again;
 * - at most `maxClients` streams are open: the next is refused with 503.
 *
 * Events besides the session's (see ./viewer_session.ts):
 * - `frame` carries `version` (1, 2, …, per view);
 * - `frame-delta`: { view, layout, version, base, update, guides?, added: { instance, prompt, step, x, y },
 *   moved: { index, x, y } }: apply to the frame at version `base`: `moved.index` are positions in
 *   that frame's rows (in the order the page holds them), `added` rows are appended; `guides` only
 *   when they changed. A page holding another version reconnects.
 */
import type { ViewerEvent, ViewerSession } from "./viewer_session.ts";

export interface EventStreamOptions {
  /** Open event streams at most (default 256); more are answered 503. */
  maxClients?: number;
  /** Bytes that may wait for one client before it is disconnected as too slow (default 8 MiB). */
  maxBufferedBytes?: number;
  /** Seconds between keep-alive comments (default 15). */
  keepAlive?: number;
}

/** What the stream has done, for tests and benchmarks. */
export interface EventStreamStats {
  clients: number;
  /** Events sent (each serialised once, whatever the number of clients). */
  events: number;
  /** Bytes serialised, and bytes enqueued over all clients. */
  bytes: number;
  sentBytes: number;
  /** Clients disconnected for being too slow, and streams refused (too many). */
  slowDisconnects: number;
  refused: number;
}

interface Rows {
  instance: number[];
  prompt: number[];
  step: number[];
  x: number[];
  y: number[];
}

interface FrameData {
  view: string;
  layout: string;
  update: unknown;
  rows: Rows;
  guides: unknown[];
}

/** A view's frame as the pages hold it (rows in their order). */
interface WireFrame {
  version: number;
  data: FrameData;
  guidesJson: string;
  /** Whether `data.rows` are this stream's own arrays (the session's are shared with its other subscribers). */
  owned: boolean;
  /** (step, instance) → position in `data.rows`, built when first needed. */
  index?: Map<number, Map<number, number>>;
  /** The full `frame` event for joiners, serialised on demand. */
  snapshot?: Uint8Array;
}

interface Client {
  controller: ReadableStreamDefaultController<Uint8Array>;
  stop(): void;
}

const encoder = new TextEncoder();
const sse = (event: string, json: string) => encoder.encode(`event: ${event}\ndata: ${json}\n\n`);

export class EventStream {
  private readonly clients = new Set<Client>();
  private readonly frames = new Map<string, WireFrame>();
  /** The latest event of each kind other than frames, serialised; the status last on replay. */
  private readonly latest = new Map<string, Uint8Array>();
  /** The order in which kinds first came (frames included), for replay. */
  private readonly order: string[] = [];
  private readonly maxClients: number;
  private readonly maxBuffered: number;
  private readonly keepAlive: number;
  private readonly unsubscribe: () => void;
  readonly stats: EventStreamStats = { clients: 0, events: 0, bytes: 0, sentBytes: 0, slowDisconnects: 0, refused: 0 };

  constructor(session: ViewerSession, options: EventStreamOptions = {}) {
    this.maxClients = options.maxClients ?? 256;
    this.maxBuffered = options.maxBufferedBytes ?? 8 * 2 ** 20;
    this.keepAlive = (options.keepAlive ?? 15) * 1000;
    this.unsubscribe = session.subscribe((e) => this.receive(e));
  }

  /** Stops listening to the session and ends every stream. */
  close(): void {
    this.unsubscribe();
    for (const client of [...this.clients]) {
      client.stop();
      try {
        client.controller.close();
      } catch {
        // closed already
      }
    }
  }

  /** A new event stream for one page (503 when `maxClients` are open). */
  connect(signal: AbortSignal): Response {
    if (this.clients.size >= this.maxClients) {
      this.stats.refused++;
      return new Response(`too many event streams (at most ${this.maxClients})\n`, {
        status: 503,
        headers: { "content-type": "text/plain; charset=utf-8", "retry-after": "5", "cache-control": "no-store" },
      });
    }
    let client: Client | undefined;
    const body = new ReadableStream<Uint8Array>({
      start: (controller) => {
        const timer = setInterval(() => this.send(client!, encoder.encode(": keep-alive\n\n")), this.keepAlive);
        client = {
          controller,
          stop: () => {
            clearInterval(timer);
            if (this.clients.delete(client!)) this.stats.clients = this.clients.size;
          },
        };
        this.clients.add(client);
        this.stats.clients = this.clients.size;
        signal.addEventListener("abort", () => client!.stop(), { once: true });
        // Reconnect soon after a disconnect; then the latest of everything.
        this.send(client, encoder.encode("retry: 1000\n\n"));
        for (const bytes of this.replay()) this.send(client, bytes);
      },
      cancel: () => client?.stop(),
    }, new ByteLengthQueuingStrategy({ highWaterMark: this.maxBuffered }));
    return new Response(body, {
      headers: { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-store", connection: "keep-alive" },
    });
  }

  /** The full state, in the order the kinds first came, the status last. */
  private *replay(): Iterable<Uint8Array> {
    const keys = [...this.order].sort((a, b) => Number(a === "status") - Number(b === "status"));
    for (const key of keys) {
      if (key.startsWith("frame:")) yield this.snapshot(this.frames.get(key.slice(6))!);
      else yield this.latest.get(key)!;
    }
  }

  private receive(e: ViewerEvent): void {
    if (e.event === "frame") return this.frame(e.data as FrameData);
    const key = e.event;
    if (!this.latest.has(key)) this.order.push(key);
    const bytes = sse(e.event, JSON.stringify(e.data));
    this.latest.set(key, bytes);
    this.broadcast(bytes);
  }

  private frame(data: FrameData): void {
    const key = `frame:${data.view}`;
    const previous = this.frames.get(data.view);
    const guidesJson = JSON.stringify(data.guides);
    if (!previous) this.order.push(key);
    const version = (previous?.version ?? 0) + 1;
    // Nobody listens, or nothing to compare with, or another layout: the next joiner gets it whole.
    const delta = this.clients.size > 0 && previous && previous.data.layout === data.layout ? this.delta(previous, data, guidesJson) : undefined;
    if (!delta) {
      const frame: WireFrame = { version, data, guidesJson, owned: false };
      this.frames.set(data.view, frame);
      if (this.clients.size > 0) this.broadcast(this.snapshot(frame));
      return;
    }
    this.broadcast(delta);
  }

  /** The full frame event of a view's current state (serialised once per version). */
  private snapshot(frame: WireFrame): Uint8Array {
    if (!frame.snapshot) {
      const { data } = frame;
      frame.snapshot = sse("frame", JSON.stringify({ ...data, version: frame.version }));
      this.stats.bytes += frame.snapshot.byteLength;
    }
    return frame.snapshot;
  }

  /**
   * The frame-delta event from `frame` to `data`, applied to `frame` (its
   * version moves on); undefined when a point is gone (then the whole frame is sent).
   */
  private delta(frame: WireFrame, data: FrameData, guidesJson: string): Uint8Array | undefined {
    const { rows } = data;
    const held0 = frame.data.rows;
    const n = rows.x.length, m = held0.x.length;
    if (n < m) return undefined;
    // Frames list their rows in one order (step, then instance): then the held rows are the first m.
    let same = true;
    for (let i = 0; i < m && same; i++) same = rows.step[i] === held0.step[i] && rows.instance[i] === held0.instance[i];
    const index = same ? undefined : frame.index ??= indexRows(held0);
    const moved = { index: [] as number[], x: [] as number[], y: [] as number[] };
    const added: Rows = { instance: [], prompt: [], step: [], x: [], y: [] };
    for (let i = 0; i < n; i++) {
      const at = index ? index.get(rows.step[i])?.get(rows.instance[i]) : i < m ? i : undefined;
      if (at === undefined) {
        added.instance.push(rows.instance[i]);
        added.prompt.push(rows.prompt[i]);
        added.step.push(rows.step[i]);
        added.x.push(rows.x[i]);
        added.y.push(rows.y[i]);
      } else if (frame.data.rows.x[at] !== rows.x[i] || frame.data.rows.y[at] !== rows.y[i]) {
        moved.index.push(at);
        moved.x.push(rows.x[i]);
        moved.y.push(rows.y[i]);
      }
    }
    // Every old point must still be there: old + added = new.
    if (frame.data.rows.x.length + added.x.length !== n) return undefined;
    // Apply to our copy of what the pages hold.
    if (!frame.owned) {
      const own = frame.data.rows;
      frame.data = { ...frame.data, rows: { instance: [...own.instance], prompt: [...own.prompt], step: [...own.step], x: [...own.x], y: [...own.y] } };
      frame.owned = true;
    }
    const held = frame.data.rows;
    moved.index.forEach((at, k) => {
      held.x[at] = moved.x[k];
      held.y[at] = moved.y[k];
    });
    for (let k = 0; k < added.x.length; k++) {
      if (frame.index) {
        let byInstance = frame.index.get(added.step[k]);
        if (!byInstance) frame.index.set(added.step[k], byInstance = new Map());
        byInstance.set(added.instance[k], held.x.length);
      }
      held.instance.push(added.instance[k]);
      held.prompt.push(added.prompt[k]);
      held.step.push(added.step[k]);
      held.x.push(added.x[k]);
      held.y.push(added.y[k]);
    }
    const base = frame.version;
    const guidesChanged = guidesJson !== frame.guidesJson;
    frame.version++;
    frame.data = { ...frame.data, layout: data.layout, update: data.update, guides: data.guides };
    frame.guidesJson = guidesJson;
    frame.snapshot = undefined;
    return sse("frame-delta", JSON.stringify({
      view: data.view,
      layout: data.layout,
      version: frame.version,
      base,
      update: data.update,
      ...(guidesChanged ? { guides: data.guides } : {}),
      added,
      moved,
    }));
  }

  private broadcast(bytes: Uint8Array): void {
    this.stats.events++;
    this.stats.bytes += bytes.byteLength;
    for (const client of [...this.clients]) this.send(client, bytes);
  }

  /** Enqueues for one client, or disconnects it when too much already waits. */
  private send(client: Client, bytes: Uint8Array): void {
    const { controller } = client;
    try {
      if ((controller.desiredSize ?? 0) < 0) {
        // Too slow: drop its queue and the connection; EventSource reconnects and starts afresh.
        this.stats.slowDisconnects++;
        client.stop();
        controller.error(new Error("the client reads too slowly"));
        return;
      }
      controller.enqueue(bytes);
      this.stats.sentBytes += bytes.byteLength;
    } catch {
      client.stop(); // closed under us
    }
  }
}

function indexRows(rows: Rows): Map<number, Map<number, number>> {
  const index = new Map<number, Map<number, number>>();
  for (let i = 0; i < rows.x.length; i++) {
    let byInstance = index.get(rows.step[i]);
    if (!byInstance) index.set(rows.step[i], byInstance = new Map());
    byInstance.set(rows.instance[i], i);
  }
  return index;
}
