/**
 * An async generator as an observable that can be cancelled: the generator
 * gets an AbortSignal, which fires when the subscriber unsubscribes, so a
 * long step (a denoiser call) stops at its next check instead of running on.
 */
import { Observable } from "rxjs";

export function fromAsync<T>(start: (signal: AbortSignal) => AsyncIterable<T>): Observable<T> {
  return new Observable<T>((subscriber) => {
    const controller = new AbortController();
    (async () => {
      for await (const value of start(controller.signal)) {
        if (subscriber.closed) return;
        subscriber.next(value);
      }
      subscriber.complete();
    })().catch((error) => {
      if (!controller.signal.aborted) subscriber.error(error);
    });
    return () => controller.abort();
  });
}
