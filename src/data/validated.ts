/**
 * Validated tables. A step or frame table that the library built or checked
 * carries, in its type, the fact that it was validated (`StepTable`,
 * `FrameTable`: an Arrow `Table` branded "step" or "frame"), and the library
 * remembers the table object itself (a WeakSet per kind), so a stage that
 * receives one reads it without checking it again. A plain `Table` from
 * elsewhere (an IPC file read with apache-arrow, a table built by hand) is
 * checked once by `asStepTable` / `asFrameTable`; a table cast to the branded
 * type without being checked is still checked when the library reads it.
 */
import type { Table } from "apache-arrow";

declare const validated: unique symbol;

/** The brand of a table the library validated as a `Kind` table. */
export interface Validated<Kind extends "step" | "frame"> {
  readonly [validated]: Kind;
}

const known = { step: new WeakSet<object>(), frame: new WeakSet<object>() };

/** Whether this very table object was validated (built or checked by the library) as a `kind` table. */
export function isValidated(table: Table, kind: "step" | "frame"): boolean {
  return known[kind].has(table);
}

/** Records that `table` was validated as a `kind` table; returns it with the brand. */
export function markValidated<K extends "step" | "frame">(table: Table, kind: K): Table & Validated<K> {
  known[kind].add(table);
  return table as Table & Validated<K>;
}
