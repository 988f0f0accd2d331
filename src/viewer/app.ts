/**
 * The live viewer's HTTP handler, web-standard (Request → Response); the
 * server adapter (src/io/server.ts) puts it on a port.
 *
 * Routes (GET and HEAD only):
 * - `/`, `/viewer.js`, `/viewer.css`: the page, from `assets`. Nothing else
 *   is served from files: paths are looked up in that fixed table, never
 *   joined to a folder, so `..` and encoded variants lead nowhere.
 * - `/events`: server-sent events from the session (see ./session.ts).
 * - `/image?instance=I&step=S`: that instance's x̂0 at that step as a PNG.
 *
 * `allowedHosts`, when given, is the list of Host header names accepted
 * (the server's loopback names): a page on another site that a DNS
 * rebinding points at 127.0.0.1 is refused.
 */
import { encode as encodePng } from "fast-png";
import type { ViewerEvent, ViewerSession } from "./viewer_session.ts";

export interface ViewerAsset {
  type: string;
  body: string;
}

/** The page's files by URL path. */
export type ViewerAssets = Record<"/" | "/viewer.js" | "/viewer.css", ViewerAsset>;

export interface ViewerAppOptions {
  /** Host names (without port) the Host header may carry; default any. */
  allowedHosts?: readonly string[];
  /** Seconds between keep-alive comments on event streams (default 15). */
  keepAlive?: number;
}

const text = (status: number, body: string) =>
  new Response(body, { status, headers: { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" } });

export function viewerApp(session: ViewerSession, assets: ViewerAssets, options: ViewerAppOptions = {}): (request: Request) => Response {
  const keepAlive = (options.keepAlive ?? 15) * 1000;
  return (request) => {
    if (request.method !== "GET" && request.method !== "HEAD") {
      return new Response("method not allowed\n", { status: 405, headers: { allow: "GET, HEAD" } });
    }
    const host = (request.headers.get("host") ?? "").replace(/:\d+$/, "").replace(/^\[(.*)\]$/, "$1");
    if (options.allowedHosts && !options.allowedHosts.includes(host)) return text(403, "forbidden host\n");
    const url = new URL(request.url);
    const asset = Object.hasOwn(assets, url.pathname) ? assets[url.pathname as keyof ViewerAssets] : undefined;
    if (asset) {
      return new Response(asset.body, { headers: { "content-type": asset.type, "cache-control": "no-store", "x-content-type-options": "nosniff" } });
    }
    if (url.pathname === "/events") return events(session, request.signal, keepAlive);
    if (url.pathname === "/image") return image(session, url.searchParams);
    return text(404, "not found\n");
  };
}

function events(session: ViewerSession, signal: AbortSignal, keepAlive: number): Response {
  const encoder = new TextEncoder();
  let stop = () => {};
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      const send = (chunk: string) => {
        try {
          controller.enqueue(encoder.encode(chunk));
        } catch {
          stop(); // the stream was closed under us
        }
      };
      const unsubscribe = session.subscribe((e: ViewerEvent) => send(`event: ${e.event}\ndata: ${JSON.stringify(e.data)}\n\n`));
      const timer = setInterval(() => send(": keep-alive\n\n"), keepAlive);
      stop = () => {
        unsubscribe();
        clearInterval(timer);
      };
      signal.addEventListener("abort", () => stop());
    },
    cancel: () => stop(),
  });
  return new Response(body, {
    headers: { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-store", connection: "keep-alive" },
  });
}

function image(session: ViewerSession, params: URLSearchParams): Response {
  const instance = Number(params.get("instance")), step = Number(params.get("step"));
  if (!Number.isInteger(instance) || !Number.isInteger(step)) return text(400, "instance and step must be integers\n");
  const found = session.image(instance, step);
  if (!found) return text(404, `no image of instance ${instance} at step ${step}\n`);
  const [c, h, w] = found.shape;
  // Channel-major [C, H, W] in [0, 1] to interleaved 8-bit grey or RGB(A).
  const channels = c === 1 || c === 3 || c === 4 ? c : 1;
  const data = new Uint8Array(h * w * channels);
  for (let p = 0; p < h * w; p++) {
    for (let k = 0; k < channels; k++) {
      const v = found.pixels[k * h * w + p];
      data[p * channels + k] = Math.round(255 * (v < 0 ? 0 : v > 1 ? 1 : v));
    }
  }
  const png = new Uint8Array(encodePng({ width: w, height: h, data, channels, depth: 8 }));
  return new Response(png, { headers: { "content-type": "image/png", "cache-control": "no-store" } });
}
