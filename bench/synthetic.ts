/** Synthetic diffusion-shaped steps, so that latency and scale figures do not measure generation. */
import { random, type StepTable, stepTable } from "../mod.ts";

export const DIM = 50;

/**
 * Synthetic trajectories shaped like a diffusion: every instance starts as
 * noise and drifts towards one of 10 class centres, with its own offset, so
 * that clusters appear over the steps.
 */
export function syntheticSteps(n: number, steps: number, seed = 0): StepTable[] {
  const rng = random(seed);
  const centres = Array.from({ length: 10 }, () => Float32Array.from({ length: DIM }, () => 4 * rng.normal()));
  const offset = Float32Array.from({ length: n * DIM }, () => rng.normal());
  const x = Float32Array.from({ length: n * DIM }, () => 3 * rng.normal());
  return Array.from({ length: steps }, (_, t) => {
    const a = (t + 1) / steps;
    for (let k = 0; k < x.length; k++) {
      const i = Math.floor(k / DIM), target = centres[i % 10][k % DIM] + offset[k];
      x[k] = (1 - a) * x[k] + a * target + 0.2 * rng.normal();
    }
    return stepTable({
      instance: Int32Array.from({ length: n }, (_, i) => i),
      prompt: Int32Array.from({ length: n }, (_, i) => i % 10),
      prompts: Array.from({ length: 10 }, (_, c) => `class ${c}`),
      step: new Int32Array(n).fill(t),
      features: x.slice(),
      featureDim: DIM,
    });
  });
}
