/** The bounding box of n 2-D points (n×2), written as [minX, minY, maxX, maxY]. */
export function boundingBox(y: Float64Array, n: number, box: Float64Array): Float64Array {
  let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
  for (let i = 0; i < n; i++) {
    const x = y[2 * i], v = y[2 * i + 1];
    if (x < minX) minX = x;
    if (x > maxX) maxX = x;
    if (v < minY) minY = v;
    if (v > maxY) maxY = v;
  }
  box[0] = minX;
  box[1] = minY;
  box[2] = maxX;
  box[3] = maxY;
  return box;
}
