/**
 * The few largest eigenpairs (by absolute value) of a large symmetric
 * matrix, and from them the top singular triplets of a tall or wide matrix:
 * a restarted block Krylov method (block Lanczos with full
 * reorthogonalisation; Golub & Van Loan §10.3, Musco & Musco 2015): from a
 * block V of b = k + oversample vectors, the space [V, AV, …, A^depth·V] is
 * orthonormalised, A is projected onto it (Rayleigh–Ritz) and the top b
 * Ritz vectors restart it, until every wanted Ritz pair's residual
 * ‖A·v − θ·v‖ is below `tolerance`·|θ₁|. A Krylov space converges on
 * clustered eigenvalues far faster than plain subspace iteration (which
 * took 495 iterations on one closed-form Jacobian this does in a few
 * restarts). The small projected problems go to Householder + QL
 * (symmetric_ql.ts), exact for them; a full decomposition of a 784×784
 * matrix would take seconds.
 *
 * Vectors are rows: a block of b vectors of length n is a row-major b×n
 * Float64Array, vector r at [r·n, (r+1)·n).
 */
import { OptionError } from "../errors.ts";
import { random, type Random } from "../util/random.ts";
import { symmetricEigenQL } from "./symmetric_ql.ts";

export interface TopEigenOptions {
  /** Extra vectors iterated beside the k wanted (default max(5, k)); a larger block converges in fewer iterations. */
  oversample?: number;
  /**
   * Stop when every wanted residual is ≤ tolerance·|θ₁| (default 1e-8). A
   * vector's error is about its residual over the gap to the next
   * eigenvalue; an eigenvalue's, about the residual squared over the gap.
   */
  tolerance?: number;
  /** Krylov blocks per restart beyond the first (default 4: a space of (k + oversample)·5 vectors). */
  depth?: number;
  /** Restart limit (default 100); the result reports whether it converged. */
  maxIterations?: number;
  /** Seed of the random start (default 0). */
  seed?: number;
}

export interface TopEigen {
  /** k eigenvalues, ordered by descending absolute value. */
  values: Float64Array;
  /** k×n, row-major: orthonormal eigenvectors, one per row, each with its largest component positive. */
  vectors: Float64Array;
  /** ‖A·v − θ·v‖ of each returned pair. */
  residuals: Float64Array;
  iterations: number;
  converged: boolean;
}

/** out (b×n) = A · block (b×n), vector by vector, for a symmetric A. */
export type SymmetricOperator = (block: Float64Array, b: number, out: Float64Array) => void;

/**
 * The k eigenpairs of largest |λ| of the symmetric n×n operator `apply`.
 * A zero operator returns zeros with an arbitrary orthonormal basis.
 */
