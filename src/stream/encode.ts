/**
 * `encode`: an encoder as a pipeable operator. Each step table gets a
 * (new) features column; tables are encoded one at a time, in order.
 */
import { concatMap, from, type OperatorFunction } from "rxjs";
import type { StepTable } from "../data/step_table.ts";
import type { Encoder } from "../encoders/encoder.ts";
import { encodeTable } from "../encoders/encode_table.ts";

export function encode(encoder: Encoder): OperatorFunction<StepTable, StepTable> {
  return concatMap((table) => from(encodeTable(table, encoder)));
}
