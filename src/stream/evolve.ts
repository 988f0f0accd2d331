/**
 * `evolve`: the incremental embedder as a pipeable operator. Step tables in,
 * frame tables out: a frame after each update (which may coalesce several
 * steps, see src/embed/incremental.ts) and a final one, after the polish
 * pass, when the source completes.
 *
 * Errors (a malformed table, a duplicate or late row) are typed
 * DiffusionLifeErrors delivered as the observable's error, and unsubscribe
 * from the source. Unsubscribing stops the work within one batch of
 * iterations and frees the embedder's buffers.
 */
import { Observable, type OperatorFunction } from "rxjs";
import type { FrameTable } from "../data/frame_table.ts";
import type { StepTable } from "../data/step_table.ts";
import { IncrementalEmbedder } from "../embed/run/incremental.ts";
import type { IncrementalOptions } from "../embed/run/incremental_options.ts";

/**
 * Pass options for a fresh embedder, or an embedder of your own (for
 * instance one restored from a checkpoint); yours is not disposed on
 * unsubscribe, so it can still be checkpointed.
 */
export function evolve(options: IncrementalOptions | IncrementalEmbedder = {}): OperatorFunction<StepTable, FrameTable> {
  return (source) =>
    new Observable<FrameTable>((subscriber) => {
      const owned = !(options instanceof IncrementalEmbedder);
      const embedder = options instanceof IncrementalEmbedder ? options : new IncrementalEmbedder(options);
      const controller = new AbortController();
      let ended = false, busy = false;

      // One update at a time; whatever arrives meanwhile waits for the next.
      async function drain(): Promise<void> {
        if (busy) return;
        busy = true;
        try {
          while (embedder.ready && !subscriber.closed) {
            const frame = await embedder.update(controller.signal);
            if (frame) subscriber.next(frame);
          }
          if (ended && !subscriber.closed) {
            subscriber.next(await embedder.finish(controller.signal));
            subscriber.complete();
          }
        } catch (error) {
          // After an unsubscribe the cancellation is expected, and no one listens.
          if (!controller.signal.aborted) subscriber.error(error);
        } finally {
          busy = false;
        }
      }

      const input = source.subscribe({
        next(table) {
          // A synchronous source keeps emitting after an error until its subscription is returned.
          if (subscriber.closed) return;
          try {
            embedder.push(table);
          } catch (error) {
            subscriber.error(error);
            return;
          }
          void drain();
        },
        error: (error) => subscriber.error(error),
        complete() {
          ended = true;
          embedder.end();
          void drain();
        },
      });
      return () => {
        controller.abort();
        input.unsubscribe();
        if (owned) embedder.dispose();
      };
    });
}
