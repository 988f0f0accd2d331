/**
 * Seeded pseudo-random numbers (xoshiro128**), so every result is
 * reproducible from a seed in all three runtimes.
 */
import { cos, log, sin } from "./portable_math.ts";

export interface Random {
  /** Uniform in [0, 1). */
  next(): number;
  /** Standard normal. */
  normal(): number;
  /** Integer in [0, n). */
  int(n: number): number;
  /** The generator's state, from which `resumeRandom` continues the same sequence (for checkpoints). */
  save(): RandomState;
}

/** xoshiro128**'s four words and the spare normal deviate (NaN when none). */
export type RandomState = readonly [a: number, b: number, c: number, d: number, spare: number];

function splitmix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

export function random(seed = 0): Random {
  const init = splitmix32(seed);
  return resumeRandom([init(), init(), init(), init(), NaN]);
}

/** The generator in the state `save()` returned. */
export function resumeRandom(state: RandomState): Random {
  let [a, b, c, d] = state;
  let spare: number | undefined = Number.isNaN(state[4]) ? undefined : state[4];
  const nextU32 = (): number => {
    const result = Math.imul(rotl(Math.imul(b, 5), 7), 9) >>> 0;
    const t = b << 9;
    c ^= a;
    d ^= b;
    b ^= c;
    a ^= d;
    c ^= t;
    d = rotl(d, 11);
    return result;
  };
  const next = () => nextU32() / 4294967296;
  return {
    next,
    int: (n) => Math.floor(next() * n),
    save: () => [a, b, c, d, spare ?? NaN],
    normal() {
      if (spare !== undefined) {
        const s = spare;
        spare = undefined;
        return s;
      }
      // Box-Muller; 1 - u keeps the logarithm finite.
      const u = 1 - next(), v = next();
      const r = Math.sqrt(-2 * log(u));
      spare = r * sin(2 * Math.PI * v);
      return r * cos(2 * Math.PI * v);
    },
  };
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
