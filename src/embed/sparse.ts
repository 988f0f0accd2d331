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
 * counting sort on rows and a sort of each short row on columns, merging
 * the entries a pair has from both directions.
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
  // Sort each row by column and merge duplicates.
  const rowPtr = new Int32Array(n + 1);
  const col = new Int32Array(count[n]), val = new Float64Array(count[n]);
  let out = 0;
  let order = new Int32Array(0);
  for (let i = 0; i < n; i++) {
    const start = count[i], length = count[i + 1] - start;
    if (order.length < length) order = new Int32Array(length);
    for (let a = 0; a < length; a++) order[a] = start + a;
    const row = order.subarray(0, length).sort((a, b) => cols[a] - cols[b]);
    for (let a = 0; a < length; a++) {
      const e = row[a];
      if (out > rowPtr[i] && col[out - 1] === cols[e]) val[out - 1] += vals[e];
      else {
        col[out] = cols[e];
        val[out++] = vals[e];
      }
    }
    rowPtr[i + 1] = out;
  }
  return { n, rowPtr, col: col.slice(0, out), val: val.slice(0, out) };
}
