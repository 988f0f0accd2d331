/**
 * `publishSteps`: a producer's step tables to a run on JetStream, as a
 * pipeable operator. Each table is published (every part stored) before the
 * next is taken, so a producer faster than the server waits rather than
 * queueing; when the source completes, the producer's end is published and
 * the operator completes.
 */
import { concat, concatMap, defer, ignoreElements, type Observable, type OperatorFunction } from "rxjs";
import type { NatsConnection } from "@nats-io/nats-core";
import { asStepTable, readStepTable, type StepTable } from "../data/step_table.ts";
import { StepOrderError } from "../errors.ts";
import { publishEnd, type PublishedStep, publishStepTable, type PublishOptions } from "./publish_step_table.ts";

/**
 * @example
 * ```ts
 * const nc = await connect({ servers: "127.0.0.1:4222" });
 * await lastValueFrom(
 *   mnistDiffusion({ instances: 8, steps: 20, seed: 1 }).pipe(
 *     encode(pixelEncoder()),
 *     publishSteps(nc, { run: "digits", producer: "gpu0" }),
 *   ),
 * );
 * ```
 * A step must come whole in one table (a producer's rows of a step that it
 * already published are a StepOrderError).
 */
export function publishSteps(nc: NatsConnection, options: PublishOptions): OperatorFunction<StepTable, PublishedStep> {
  return (source) =>
    defer(() => {
      const published = new Set<number>();
      const end = defer(() => publishEnd(nc, { ...options, steps: [...published] })).pipe(ignoreElements());
      const steps: Observable<PublishedStep> = source.pipe(
        concatMap((table) => {
          // Before publishing: a repeated step's parts would carry the message ids of the first, and vanish as duplicates.
          const again = [...new Set(readStepTable(asStepTable(table)).step)].find((s) => published.has(s));
          if (again !== undefined) throw new StepOrderError(`producer "${options.producer}" published step ${again} already`);
          return publishStepTable(nc, table, options).then((done) => {
            done.forEach((p) => published.add(p.step));
            return done;
          });
        }),
        concatMap((done) => done),
      );
      return concat(steps, end);
    });
}
