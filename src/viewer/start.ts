/**
 * Puts the live viewer on a port: reads the page's files (src/viewer/) and
 * serves the viewer's handler through the node:http adapter. Listens on
 * 127.0.0.1 unless another host is asked for; on a loopback host it also
 * accepts only loopback Host headers. node:fs is imported only when the
 * viewer starts, so a browser can load the library.
 */
import { type ViewerAppOptions, type ViewerAssets, viewerApp } from "./app.ts";
import type { EventStreamOptions } from "./event_stream.ts";
import type { ViewerSession } from "./viewer_session.ts";
import { type RunningServer, serve, type ServeOptions } from "../runtime/server.ts";

const FILES = {
  "/": ["index.html", "text/html; charset=utf-8"],
  "/viewer.js": ["viewer.js", "text/javascript; charset=utf-8"],
  "/viewer.css": ["viewer.css", "text/css; charset=utf-8"],
} as const;

const LOOPBACK = ["127.0.0.1", "localhost", "::1"];

export async function viewerAssets(): Promise<ViewerAssets> {
  // Files beside this module; fetched when it is not a file (a JSR import).
  const read = async (url: URL) =>
    url.protocol === "file:" ? await (await import("node:fs/promises")).readFile(url, "utf8") : await (await fetch(url)).text();
  const entries = await Promise.all(
    Object.entries(FILES).map(async ([path, [file, type]]) =>
      [path, { type, body: await read(new URL(`./${file}`, import.meta.url)) }] as const
    ),
  );
  return Object.fromEntries(entries) as ViewerAssets;
}

/** Where to listen (ServeOptions), how to serve the event stream (EventStreamOptions), and the basis panel. */
export type ViewerServeOptions = ServeOptions & EventStreamOptions & Pick<ViewerAppOptions, "basis">;

export async function startViewer(session: ViewerSession, options: ViewerServeOptions = {}): Promise<RunningServer> {
  const host = options.host ?? "127.0.0.1";
  const loopback = LOOPBACK.includes(host) || host.startsWith("127.");
  const app = viewerApp(session, await viewerAssets(), { ...options, allowedHosts: loopback ? [...LOOPBACK, host] : undefined });
  const server = await serve(app, { ...options, host }).catch((error) => {
    app.close();
    throw error;
  });
  return {
    ...server,
    close: async () => {
      app.close();
      await server.close();
    },
  };
}
