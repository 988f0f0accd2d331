/**
 * The live viewer's HTTP handler, web-standard (Request → Response); the
 * server adapter (src/io/server.ts) puts it on a port.
 *
 * Routes (GET and HEAD only; anything else is 405 with `Allow: GET, HEAD`):
 * - `/`, `/viewer.js`, `/viewer.css`: the page, from `assets`. Nothing else
 *   is served from files: paths are looked up in that fixed table, never
 *   joined to a folder, so `..` and encoded variants lead nowhere.
 * - `/favicon.ico`: a small PNG icon, drawn here.
 * - `/events`: server-sent events from the session, serialised once for all
 *   pages, frames as deltas, slow pages disconnected, the number of streams
 *   capped (see ./event_stream.ts).
 * - `/image?instance=I&step=S`: that instance's x̂0 at that step as a PNG
 *   (400 when either parameter is missing or not an integer).
 * - `/explain?instance=I&step=S`: what the session's explanations say about
 *   that point (ExplanationFacts, JSON; 404 when none); `/saliency?…`: its
 *   DF-RISE map as a PNG (red: keeping the pixel keeps x̂0; blue: the opposite).
 * - `/basis?instance=I&step=S`: the local latent basis there (./basis_panel.ts).
 *
 * `allowedHosts`, when given, is the list of Host header names accepted
 * (the server's loopback names): a page on another site that a DNS
 * rebinding points at 127.0.0.1 is refused.
 */
import { encode as encodePng } from "fast-png";
import { EventStream, type EventStreamOptions } from "./event_stream.ts";
import type { ViewerSession } from "./viewer_session.ts";
import { diverging } from "../geometry/geometry_svg.ts";
import { type BasisPanel, basisResponse } from "./basis_panel.ts";

export interface ViewerAsset {
  type: string;
  body: string;
}

/** The page's files by URL path. */
export type ViewerAssets = Record<"/" | "/viewer.js" | "/viewer.css", ViewerAsset>;

export interface ViewerAppOptions extends EventStreamOptions {
  /** Host names (without port) the Host header may carry; default any. */
  allowedHosts?: readonly string[];
  /** Serves `/basis` (watch --basis). */
  basis?: BasisPanel;
}

/** The handler, and its event stream (`close()` ends every stream and stops listening to the session). */
export type ViewerHandler = ((request: Request) => Response) & { readonly events: EventStream; close(): void };

const text = (status: number, body: string) =>
  new Response(body, { status, headers: { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" } });

export function viewerApp(session: ViewerSession, assets: ViewerAssets, options: ViewerAppOptions = {}): ViewerHandler {
  const stream = new EventStream(session, options);
  const handler = (request: Request): Response => {
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
    if (url.pathname === "/events") return stream.connect(request.signal);
    if (url.pathname === "/image") return image(session, url.searchParams);
    if (url.pathname === "/explain" || url.pathname === "/saliency") return explanation(session, url.pathname, url.searchParams);
    if (url.pathname === "/basis") return basisResponse(options.basis, url.searchParams, request.signal);
    if (url.pathname === "/favicon.ico") return new Response(favicon(), { headers: { "content-type": "image/png", "cache-control": "max-age=86400" } });
    return text(404, "not found\n");
  };
  return Object.assign(handler, { events: stream, close: () => stream.close() });
}

let icon: Uint8Array<ArrayBuffer> | undefined;

/** A 32 px icon: three dots of the default prompt colours on a ring, drawn once. */
function favicon(): Uint8Array<ArrayBuffer> {
  if (icon) return icon;
  const size = 32, data = new Uint8Array(size * size * 4);
  const dots: [number, number, number, [number, number, number]][] = [
    [16, 16, 5, [0x55, 0x55, 0x55]],
    [8, 9, 5, [0x4e, 0x79, 0xa7]],
    [25, 11, 5, [0xf2, 0x8e, 0x2c]],
    [16, 26, 5, [0xe1, 0x57, 0x59]],
  ];
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      for (const [cx, cy, r, rgb] of dots) {
        const coverage = Math.max(0, Math.min(1, r + 0.5 - Math.hypot(x + 0.5 - cx, y + 0.5 - cy)));
        if (coverage <= 0) continue;
        const p = (y * size + x) * 4;
        data.set(rgb, p);
        data[p + 3] = Math.max(data[p + 3], Math.round(255 * coverage));
      }
    }
  }
  return icon = new Uint8Array(encodePng({ width: size, height: size, data, channels: 4, depth: 8 }));
}

/** A query parameter as an integer, or undefined when it is missing or not one. */
function integerParam(params: URLSearchParams, name: string): number | undefined {
  const raw = params.get(name);
  return raw !== null && /^-?\d+$/.test(raw.trim()) && Number.isSafeInteger(Number(raw)) ? Number(raw) : undefined;
}

function image(session: ViewerSession, params: URLSearchParams): Response {
  const instance = integerParam(params, "instance"), step = integerParam(params, "step");
  if (instance === undefined || step === undefined) return text(400, "instance and step must be given, as integers\n");
  const found = session.imageBytes(instance, step);
  if (!found) return text(404, `no image of instance ${instance} at step ${step}\n`);
  const [c, h, w] = found.shape;
  // Channel-major [C, H, W] to interleaved 8-bit grey or RGB(A).
  const channels = c === 1 || c === 3 || c === 4 ? c : 1;
  const data = new Uint8Array(h * w * channels);
  for (let p = 0; p < h * w; p++) {
    for (let k = 0; k < channels; k++) data[p * channels + k] = found.bytes[k * h * w + p];
  }
  const png = new Uint8Array(encodePng({ width: w, height: h, data, channels, depth: 8 }));
  return new Response(png, { headers: { "content-type": "image/png", "cache-control": "no-store" } });
}

function explanation(session: ViewerSession, path: string, params: URLSearchParams): Response {
  const instance = integerParam(params, "instance"), step = integerParam(params, "step");
  if (instance === undefined || step === undefined) return text(400, "instance and step must be given, as integers\n");
  if (path === "/explain") {
    const facts = session.explanation(instance, step);
    if (!facts) return text(404, `no explanation of instance ${instance} at step ${step}\n`);
    return new Response(JSON.stringify(facts), { headers: { "content-type": "application/json", "cache-control": "no-store" } });
  }
  const map = session.saliencyMap(instance, step);
  if (!map) return text(404, `no saliency map of instance ${instance} at step ${step}\n`);
  const png = Uint8Array.from(atob(diverging(map.values, map.width, map.height)), (c) => c.charCodeAt(0));
  return new Response(png, { headers: { "content-type": "image/png", "cache-control": "no-store" } });
}
