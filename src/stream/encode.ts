/**
 * `encode`: an encoder as a pipeable operator. Each step table gets a
 * (new) features column; tables are encoded one at a time, in order, and
 * unsubscribing aborts the table being encoded (CancelledError inside).
 */
import { concatMap, Observable, type OperatorFunction } from "rxjs";
import type { StepTable } from "../data/step_table.ts";
import type { Encoder } from "../encoders/encoder.ts";
import { encodeTable } from "../encoders/encode_table.ts";

export interface EncodeOperatorOptions {
  /** Rows encoded so far in the current table, after each batch. */
  onProgress?: (done: number, total: number) => void;
}

export function encode(encoder: Encoder, options: EncodeOperatorOptions = {}): OperatorFunction<StepTable, StepTable> {
  return concatMap((table) =>
    new Observable<StepTable>((subscriber) => {
      const controller = new AbortController();
      encodeTable(table, encoder, { signal: controller.signal, onProgress: options.onProgress }).then(
        (encoded) => {
          subscriber.next(encoded);
          subscriber.complete();
        },
        (error) => subscriber.error(error),
      );
      return () => controller.abort();
    })
  );
}