export function topEigen(apply: SymmetricOperator, n: number, k: number, options: TopEigenOptions = {}): TopEigen {
  if (!Number.isInteger(n) || n < 1) throw new OptionError("n", `must be a positive integer, not ${n}`);
  if (!Number.isInteger(k) || k < 1 || k > n) throw new OptionError("k", `must be an integer in 1..${n}, not ${k}`);
  const oversample = options.oversample ?? Math.max(5, k);
  if (!Number.isInteger(oversample) || oversample < 0) throw new OptionError("oversample", `must be a non-negative integer, not ${oversample}`);
  const tolerance = options.tolerance ?? 1e-8;
  if (!(tolerance > 0)) throw new OptionError("tolerance", `must be positive, not ${tolerance}`);
  const maxIterations = options.maxIterations ?? 100;
  if (!Number.isInteger(maxIterations) || maxIterations < 1) throw new OptionError("maxIterations", `must be a positive integer, not ${maxIterations}`);
  const depth = options.depth ?? 4;
  if (!Number.isInteger(depth) || depth < 0) throw new OptionError("depth", `must be a non-negative integer, not ${depth}`);
  const b = Math.min(n, k + oversample);
  const rng = random(options.seed ?? 0);
  const most = Math.min(n, b * (depth + 1));

  let v = Float64Array.from({ length: b * n }, () => rng.normal());
  orthonormalizeRows(v, b, n, rng);
  const q = new Float64Array(most * n), aq = new Float64Array(most * n);
  const values = new Float64Array(b);
  const residuals = new Float64Array(k);
  let iterations = 0, converged = false;
  for (; iterations < maxIterations && !converged;) {
    iterations++;
    // The block Krylov space [V, AV, …, A^depth V], orthonormal, with A applied to each row.
    q.set(v);
    apply(v, b, aq.subarray(0, b * n));
    let size = b, last = 0;
    for (let j = 1; j <= depth && size < most; j++) {
      const from = size;
      for (let r = last; r < from && size < most; r++) {
        const row = q.subarray(size * n, (size + 1) * n);
        row.set(aq.subarray(r * n, (r + 1) * n));
        const before = Math.sqrt(dot(row, 0, row, 0, n));
        for (let pass = 0; pass < 2; pass++) for (let p = 0; p < size; p++) axpy(-dot(q, p * n, row, 0, n), q, p * n, row, 0, n);
        const norm = Math.sqrt(dot(row, 0, row, 0, n));
        // A direction the space already holds (A of low rank, or the space exhausted) is dropped.
        if (!(norm > 1e-10 * before && norm > 0)) continue;
        for (let i = 0; i < n; i++) row[i] /= norm;
        size++;
      }
      if (size === from) break;
      apply(q.subarray(from * n, size * n), size - from, aq.subarray(from * n, size * n));
      last = from;
    }
    // Rayleigh–Ritz on the whole space: H = Q·(AQ)ᵀ, symmetrised.
    const h = new Float64Array(size * size);
    for (let i = 0; i < size; i++) {
      for (let j = i; j < size; j++) {
        const s = 0.5 * (dot(q, i * n, aq, j * n, n) + dot(aq, i * n, q, j * n, n));
        h[i * size + j] = h[j * size + i] = s;
      }
    }
    const eig = symmetricEigenQL(h, size);
    const order = Array.from({ length: size }, (_, i) => i).sort((x, y) => Math.abs(eig.values[y]) - Math.abs(eig.values[x]) || x - y);
    for (let c = 0; c < b; c++) values[c] = eig.values[order[c]];
    // The top b Ritz vectors X = Yᵀ·Q and A·X = Yᵀ·AQ.
    const rv = new Float64Array(b * n), rw = new Float64Array(b * n);
    for (let c = 0; c < b; c++) {
      const col = order[c];
      for (let r = 0; r < size; r++) {
        const y = eig.vectors[r * size + col];
        if (y === 0) continue;
        axpy(y, q, r * n, rv, c * n, n);
        axpy(y, aq, r * n, rw, c * n, n);
      }
    }
    v = rv;
    const scale = Math.abs(values[0]);
    let worst = 0;
    for (let c = 0; c < k; c++) {
      let s = 0;
      for (let i = 0; i < n; i++) s += (rw[c * n + i] - values[c] * v[c * n + i]) ** 2;
      residuals[c] = Math.sqrt(s);
      worst = Math.max(worst, residuals[c]);
    }
    converged = scale === 0 || worst <= tolerance * scale;
    // Restart from the Ritz vectors (orthonormal up to rounding; tidied).
    if (!converged) orthonormalizeRows(v, b, n, rng);
  }
  // A deterministic sign: each vector's largest component positive.
  const vectors = v.slice(0, k * n);
  for (let c = 0; c < k; c++) {
    let big = 0;
    for (let i = 0; i < n; i++) if (Math.abs(vectors[c * n + i]) > Math.abs(big)) big = vectors[c * n + i];
    if (big < 0) for (let i = 0; i < n; i++) vectors[c * n + i] = -vectors[c * n + i];
  }
  return { values: values.slice(0, k), vectors, residuals, iterations, converged };
}

