/**
 * The runtime adapter for serving HTTP: node:http, which Node, Deno and Bun
 * all provide, in front of a web-standard handler (Request → Response), so
 * the viewer's logic (src/viewer/app.ts) never sees the runtime. Response
 * bodies are streamed chunk by chunk as they are produced (server-sent
 * events), each written only once the socket has taken the one before
 * (backpressure: a client that stops reading stops the body's reads, and the
 * handler sees its stream fill); a client that goes away cancels its body.
 * Request bodies are not forwarded: the handlers served here answer GET and
 * HEAD only, and a method fetch's Request cannot carry (TRACE, TRACK,
 * CONNECT) is answered 405 here. A handler that throws is a 500. node:http is
 * imported only when a server starts, so a browser can load the library.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { OptionError } from "../errors.ts";

export type Handler = (request: Request) => Response | Promise<Response>;

export interface ServeOptions {
  /** Interface to listen on (default 127.0.0.1: this machine only). */
  host?: string;
  /** Port (default 0: any free port). */
  port?: number;
  /** Open connections at most (default 1024); more are closed as they come (Node). */
  maxConnections?: number;
}

export interface RunningServer {
  /** Where it listens, e.g. http://127.0.0.1:40123/ */
  url: string;
  host: string;
  port: number;
  /** Stops listening and ends open connections (event streams included). */
  close(): Promise<void>;
}

export async function serve(handler: Handler, options: ServeOptions = {}): Promise<RunningServer> {
  const host = options.host ?? "127.0.0.1";
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new OptionError("port", `must be an integer in 0..65535, got ${port}`);
  const { createServer } = await import("node:http");
  const open = new Set<ServerResponse>();
  const server = createServer((req, res) => {
    open.add(res);
    res.on("close", () => open.delete(res));
    respond(handler, req, res).catch(() => {
      if (res.headersSent) res.destroy();
      else res.writeHead(500, { "content-type": "text/plain; charset=utf-8" }).end("internal error\n");
    });
  });
  server.maxConnections = options.maxConnections ?? 1024;
  return new Promise((resolve, reject) => {
    server.once("error", (error) => reject(new OptionError("host", `cannot listen on ${host}:${port}: ${error.message}`)));
    server.listen(port, host, () => {
      const address = server.address();
      const actual = typeof address === "object" && address ? address.port : port;
      const shown = host.includes(":") ? `[${host}]` : host;
      resolve({
        url: `http://${shown}:${actual}/`,
        host,
        port: actual,
        close: () =>
          new Promise<void>((done) => {
            for (const res of open) res.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}

/** Methods a fetch Request refuses to carry. */
const FORBIDDEN = new Set(["CONNECT", "TRACE", "TRACK"]);

async function respond(handler: Handler, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (FORBIDDEN.has((req.method ?? "").toUpperCase())) {
    res.writeHead(405, { allow: "GET, HEAD", "content-type": "text/plain; charset=utf-8" }).end("method not allowed\n");
    return;
  }
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (typeof value === "string") headers.set(name, value);
    else if (Array.isArray(value)) for (const v of value) headers.append(name, v);
  }
  const controller = new AbortController();
  res.on("close", () => controller.abort());
  // The URL's origin is only a base for parsing the path; the Host header travels in `headers`.
  const request = new Request(new URL(req.url ?? "/", "http://localhost"), { method: req.method, headers, signal: controller.signal });
  const response = await handler(request);
  const head: Record<string, string> = {};
  response.headers.forEach((value, name) => (head[name] = value));
  res.writeHead(response.status, head);
  if (!response.body || req.method === "HEAD") {
    res.end();
    return;
  }
  const reader = response.body.getReader();
  controller.signal.addEventListener("abort", () => void reader.cancel().catch(() => {}));
  for (;;) {
    let chunk;
    try {
      chunk = await reader.read();
    } catch {
      res.destroy(); // the body failed (a slow client dropped by its stream): end the connection
      return;
    }
    if (chunk.done || res.destroyed) break;
    // Wait until the socket has taken it (or closed), so unread data stays in the body's stream,
    // or until the body fails (its producer gave up on a client that does not read).
    if (!res.write(chunk.value)) await Promise.race([drained(res), reader.closed.catch(() => {})]);
  }
  res.end();
}

function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off("drain", done);
      res.off("close", done);
      resolve();
    };
    res.on("drain", done);
    res.on("close", done);
  });
}
