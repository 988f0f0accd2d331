/**
 * The explanations as pipeable operators on a stream of step tables (one
 * step each, as every source emits them):
 *
 *   commit(options)    after each step, the Commitment so far: classes up to
 *                      this step, commitment relative to the latest class
 *                      (provisional until the stream completes, when it is the
 *                      final one), its Arrow table in `table`, and the class
 *                      probabilities of every row so far in `scores`;
 *   saliency(options)  per step, DF-RISE saliency and insertion/deletion of
 *                      the chosen instances as a saliency table (Arrow), the
 *                      step skipped when `steps` does not name it.
 *
 * Tables are handled one at a time, in order; unsubscribing aborts the work
 * in progress (CancelledError inside).
 */
import { concatMap, Observable, type OperatorFunction } from "rxjs";
import type { Table } from "apache-arrow";
import { readStepTable, type StepTable } from "../data/step_table.ts";
import { classScores, type Commitment, commitmentOf, type CommitmentOptions } from "../explain/commitment.ts";
import { commitmentTable, saliencyTable } from "../explain/explain_tables.ts";
import { explainSaliency, type SaliencyOptions } from "../explain/saliency.ts";
import { trajectories } from "../explain/trajectories.ts";

export interface CommitmentUpdate {
  commitment: Commitment;
  table: Table;
  /** The last step seen. */
  step: number;
  scores: RowScores;
}

/** Class probabilities per row (rows×k), with each row's instance and step. */
export interface RowScores {
  instance: Int32Array;
  step: Int32Array;
  probabilities: Float32Array;
  k: number;
}

export function commit(options: CommitmentOptions): OperatorFunction<StepTable, CommitmentUpdate> {
  return (source) =>
    new Observable<CommitmentUpdate>((subscriber) => {
      const instance: number[] = [], step: number[] = [], prompt: number[] = [], prompts: string[] = [];
      const chunks: Float32Array[] = [];
      let k = 0;
      const controller = new AbortController();
      const inner = source.pipe(concatMap(async (table) => {
        const cols = readStepTable(table, { image: !options.scores });
        const scores = await classScores(cols, { ...options, signal: controller.signal });
        k = scores.k;
        for (let r = 0; r < cols.instance.length; r++) {
          instance.push(cols.instance[r]);
          step.push(cols.step[r]);
          const label = cols.prompts[cols.prompt[r]];
          prompt.push(prompts.includes(label) ? prompts.indexOf(label) : prompts.push(label) - 1);
        }
        chunks.push(scores.probabilities);
        const all = { instance: Int32Array.from(instance), step: Int32Array.from(step), prompt: Int32Array.from(prompt), prompts };
        const probs = new Float32Array(instance.length * k);
        chunks.reduce((offset, chunk) => (probs.set(chunk, offset), offset + chunk.length), 0);
        const predicted = Int32Array.from({ length: instance.length }, (_, r) => {
          let best = 0;
          for (let j = 1; j < k; j++) if (probs[r * k + j] > probs[r * k + best]) best = j;
          return best;
        });
        const commitment = commitmentOf(trajectories(all), { probabilities: probs, k, predicted }, options.classes);
        return { commitment, table: commitmentTable(commitment), step: Math.max(...cols.step), scores: { instance: all.instance, step: all.step, probabilities: probs, k } };
      })).subscribe(subscriber);
      return () => {
        controller.abort();
        inner.unsubscribe();
      };
    });
}

export function saliency(options: SaliencyOptions): OperatorFunction<StepTable, Table> {
  return concatMap((table) =>
    new Observable<Table>((subscriber) => {
      const cols = readStepTable(table, { image: true });
      if (options.steps && !cols.step.some((s) => options.steps!.includes(s))) return void subscriber.complete();
      const controller = new AbortController();
      explainSaliency(table, { ...options, signal: controller.signal }).then(
        (result) => {
          subscriber.next(saliencyTable(result));
          subscriber.complete();
        },
        (error) => subscriber.error(error),
      );
      return () => controller.abort();
    })
  );
}
