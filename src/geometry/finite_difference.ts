/**
 * Jacobian-vector products of a batched feature map f: R^n → R^m by finite
 * differences, for models that run forward only (onnxruntime-web has no
 * reverse mode): J·d ≈ (f(x + ε·d) − f(x − ε·d)) / 2ε (central, error
 * O(ε²)) or (f(x + ε·d) − f(x)) / ε (forward, O(ε), half the runs). All the
 * perturbed inputs of one point go to the model as one batch (in chunks of
 * `batchRows` rows).
 *
 * The inputs are float32: x ± ε·d is rounded, so the product is J·d̃ for
 * the direction actually taken, d̃ = (x₊ − x₋)/2ε, which differs from d by
 * about 6e-8·|x|/ε per component (6e-6 at ε = 1e-2); the outputs' float32
 * rounding adds about 6e-8·|f|/ε. Together with the O(ε²) truncation this
 * puts the best ε near 1e-2 for features and inputs of order 1.
 */
import { DimensionError, OptionError } from "../errors.ts";

/** f on `rows` inputs (rows×n, row-major) → rows×m features. */
export type FeatureMap = (x: Float32Array, rows: number) => Promise<Float32Array>;

export interface JvpOptions {
  /** Step ε along a unit direction (default 1e-2 of x_t's unit-variance scale). */
  epsilon?: number;
  /** "central" (default) or "forward" differences. */
  scheme?: "central" | "forward";
  /** Rows per model run (default 512). */
  batchRows?: number;
}

export interface Jvps {
  /** count×m, row-major: J·d for each direction. */
  values: Float32Array;
  featureDim: number;
  /** Rows the model ran. */
  runs: number;
}

/** J·d for each of the `count` directions (count×n rows, ideally unit) at x. */
export async function jacobianVectorProducts(f: FeatureMap, x: ArrayLike<number>, directions: ArrayLike<number>, count: number, options: JvpOptions = {}): Promise<Jvps> {
  const n = x.length;
  if (directions.length !== count * n) throw new DimensionError(`${directions.length} direction values are not ${count}×${n}`);
  const epsilon = options.epsilon ?? 1e-2;
  if (!(epsilon > 0) || !Number.isFinite(epsilon)) throw new OptionError("epsilon", `must be a positive number, not ${epsilon}`);
  const scheme = options.scheme ?? "central";
  if (scheme !== "central" && scheme !== "forward") throw new OptionError("scheme", `must be "central" or "forward", not ${JSON.stringify(scheme)}`);
  const batchRows = options.batchRows ?? 512;
  if (!Number.isInteger(batchRows) || batchRows < 2) throw new OptionError("batchRows", `must be an integer ≥ 2, not ${batchRows}`);

  let runs = 0;
  let base: Float32Array | undefined;
  const x32 = Float32Array.from(x);
  if (scheme === "forward") {
    base = await f(x32, 1);
    runs++;
  }
  const perDirection = scheme === "central" ? 2 : 1;
  const chunk = Math.max(1, Math.floor(batchRows / perDirection));
  let m = base ? base.length : -1;
  let values = new Float32Array(Math.max(m, 0) * count);
  for (let d0 = 0; d0 < count; d0 += chunk) {
    const used = Math.min(chunk, count - d0);
    const rows = used * perDirection;
    const input = new Float32Array(rows * n);
    for (let r = 0; r < used; r++) {
      const o = (d0 + r) * n;
      for (let i = 0; i < n; i++) {
        const step = epsilon * directions[o + i];
        input[r * perDirection * n + i] = x32[i] + step;
        if (perDirection === 2) input[(r * 2 + 1) * n + i] = x32[i] - step;
      }
    }
    const out = await f(input, rows);
    runs += rows;
    if (m < 0) {
      m = out.length / rows;
      if (!Number.isInteger(m) || m < 1) throw new DimensionError(`the feature map returned ${out.length} values for ${rows} rows`);
      values = new Float32Array(count * m);
    }
    if (out.length !== rows * m) throw new DimensionError(`the feature map returned ${out.length} values, not ${rows}×${m}`);
    for (let r = 0; r < used; r++) {
      const o = (d0 + r) * m;
      const inv = 1 / (perDirection * epsilon);
      const plus = r * perDirection * m;
      for (let j = 0; j < m; j++) {
        const minus = perDirection === 2 ? out[plus + m + j] : base![j];
        values[o + j] = (out[plus + j] - minus) * inv;
      }
    }
  }
  if (count === 0) values = new Float32Array(0);
  return { values, featureDim: Math.max(m, 0), runs };
}
