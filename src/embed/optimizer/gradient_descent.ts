/**
 * Gradient descent with momentum and per-coordinate gains (Jacobs' delta-bar-
 * delta, as in t-SNE), the built-in Optimizer. Every step keeps its own gains
 * and velocity (in its StepState, so checkpoints carry them).
 */
import type { StepState } from "../state/state.ts";
import type { Optimizer } from "./optimizer.ts";

export interface GradientDescentOptions {
  /**
   * Step size, or "auto" (default): max(n / 4, 50) for a step of n points,
   * which scales with the 1/n size of t-SNE's gradients (Belkina et al.
   * 2019; openTSNE) and keeps the lane well stable at any n.
   */
  learningRate?: number | "auto";
  /** Momentum for the first `momentumSwitch` iterations, then `finalMomentum`. */
  momentum?: number;
  finalMomentum?: number;
  momentumSwitch?: number;
  minGain?: number;
}

/** The options each built-in optimiser was made with: what a checkpoint saves. */
const made = new WeakMap<Optimizer, GradientDescentOptions>();

/**
 * The built-in optimiser: momentum 0.5 → 0.8 after 20 iterations, gains
 * +0.2 / ×0.8 (floor 0.01), learning rate max(n / 4, 50) per step.
 *
 * @example
 * new EvolutionaryEmbedding({ optimizer: gradientDescent({ learningRate: 200 }) });
 */
export function gradientDescent(options: GradientDescentOptions = {}): Optimizer {
  const rate = options.learningRate ?? "auto";
  const m0 = options.momentum ?? 0.5, m1 = options.finalMomentum ?? 0.8;
  const switchAt = options.momentumSwitch ?? 20, minGain = options.minGain ?? 0.01;
  const optimizer: Optimizer = {
    name: "gradient-descent",
    update(s: StepState, iteration: number): void {
      const momentum = iteration < switchAt ? m0 : m1;
      const lr = rate === "auto" ? Math.max(s.n / 4, 50) : rate;
      const { y, grad, gains, velocity } = s;
      for (let i = 0; i < y.length; i++) {
        const g = grad[i], v = velocity[i], old = gains[i];
        // Gains grow while the gradient keeps pointing against the motion. The signs are random enough
        // to defeat branch prediction, so the choice is arithmetic (adding 0 · the other keeps the bits).
        const flip = +(g > 0) ^ +(v > 0);
        const gain = Math.max(flip * (old + 0.2) + (1 - flip) * (old * 0.8), minGain);
        gains[i] = gain;
        const nv = momentum * v - lr * gain * g;
        velocity[i] = nv;
        y[i] += nv;
        grad[i] = 0;
      }
    },
  };
  made.set(optimizer, { ...options });
  return optimizer;
}

/** The options of a built-in optimiser (a copy); undefined for any other. */
export function gradientDescentOptions(optimizer: Optimizer): GradientDescentOptions | undefined {
  const options = made.get(optimizer);
  return options && { ...options };
}
