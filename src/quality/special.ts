/**
 * Special functions for the statistics the library reports: log Γ, the
 * regularized incomplete gamma functions P(a, x) and Q(a, x) = 1 − P, and
 * from them the χ² distribution's survival function (the p-value of a χ²
 * test): P[χ²_k ≥ x] = Q(k/2, x/2).
 *
 * P and Q as in Numerical Recipes (§6.2): the series
 *   P(a, x) = e^{−x} x^a / Γ(a) · Σ_n x^n / (a(a+1)…(a+n))
 * for x < a + 1, and Legendre's continued fraction for Q (evaluated by
 * the modified Lentz method) otherwise, each to about 1e-15 relative.
 * log Γ by Lanczos' approximation (g = 7, 9 terms; about 1e-15).
 */
import { OptionError } from "../errors.ts";

const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];

/** ln Γ(x) for x > 0. */
export function logGamma(x: number): number {
  if (!(x > 0)) throw new OptionError("x", `log Γ needs x > 0, not ${x}`);
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x); // reflection
  const z = x - 1;
  let s = LANCZOS[0];
  for (let i = 1; i < 9; i++) s += LANCZOS[i] / (z + i);
  const t = z + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(s);
}

const EPS = 1e-16;
const TINY = 1e-300;
const MAX_TERMS = 10_000;

/** The regularized lower incomplete gamma function P(a, x) = γ(a, x)/Γ(a), a > 0, x ≥ 0. */
export function gammaP(a: number, x: number): number {
  check(a, x);
  if (x === 0) return 0;
  return x < a + 1 ? series(a, x) : 1 - fraction(a, x);
}

/** The regularized upper incomplete gamma function Q(a, x) = Γ(a, x)/Γ(a) = 1 − P(a, x). */
export function gammaQ(a: number, x: number): number {
  check(a, x);
  if (x === 0) return 1;
  if (x === Infinity) return 0;
  return x < a + 1 ? 1 - series(a, x) : fraction(a, x);
}

/** P[χ²_df ≥ x]: the p-value of a χ² statistic x with df degrees of freedom. */
export function chiSquareSurvival(x: number, df: number): number {
  if (!(df > 0)) throw new OptionError("df", `must be > 0, not ${df}`);
  if (Number.isNaN(x)) return NaN;
  if (x <= 0) return 1;
  return gammaQ(df / 2, x / 2);
}

function check(a: number, x: number): void {
  if (!(a > 0) || !Number.isFinite(a)) throw new OptionError("a", `must be a finite number > 0, not ${a}`);
  if (!(x >= 0)) throw new OptionError("x", `must be ≥ 0, not ${x}`);
}

/** P(a, x) by its series (converges fast for x < a + 1). */
function series(a: number, x: number): number {
  let ap = a, del = 1 / a, sum = del;
  for (let n = 0; n < MAX_TERMS; n++) {
    ap += 1;
    del *= x / ap;
    sum += del;
    if (Math.abs(del) < Math.abs(sum) * EPS) break;
  }
  return sum * Math.exp(-x + a * Math.log(x) - logGamma(a));
}

/** Q(a, x) by Legendre's continued fraction, modified Lentz (converges fast for x ≥ a + 1). */
function fraction(a: number, x: number): number {
  let b = x + 1 - a, c = 1 / TINY, d = 1 / b, h = d;
  for (let i = 1; i < MAX_TERMS; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < TINY) d = TINY;
    c = b + an / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < EPS) break;
  }
  return Math.exp(-x + a * Math.log(x) - logGamma(a)) * h;
}
