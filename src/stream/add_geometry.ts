/**
 * `addGeometry`: the local-basis readings as a pipeable operator. Each step
 * table (one step of a stream, with `noisy`) comes out with its geometry
 * table and distance table beside it; tables are read one at a time, in
 * order, and unsubscribing aborts the table being read (CancelledError
 * inside).
 *
 *   mnistDiffusion({ … }).pipe(addGeometry({ engine: closedFormJacobian(denoiser), condition }))
 */
import { concatMap, Observable, type OperatorFunction } from "rxjs";
import type { Table } from "apache-arrow";
import { IMAGE_SHAPE_KEY, type StepTable } from "../data/step_table.ts";
import { distanceTable, type GeometryOptions, geometryTable, stepGeometry, type StepSummary } from "../geometry/readings.ts";

export interface GeometryFrame {
  /** The step table, as it came. */
  steps: StepTable;
  /** One row per instance: singular values, spectral centroids, ESS, conditional distance (and the basis, with `vectors`). */
  geometry: Table;
  /** Within-prompt, across-prompt and conditional distances of the step. */
  distances: Table;
  summary: StepSummary[];
}

export function addGeometry(options: Omit<GeometryOptions, "signal">): OperatorFunction<StepTable, GeometryFrame> {
  return concatMap((steps) =>
    new Observable<GeometryFrame>((subscriber) => {
      const controller = new AbortController();
      stepGeometry(steps, { ...options, signal: controller.signal }).then(
        ({ rows, distances, summary }) => {
          subscriber.next({
            steps,
            geometry: geometryTable(rows, { vectors: options.vectors, shape: imageShape(steps) }),
            distances: distanceTable(distances),
            summary,
          });
          subscriber.complete();
        },
        (error) => subscriber.error(error),
      );
      return () => controller.abort();
    })
  );
}

function imageShape(steps: StepTable): [number, number, number] | undefined {
  const raw = steps.schema.metadata.get(IMAGE_SHAPE_KEY);
  return raw ? (JSON.parse(raw) as [number, number, number]) : undefined;
}
