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

// The unscaled sum of squares of `count` vec4s from `offset` of slot 0 (gradients) or 1 (weights),
// four loads a turn.
fn sumOfSquares(weights: bool, offset: u32, count: u32) -> vec4<f32> {
  var sum = vec4<f32>(0.0);
  var k = offset;
  let end = offset + count;
  for (; k + 3u < end; k += 4u) {
    var x0: vec4<f32>;
    var x1: vec4<f32>;
    var x2: vec4<f32>;
    var x3: vec4<f32>;
    if (weights) {
      x0 = grad_1[k]; x1 = grad_1[k + 1u]; x2 = grad_1[k + 2u]; x3 = grad_1[k + 3u];
    } else {
      x0 = grad_0[k]; x1 = grad_0[k + 1u]; x2 = grad_0[k + 2u]; x3 = grad_0[k + 3u];
    }
    sum = fma(x0, x0, sum);
    sum = fma(x1, x1, sum);
    sum = fma(x2, x2, sum);
    sum = fma(x3, x3, sum);
  }
  for (; k < end; k++) {
    var x: vec4<f32>;
    if (weights) { x = grad_1[k]; } else { x = grad_0[k]; }
    sum = fma(x, x, sum);
  }
  return sum;
}

// A row's accumulator from its unscaled sum where that is exact (in band), else from
// grad_read.wgsl's sweep, which reads the row again (all zeros, NaN, Inf, huge or tiny values).
fn gradAcc(row: vec4<u32>) -> Acc {
  let sum = sumOfSquares(false, row.x, row.z);
  if (sumInBand(sum)) { return Acc(sum, 0, 0u); }
  return sweep_0(row.x, row.z, 0u, 1u, 2.0);
}

fn weightNorm(row: vec4<u32>) -> f32 {
  let sum = sumOfSquares(true, row.y, row.z);
  if (sumInBand(sum)) { return sqrt(sum.x + sum.y + sum.z + sum.w); }
  return normOf(sweep_1(row.y, row.z, 0u, 1u, 2.0), 2.0);
}

@compute @workgroup_size(WG)
fn main(ids: GridIds) {
  let lane = foldedIndex(ids);
  if (lane >= table.laneCount) { return; }
  let end = firstRow(lane + 1u);
  for (var r = firstRow(lane); r < end; r++) {
    let row = table.entries[r];
    let acc = gradAcc(row);
    partials[row.w] = acc;
    let norm = normOf(acc, 2.0);
    let coef = agcCoefficient(norm, flagsOf(acc), weightNorm(row), params.maxNorm, params.eps);
    if (coef == 1.0) { continue; }
    for (var k = row.x; k < row.x + row.z; k++) { grad_0[k] = grad_0[k] * coef; }
  }
}
