/** A square sparse matrix in compressed-row form (the affinities P_t). */
export interface SparseMatrix {
  readonly n: number;
  readonly rowPtr: Int32Array;
  readonly col: Int32Array;
  readonly val: Float64Array;
}

/**
 * Symmetrises a k-NN conditional matrix (row i holds k neighbours of i):
 * P = (P_cond + P_condᵀ) / (2n), so P sums to 1, as in t-SNE. Built by
 * counting sort on rows; columns within a row are in no particular order.
 */
export function symmetrize(n: number, k: number, neighbors: Int32Array, cond: Float64Array): SparseMatrix {
  const scale = 1 / (2 * n);
  // Every entry (i, j, p) also stands as (j, i, p): count both per row.
  const count = new Int32Array(n + 1);
  for (let e = 0; e < n * k; e++) {
    count[Math.floor(e / k) + 1]++;
    count[neighbors[e] + 1]++;
  }
  for (let i = 0; i < n; i++) count[i + 1] += count[i];
  const cols = new Int32Array(count[n]), vals = new Float64Array(count[n]);
  const fill = count.slice(0, n);
  for (let e = 0; e < n * k; e++) {
    const i = Math.floor(e / k), j = neighbors[e], p = cond[e] * scale;
    cols[fill[i]] = j;
    vals[fill[i]++] = p;
    cols[fill[j]] = i;
    vals[fill[j]++] = p;
  }
  // Merge the entries a pair has from both directions; `slot` remembers
  // where each column of the current row went, so no sorting is needed.
  const rowPtr = new Int32Array(n + 1);
  const col = new Int32Array(count[n]), val = new Float64Array(count[n]);
  const slot = new Int32Array(n).fill(-1);
  let out = 0;
  for (let i = 0; i < n; i++) {
    for (let e = count[i]; e < count[i + 1]; e++) {
      const j = cols[e];
      if (slot[j] >= rowPtr[i]) val[slot[j]] += vals[e];
      else {
        slot[j] = out;
        col[out] = j;
        val[out++] = vals[e];
      }
    }
    rowPtr[i + 1] = out;
  }
  return { n, rowPtr, col: col.slice(0, out), val: val.slice(0, out) };
}
