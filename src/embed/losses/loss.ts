/**
 * Losses (ParaDime's building block): each adds its weighted gradient to the
 * steps being optimised. The embedding's objective is their sum.
 */
import type { Layout } from "../../layouts/layout.ts";
import type { Kernel } from "../kernel/kernel.ts";
import type { StepState } from "../state/state.ts";

export interface LossContext {
  /** All embedded steps, in step order. */
  readonly steps: readonly StepState[];
  /** active[s] = 1 when steps[s] is being optimised (others are held fixed). */
  readonly active: Uint8Array;
  readonly layout: Layout;
  /** Fraction of the optimisation done, 0..1 (drives schedules). */
  readonly progress: number;
  /** Early-exaggeration factor in force. */
  readonly exaggeration: number;
}

export interface Loss {
  readonly name: string;
  /** The low-dimensional kernel this loss compares P_t with, if any: the quality report's KL uses it. */
  readonly kernel?: Kernel;
  /** Adds weight · ∂L/∂y to `grad` of every active step (asynchronously when it returns a promise). */
  gradient(ctx: LossContext): void | Promise<void>;
  /**
   * Starts this iteration's gradient on other threads, where it can; its
   * `gradient` then completes it. The gradients of losses with a `begin`
   * come after the others', which this thread computes meanwhile.
   */
  begin?(ctx: LossContext): void;
  /** The loss value, for reports. */
  value(ctx: LossContext): number;
  /**
   * Starts what the gradient of steps of n points will use (threads), so
   * that it comes up while the affinities are computed; resolves once it is
   * started, not necessarily up.
   */
  ready?(n: number): Promise<void>;
  /** Called before a run of iterations over `ctx`'s active steps (e.g. to start threads). */
  prepare?(ctx: LossContext): Promise<void>;
  /** Called after the run, also when it was cancelled or failed. */
  finish?(): Promise<void>;
  /** Releases what the loss holds (threads); it still works afterwards. */
  dispose?(): void;
}

/** A weight that is constant or follows the optimisation's progress. */
export type Weight = number | ((progress: number) => number);

/**
 * A weight's value at a progress fraction (0..1).
 *
 * @example
 * weightAt(16, 0.3); // 16
 * weightAt((p) => 1 - p, 0.25); // 0.75
 */
export const weightAt = (w: Weight, progress: number): number => (typeof w === "number" ? w : w(progress));

/**
 * A piecewise-constant schedule: [[from progress, value], …], ascending.
 *
 * @example
 * // The displacement loss's σ: 20, then 15 from half-way, 10 from 62.5 %, 8 from 75 %.
 * const sigma = stepSchedule([[0, 20], [0.5, 15], [0.625, 10], [0.75, 8]]);
 * displacement({ sigma, weight: stepSchedule([[0, 4], [0.5, 16]]) });
 */
export function stepSchedule(points: readonly (readonly [number, number])[]): (progress: number) => number {
  return (progress) => {
    let v = points[0][1];
    for (const [from, value] of points) if (progress >= from) v = value;
    return v;
  };
}
