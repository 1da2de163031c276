// AGC in one pass where every unit is a row one lane reads whole (src/plan/agc-rows.ts decides):
// each lane takes its rows in turn, sums the gradient row and the weight row, and scales the
// gradient row in place while it is still in cache, so gradients are read once for the norm and
// written once, and weights read once, with no per-unit finalize pass. Each row's gradient
// accumulator goes to its partial, from which segment_summary.wgsl takes the total norm, as after
// segment_norm.wgsl. The rows are the ones segment_norm.wgsl would sweep: whole vec4s, stride 1.
//
// Bindings: group(0) = the data layout with this kernel's AgcRowTable, the gradients' window as
// slot 0 and the weights' as slot 1 (grad_read.wgsl); group(1) = params (uniform, dynamic offset;
// maxNorm is the clipping factor) + partials (one per row).

struct AgcRowTable {
  laneCount: u32,
  laneBase: u32,     // entries[laneBase + l / 4][l % 4]: lane l's first row; lane l + 1's ends it
  _pad0: u32,
  _pad1: u32,
  entries: array<vec4<u32>>,   // row r: (gradient offset, weight offset, count, unit), in vec4s
}

@group(0) @binding(DATA_TABLE) var<storage, read> table: AgcRowTable;
@group(1) @binding(PARTIALS_PARAMS) var<uniform> params: Params;
@group(1) @binding(PARTIALS_PARTIALS) var<storage, read_write> partials: array<Acc>;

fn firstRow(lane: u32) -> u32 {
  let word = table.laneBase * 4u + lane;
  return table.entries[word / 4u][word % 4u];
}

// The unscaled sums of squares of a row's gradients (.grads) and weights, four vec4s of each a turn.
struct RowSums {
  grads: vec4<f32>,
  weights: vec4<f32>,
}

fn rowSums(row: vec4<u32>) -> RowSums {
  var g = vec4<f32>(0.0);
  var w = vec4<f32>(0.0);
  var k = 0u;
  for (; k + 3u < row.z; k += 4u) {
    let i = row.x + k;
    let j = row.y + k;
    let g0 = grad_0[i];
    let g1 = grad_0[i + 1u];
    let g2 = grad_0[i + 2u];
    let g3 = grad_0[i + 3u];
    let w0 = grad_1[j];
    let w1 = grad_1[j + 1u];
    let w2 = grad_1[j + 2u];
    let w3 = grad_1[j + 3u];
    g = fma(g0, g0, g);
    w = fma(w0, w0, w);
    g = fma(g1, g1, g);
    w = fma(w1, w1, w);
    g = fma(g2, g2, g);
    w = fma(w2, w2, w);
    g = fma(g3, g3, g);
    w = fma(w3, w3, w);
  }
  for (; k < row.z; k++) {
    let x = grad_0[row.x + k];
    let y = grad_1[row.y + k];
    g = fma(x, x, g);
    w = fma(y, y, w);
  }
  return RowSums(g, w);
}

// Marks a row's partial until its exact pass: never a real maxBits, which has the sign bit clear.
const EXACT_PENDING: u32 = 0xffffffffu;

// Writes the row's partial and scales the row where AGC clips it.
fn finishRow(row: vec4<u32>, acc: Acc, weightNorm: f32) {
  partials[row.w] = acc;
  let coef = agcCoefficient(normOf(acc, 2.0), flagsOf(acc), weightNorm, params.maxNorm, params.eps);
  if (coef == 1.0) { return; }
  var k = row.x;
  let end = row.x + row.z;
  for (; k + 3u < end; k += 4u) {
    grad_0[k] = grad_0[k] * coef;
    grad_0[k + 1u] = grad_0[k + 1u] * coef;
    grad_0[k + 2u] = grad_0[k + 2u] * coef;
    grad_0[k + 3u] = grad_0[k + 3u] * coef;
  }
  for (; k < end; k++) { grad_0[k] = grad_0[k] * coef; }
}

// Each row from its unscaled sums where both are exact (in band); the rest (all zeros, NaN, Inf,
// huge or tiny values) after the lane's other rows, through grad_read.wgsl's sweep, which reads
// them again scaled: kept out of the first loop, so the common row runs no code of the exact path.
@compute @workgroup_size(WG)
fn main(ids: GridIds) {
  let lane = foldedIndex(ids);
  if (lane >= table.laneCount) { return; }
  let first = firstRow(lane);
  let end = firstRow(lane + 1u);
  var pending = false;
  for (var r = first; r < end; r++) {
    let row = table.entries[r];
    let sums = rowSums(row);
    if (sumInBand(sums.grads) && sumInBand(sums.weights)) {
      finishRow(row, Acc(sums.grads, 0, 0u), normOf(Acc(sums.weights, 0, 0u), 2.0));
    } else {
      partials[row.w] = Acc(vec4<f32>(0.0), 0, EXACT_PENDING);
      pending = true;
    }
  }
  if (!pending) { return; }
  for (var r = first; r < end; r++) {
    let row = table.entries[r];
    if (partials[row.w].maxBits != EXACT_PENDING) { continue; }
    finishRow(row, sweep_0(row.x, row.z, 0u, 1u, 2.0), normOf(sweep_1(row.y, row.z, 0u, 1u, 2.0), 2.0));
  }
}
