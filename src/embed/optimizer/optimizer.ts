/**
 * The optimiser (ParaDime's training step): it turns the gradient the losses
 * accumulated on a step into a move of that step's points. This is the
 * interface an optimiser plugin implements; `gradientDescent` is the
 * built-in one, written against it.
 */
import type { StepState } from "../state/state.ts";

export interface Optimizer {
  readonly name: string;
  /**
   * Applies one update to step `s` from its accumulated gradient `s.grad`
   * (n×2, the sum of every loss's weight · ∂L/∂y this iteration): moves
   * `s.y`, then sets every entry of `s.grad` to 0, since the losses add to it
   * in the next iteration. Called once per iteration for each active step
   * (held steps are not passed) after all the losses' gradients;
   * `iteration` counts from 0 in each `optimize` run (an incremental step's
   * own iterations, or the polish pass).
   *
   * State: the per-coordinate arrays `s.velocity` (initially 0) and
   * `s.gains` (initially 1), n×2 each, belong to the optimiser, which may use
   * them for anything; they are saved in checkpoints and restored, so a
   * restored run continues exactly. Any other state it keeps (such as a
   * WeakMap from steps) is its own and is not checkpointed. An update must
   * touch no step but `s`.
   */
  update(s: StepState, iteration: number): void;
}
