/** Point sets and steps shared by the kernel tests. */
import { alignment, displacement, EvolutionaryEmbedding, measureQuality, random, semantic, type StepInput, studentT, type StudentTOptions } from "../mod.ts";

/** n points on a noisy ring of radius 10, as a lane of the radial layout holds them. */
export function ring(n: number, seed: number): Float64Array {
  const rng = random(seed), y = new Float64Array(2 * n);
  for (let i = 0; i < n; i++) {
    const a = rng.next() * 2 * Math.PI, r = 10 + rng.normal();
    y[2 * i] = r * Math.cos(a);
    y[2 * i + 1] = r * Math.sin(a);
  }
  return y;
}

/** T steps of n instances in four clusters that separate as the steps go on. */
export function clusteredSteps(T: number, n: number, dim: number, seed: number): StepInput[] {
  const rng = random(seed);
  const centre = Array.from({ length: 4 }, () => Float32Array.from({ length: dim }, () => 4 * rng.normal()));
  return Array.from({ length: T }, (_, t) => ({
    step: t,
    instance: Int32Array.from({ length: n }, (_, i) => i),
    prompt: Int32Array.from({ length: n }, (_, i) => i % 4),
    features: Float32Array.from({ length: n * dim }, (_, k) => centre[Math.floor(k / dim) % 4][k % dim] * ((t + 1) / T) + rng.normal()),
    dim,
  }));
}

/** Mean per-step trustworthiness after embedding `input` with the given repulsion, on one thread. */
export async function trustworthinessWith(repulsion: StudentTOptions["repulsion"], input: StepInput[], iterations: number): Promise<number> {
  const e = new EvolutionaryEmbedding({ seed: 1, losses: [semantic({ kernel: studentT({ repulsion }), threads: 1 }), displacement(), alignment()] });
  for (const s of input) e.addStep(s);
  await e.optimize(iterations);
  return measureQuality(e).meanTrustworthiness;
}