/** The operator of a dense symmetric n×n matrix (row-major). */
export function denseOperator(a: Float64Array, n: number): SymmetricOperator {
  if (a.length !== n * n) throw new OptionError("matrix", `holds ${a.length} values, not ${n}×${n}`);
  return (block, b, out) => {
    // Four vectors per pass, so each row of A is read once per four.
    for (let r = 0; r < b; r += 4) {
      const o0 = r * n, o1 = Math.min(r + 1, b - 1) * n, o2 = Math.min(r + 2, b - 1) * n, o3 = Math.min(r + 3, b - 1) * n;
      for (let i = 0; i < n; i++) {
        const ai = i * n;
        let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        for (let j = 0; j < n; j++) {
          const x = a[ai + j];
          s0 += x * block[o0 + j];
          s1 += x * block[o1 + j];
          s2 += x * block[o2 + j];
          s3 += x * block[o3 + j];
        }
        out[o0 + i] = s0;
        if (r + 1 < b) out[o1 + i] = s1;
        if (r + 2 < b) out[o2 + i] = s2;
        if (r + 3 < b) out[o3 + i] = s3;
      }
    }
  };
}

export interface TopSingular {
  /** k singular values, descending. */
  values: Float64Array;
  /** k×cols, row-major: right singular vectors (unit rows). */
  right: Float64Array;
  /** k×rows, row-major: left singular vectors (unit rows; zero for a zero singular value). */
  left: Float64Array;
  residuals: Float64Array;
  iterations: number;
  converged: boolean;
}

/**
 * The top k singular triplets of the rows×cols matrix A, given as its
 * transpose: `at` is cols×rows row-major (row j = column j of A, as a
 * Jacobian is built one directional derivative at a time). The Gram matrix
 * of the smaller side (AᵀA, cols×cols, or AAᵀ) is formed in float64 and its
 * top eigenpairs found by `topEigen`; σ = √λ and the other side follows as
 * A·v/σ (or Aᵀ·u/σ). Forming the Gram squares the condition number, which
 * costs nothing for the leading singular values this is for: their relative
 * accuracy is about 1e-16·σ₁²/σᵢ².
 */
export function topSingular(at: ArrayLike<number>, rows: number, cols: number, k: number, options: TopEigenOptions = {}): TopSingular {
  if (at.length !== rows * cols) throw new OptionError("matrix", `holds ${at.length} values, not ${cols}×${rows}`);
  const kk = Math.min(k, rows, cols);
  if (!Number.isInteger(k) || k < 1) throw new OptionError("k", `must be a positive integer, not ${k}`);
  const rightSide = cols <= rows;
  // Gram of the smaller side: AᵀA[i][j] = Σ_r at[i][r]·at[j][r]; AAᵀ[i][j] = Σ_c at[c][i]·at[c][j].
  const g = rightSide ? gramOfRows(at, cols, rows) : gramOfColumns(at, cols, rows);
  const side = rightSide ? cols : rows;
  const eig = topEigen(denseOperator(g, side), side, kk, options);
  const values = Float64Array.from(eig.values, (l) => Math.sqrt(Math.max(l, 0)));
  const first = eig.vectors;
  const other = new Float64Array(kk * (rightSide ? rows : cols));
  for (let c = 0; c < kk; c++) {
    const inv = values[c] > 0 ? 1 / values[c] : 0;
    if (inv === 0) continue;
    if (rightSide) {
      // u = A·v/σ = Σ_j v_j·(column j of A)/σ
      const o = c * rows;
      for (let j = 0; j < cols; j++) {
        const s = first[c * cols + j] * inv;
        if (s === 0) continue;
        for (let r = 0; r < rows; r++) other[o + r] += s * at[j * rows + r];
      }
    } else {
      // v = Aᵀ·u/σ: v_j = Σ_r at[j][r]·u_r/σ
      const o = c * cols;
      for (let j = 0; j < cols; j++) {
        let s = 0;
        for (let r = 0; r < rows; r++) s += at[j * rows + r] * first[c * rows + r];
        other[o + j] = s * inv;
      }
    }
  }
  return {
    values,
    right: rightSide ? first : other,
    left: rightSide ? other : first,
    residuals: Float64Array.from(eig.residuals, (r, i) => (values[i] > 0 ? r / values[i] : r)),
    iterations: eig.iterations,
    converged: eig.converged,
  };
}

