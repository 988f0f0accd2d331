/**
 * The worker's side of a Thread: messages to and from the thread that
 * started it, through node:worker_threads' parent port where there is one
 * (Node, Deno and Bun), else the web Worker's global scope.
 */
import { pack, unpack } from "./wire.ts";

export interface ParentPort {
  post(message: unknown): void;
  listen(listener: (message: unknown) => void): void;
}

export async function parentPort(): Promise<ParentPort> {
  const port = await import("node:worker_threads").then((m) => m.parentPort ?? undefined, () => undefined);
  if (port) return { post: (m) => port.postMessage(pack(m)), listen: (f) => port.on("message", (m) => f(unpack(m))) };
  const scope = globalThis as unknown as { postMessage(m: unknown): void; addEventListener(t: string, f: (e: { data: unknown }) => void): void };
  return { post: (m) => scope.postMessage(pack(m)), listen: (f) => scope.addEventListener("message", (e) => f(unpack(e.data))) };
}
