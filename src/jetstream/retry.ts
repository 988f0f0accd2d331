/**
 * Publishing through a broker that may be restarting or slow to store: a
 * publish is tried again until the server confirms it. Every message the
 * library publishes carries a message id, so a publish whose reply was lost
 * and is tried again is stored once.
 */
import { CancelledError, throwIfAborted } from "../errors.ts";

/** Runs `publish` until the server confirms it, for `retryMs` at most; the last error if it never does. */
export async function withRetry<T>(publish: () => Promise<T>, options: { retryMs?: number; signal?: AbortSignal }): Promise<T> {
  const deadline = Date.now() + (options.retryMs ?? 120_000);
  for (let wait = 100;; wait = Math.min(wait * 2, 2000)) {
    throwIfAborted(options.signal, "publishing");
    try {
      return await publish();
    } catch (error) {
      if (Date.now() + wait > deadline) throw error;
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(resolve, wait);
        options.signal?.addEventListener("abort", () => {
          clearTimeout(timer);
          reject(new CancelledError("publishing"));
        }, { once: true });
      });
    }
  }
}