/** m·mᵀ for m count×len row-major: count×count, in blocks of 4 rows so each row is read once per block. */
function gramOfRows(m: ArrayLike<number>, count: number, len: number): Float64Array {
  const g = new Float64Array(count * count);
  for (let a = 0; a < count; a += 4) {
    const a1 = Math.min(a + 1, count - 1), a2 = Math.min(a + 2, count - 1), a3 = Math.min(a + 3, count - 1);
    for (let b = a; b < count; b++) {
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      const ob = b * len, o0 = a * len, o1 = a1 * len, o2 = a2 * len, o3 = a3 * len;
      for (let i = 0; i < len; i++) {
        const x = m[ob + i];
        s0 += m[o0 + i] * x;
        s1 += m[o1 + i] * x;
        s2 += m[o2 + i] * x;
        s3 += m[o3 + i] * x;
      }
      const sums = [s0, s1, s2, s3];
      for (let t = 0; t < 4 && a + t < count; t++) {
        if (a + t > b) continue;
        g[(a + t) * count + b] = g[b * count + a + t] = sums[t];
      }
    }
  }
  return g;
}

/** mᵀ·m for m count×len row-major: len×len. */
function gramOfColumns(m: ArrayLike<number>, count: number, len: number): Float64Array {
  const g = new Float64Array(len * len);
  for (let c = 0; c < count; c++) {
    const o = c * len;
    for (let i = 0; i < len; i++) {
      const x = m[o + i];
      if (x === 0) continue;
      const gi = i * len;
      for (let j = i; j < len; j++) g[gi + j] += x * m[o + j];
    }
  }
  for (let i = 0; i < len; i++) for (let j = i + 1; j < len; j++) g[j * len + i] = g[i * len + j];
  return g;
}

/**
 * Orthonormalises the b rows of length n in place: modified Gram–Schmidt,
 * twice (which makes it orthogonal to working precision); a row that
 * vanishes is replaced by a random one orthogonal to the others.
 */
export function orthonormalizeRows(m: Float64Array, b: number, n: number, rng: Random = random(0)): void {
  for (let r = 0; r < b; r++) {
    const o = r * n;
    for (let attempt = 0; ; attempt++) {
      const before = Math.sqrt(dot(m, o, m, o, n));
      for (let pass = 0; pass < 2; pass++) {
        for (let p = 0; p < r; p++) axpy(-dot(m, p * n, m, o, n), m, p * n, m, o, n);
      }
      const norm = Math.sqrt(dot(m, o, m, o, n));
      if (norm > 1e-12 * before && norm > 0) {
        for (let i = 0; i < n; i++) m[o + i] /= norm;
        break;
      }
      if (attempt > 10) throw new OptionError("n", `cannot find ${b} orthonormal vectors in ${n} dimensions`);
      for (let i = 0; i < n; i++) m[o + i] = rng.normal();
    }
  }
}

function dot(a: ArrayLike<number>, ao: number, b: ArrayLike<number>, bo: number, n: number): number {
  let s0 = 0, s1 = 0, i = 0;
  for (; i + 1 < n; i += 2) {
    s0 += a[ao + i] * b[bo + i];
    s1 += a[ao + i + 1] * b[bo + i + 1];
  }
  if (i < n) s0 += a[ao + i] * b[bo + i];
  return s0 + s1;
}

function axpy(s: number, x: ArrayLike<number>, xo: number, y: Float64Array, yo: number, n: number): void {
  for (let i = 0; i < n; i++) y[yo + i] += s * x[xo + i];
}
