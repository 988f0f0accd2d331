/** A square sparse matrix in compressed-row form (the affinities P_t). */
export interface SparseMatrix {
  readonly n: number;
  readonly rowPtr: Int32Array;
  readonly col: Int32Array;
  readonly val: Float64Array;
}

/**
 * Symmetrises a k-NN conditional matrix (row i holds k neighbours of i):
 * P = (P_cond + P_condᵀ) / (2n), so P sums to 1, as in t-SNE.
 */
export function symmetrize(n: number, k: number, neighbors: Int32Array, cond: Float64Array): SparseMatrix {
  // Count each row's entries: its own k plus transposed ones not already there.
  const rows: Map<number, number>[] = Array.from({ length: n }, () => new Map());
  const scale = 1 / (2 * n);
  for (let i = 0; i < n; i++) {
    for (let a = 0; a < k; a++) {
      const j = neighbors[i * k + a], p = cond[i * k + a] * scale;
      rows[i].set(j, (rows[i].get(j) ?? 0) + p);
      rows[j].set(i, (rows[j].get(i) ?? 0) + p);
    }
  }
  const rowPtr = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) rowPtr[i + 1] = rowPtr[i] + rows[i].size;
  const col = new Int32Array(rowPtr[n]);
  const val = new Float64Array(rowPtr[n]);
  for (let i = 0; i < n; i++) {
    const entries = [...rows[i]].sort((a, b) => a[0] - b[0]);
    entries.forEach(([j, p], e) => {
      col[rowPtr[i] + e] = j;
      val[rowPtr[i] + e] = p;
    });
  }
  return { n, rowPtr, col, val };
}
