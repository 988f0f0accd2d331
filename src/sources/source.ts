/**
 * What every source of steps is: an async iterable of validated step
 * tables (`StepTable`), yielded as the steps are made or read. A table may
 * hold one step, several, or part of one (a recording's record batch); rows
 * of one (instance, step) appear once across the whole source. Iterating
 * starts the work; breaking out of a `for await` loop (or the iterator's
 * `return()`) stops it and releases what it holds (a file handle, a model
 * session).
 *
 * The built-in sources — `mnistDiffusion`, `sampleDiffusion`,
 * `readRecording`, `readImageFolder` — return one; `collectSteps` gathers
 * one into a single table, `fromAsync` turns one into an RxJS Observable,
 * and anything that is async-iterable over StepTables (a user's generator,
 * a stream) can stand in for them.
 */
import type { StepTable } from "../data/step_table.ts";

export type StepSource = AsyncIterable<StepTable>;
