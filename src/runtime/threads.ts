/**
 * Worker threads behind one small interface: node:worker_threads in Node,
 * Deno and Bun (all three implement it; in Node the worker first registers
 * tsx when the entry is TypeScript), web Workers elsewhere (browsers).
 */
import { pack, unpack } from "./wire.ts";

export interface Thread {
  post(message: unknown): void;
  onMessage(listener: (data: unknown) => void): void;
  onError(listener: (error: unknown) => void): void;
  /** Whether the thread keeps the process alive: on during a run, off while idle. */
  keepAlive(on: boolean): void;
  terminate(): void;
}

interface Runtime {
  process?: { versions?: { node?: string } };
  Deno?: unknown;
  Bun?: unknown;
  Worker?: new (url: URL, options: { type: "module" }) => {
    postMessage(message: unknown): void;
    addEventListener(type: string, listener: (event: { data?: unknown; error?: unknown; message?: string }) => void): void;
    terminate(): void;
  };
}

/** What is used here of node:worker_threads' Worker (typed here: Deno's and @types/node's declarations of it differ). */
interface NodeWorker {
  postMessage(message: unknown): void;
  on(event: "message" | "error", listener: (data: unknown) => void): unknown;
  ref?(): void;
  unref?(): void;
  terminate(): unknown;
}
type NodeWorkerClass = new (entry: URL, options?: { workerData?: unknown }) => NodeWorker;

export async function spawnThread(entry: URL): Promise<Thread> {
  const g = globalThis as Runtime;
  if (g.process?.versions?.node === undefined && g.Worker) {
    const w = new g.Worker(entry, { type: "module" });
    return {
      post: (m) => w.postMessage(pack(m)),
      onMessage: (f) => w.addEventListener("message", (e) => f(unpack(e.data))),
      onError: (f) => w.addEventListener("error", (e) => f(e.error ?? e.message ?? e)),
      keepAlive: () => {},
      terminate: () => w.terminate(),
    };
  }
  const { Worker } = (await import("node:worker_threads")) as unknown as { Worker: NodeWorkerClass };
  const plainNode = g.Deno === undefined && g.Bun === undefined;
  const w = plainNode ? new Worker(new URL("./node_boot.mjs", import.meta.url), { workerData: { entry: entry.href } }) : new Worker(entry);
  // An idle pool must not keep the process alive. Attaching a listener references
  // the worker again, so the state is restored after each.
  let alive = false;
  const keepAlive = (on: boolean) => ((alive = on) ? w.ref?.() : w.unref?.());
  keepAlive(false);
  return {
    post: (m) => w.postMessage(pack(m)),
    onMessage: (f) => (w.on("message", (m) => f(unpack(m))), keepAlive(alive)),
    onError: (f) => (w.on("error", f), keepAlive(alive)),
    // Deno ends a process whose only pending work is an unreferenced worker, even mid-run.
    keepAlive,
    terminate: () => void w.terminate(),
  };
}

/**
 * The worker module `name` beside `base` (the caller's import.meta.url), with
 * the caller's own extension: .ts in the sources, .js once compiled (dist/).
 */
export function siblingModule(name: string, base: string): URL {
  return new URL(`${name}${new URL(base).pathname.endsWith(".js") ? ".js" : ".ts"}`, base);
}

/** Hardware threads available to this process. */
export async function hardwareThreads(): Promise<number> {
  const nav = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator;
  if (nav?.hardwareConcurrency) return nav.hardwareConcurrency;
  try {
    const os = await import("node:os");
    return os.availableParallelism?.() ?? os.cpus().length;
  } catch {
    return 1;
  }
}
