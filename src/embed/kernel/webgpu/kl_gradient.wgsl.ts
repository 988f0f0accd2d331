/**
 * WGSL for the t-SNE gradient of many steps at once (float32):
 *   ∂KL/∂y_i = 4 (exaggeration · Σ_j p_ij q_ij (y_i − y_j) − Σ_j q_ij² (y_i − y_j) / Z),
 * with q_ij = 1 / (1 + |y_i − y_j|²) and Z = Σ_{i≠j} q_ij within the step.
 * The points of all steps lie in one buffer; work is cut into tiles of TILE
 * points of one step, one workgroup per tile, so a single dispatch covers
 * every step of an iteration.
 *
 * Pass `repulsion`: each workgroup sweeps its step's points in tiles staged
 * in workgroup memory, so each point is read from the buffer once per tile
 * rather than once per pair; it writes Σ_j q_ij² (y_i − y_j) per point and
 * its tile's share of Z.
 * Pass `gradient`: each workgroup sums its step's Z from those shares, adds
 * the attraction over the sparse P (CSR) and overwrites the repulsion with
 * the finished gradient.
 */

/** Points per tile and threads per workgroup (a power of two, for the reduction). */
export const TILE = 128;

export const KL_GRADIENT_WGSL = /* wgsl */ `
const TILE: u32 = ${TILE}u;

struct Step {
  offset: u32,    // the step's first point
  n: u32,         // its number of points
  firstTile: u32, // its first tile
  tiles: u32,     // its number of tiles
}

struct Edge {
  j: u32, // the neighbour, as a point index into y
  p: f32, // p_ij
}

struct Params {
  attraction: f32, // 4 · weight · exaggeration
  repulsion: f32,  // 4 · weight
}

@group(0) @binding(0) var<storage, read> y: array<vec2<f32>>;
@group(0) @binding(1) var<storage, read> steps: array<Step>;
@group(0) @binding(2) var<storage, read> tileStep: array<u32>;
// Σ_j q_ij² (y_i − y_j) after the repulsion pass, the gradient after the gradient pass.
@group(0) @binding(3) var<storage, read_write> force: array<vec2<f32>>;
// Σ_{i in tile} Σ_{j≠i} q_ij, one per tile.
@group(0) @binding(4) var<storage, read_write> zTile: array<f32>;
@group(0) @binding(5) var<storage, read> rowPtr: array<u32>;
@group(0) @binding(6) var<storage, read> edges: array<Edge>;
@group(0) @binding(7) var<uniform> params: Params;

var<workgroup> tileY: array<vec2<f32>, TILE>;
var<workgroup> sums: array<f32, TILE>;

// Sums sums[0..TILE) into sums[0], visible to the whole workgroup.
fn reduceSums(l: u32) {
  for (var half = TILE / 2u; half > 0u; half = half / 2u) {
    workgroupBarrier();
    if (l < half) {
      sums[l] += sums[l + half];
    }
  }
  workgroupBarrier();
}

@compute @workgroup_size(TILE)
fn repulsion(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) l: u32) {
  let s = steps[tileStep[wg.x]];
  let i = (wg.x - s.firstTile) * TILE + l;
  let inside = i < s.n;
  let yi = y[s.offset + min(i, s.n - 1u)];
  var f = vec2<f32>(0.0);
  var z = 0.0;
  for (var start = 0u; start < s.n; start += TILE) {
    workgroupBarrier(); // everyone is done with the previous tile
    tileY[l] = y[s.offset + min(start + l, s.n - 1u)];
    workgroupBarrier();
    let count = min(TILE, s.n - start);
    for (var k = 0u; k < count; k++) {
      let d = yi - tileY[k];
      let q = select(1.0 / (1.0 + dot(d, d)), 0.0, start + k == i);
      z += q;
      f += (q * q) * d;
    }
  }
  if (inside) {
    force[s.offset + i] = f;
  }
  sums[l] = select(0.0, z, inside);
  reduceSums(l);
  if (l == 0u) {
    zTile[wg.x] = sums[0];
  }
}

@compute @workgroup_size(TILE)
fn gradient(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) l: u32) {
  let s = steps[tileStep[wg.x]];
  var share = 0.0;
  for (var t = l; t < s.tiles; t += TILE) {
    share += zTile[s.firstTile + t];
  }
  sums[l] = share;
  reduceSums(l);
  let z = sums[0];
  let i = (wg.x - s.firstTile) * TILE + l;
  if (i >= s.n) {
    return;
  }
  let g = s.offset + i;
  let yi = y[g];
  var a = vec2<f32>(0.0);
  for (var e = rowPtr[g]; e < rowPtr[g + 1u]; e++) {
    let d = yi - y[edges[e].j];
    a += (edges[e].p / (1.0 + dot(d, d))) * d;
  }
  let r = select(params.repulsion / z, 0.0, z <= 0.0);
  force[g] = params.attraction * a - r * force[g];
}
`;
