// ⟨the ABI prelude (src/core/abi.ts, src/kernels/layouts.ts)⟩

// ⟨shaders/common/common.wgsl⟩

// ⟨shaders/privacy/noise.wgsl⟩

// ⟨shaders/common/view_search.wgsl⟩

// Per-example clipping, the sum over the batch: out[j] = (Σ_e coefficient_e · view[e · L + j] +
// noiseStd · n_i) / divisor for each element j of a view's per-example slice (length L), e over the
// first params.segmentLimit examples (the rest are padding, never read), the coefficients from
// segment_finalize.wgsl (rule 2, one segment per example), n_i the standard normal of the sum's
// coordinate i (its float index in the sums: view.w + j) under params' seed and step (noise.wgsl). One lane per vec4 of output for views
// whose offset and L are multiples of 4 bytes × 4 (bound as array<vec4<f32>>: vector loads), one
// lane per element for the rest (array<f32>, any offset and size). The views are read-only.
//
// Bindings: group(0) = table + view_0 .. view_{K-1} (the first table.vec4Slots as vec4);
// group(1) = params (uniform, dynamic offset) + segmentNorms (vec2: norm, coefficient per example;
// read-only) + sums (array<f32>, the output buffer from its byte offset). Table: header (viewCount, batchSize, laneCount,
// vec4Slots), then per view (slot, offset in its window, L, output element offset) in the
// window's units (vec4s or elements), then per view (-, -, first lane, -) (view_search.wgsl).

struct SumTable {
  viewCount: u32,
  batchSize: u32,
  laneCount: u32,
  vec4Slots: u32,
  entries: array<vec4<u32>>,
}

@group(0) @binding(SUM_DATA_TABLE) var<storage, read> table: SumTable;
@group(1) @binding(SUM_OUTPUT_PARAMS) var<uniform> params: Params;
@group(1) @binding(SUM_OUTPUT_SEGMENT_NORMS) var<storage, read> segmentNorms: array<vec2<f32>>;
@group(1) @binding(SUM_OUTPUT_SUMS) var<storage, read_write> sums: array<f32>;

@group(0) @binding(1) var<storage, read> view_0: array<vec4<f32>>;

// Σ_e coefficient_e · view[start + e · exampleLength]: the slot is chosen once per lane, not per load.
fn sumVec4_0(start: u32, exampleLength: u32) -> vec4<f32> {
  var sum = vec4<f32>(0.0);
  for (var e = 0u; e < examples(); e++) {
    sum = fma(vec4<f32>(segmentNorms[e].y), view_0[start + e * exampleLength], sum);
  }
  return sum;
}

@group(0) @binding(2) var<storage, read> view_1: array<f32>;

fn sumScalar_1(start: u32, exampleLength: u32) -> f32 {
  var sum = 0.0;
  for (var e = 0u; e < examples(); e++) {
    sum = fma(segmentNorms[e].y, view_1[start + e * exampleLength], sum);
  }
  return sum;
}

@group(0) @binding(3) var<storage, read> view_2: array<f32>;

fn sumScalar_2(start: u32, exampleLength: u32) -> f32 {
  var sum = 0.0;
  for (var e = 0u; e < examples(); e++) {
    sum = fma(segmentNorms[e].y, view_2[start + e * exampleLength], sum);
  }
  return sum;
}

fn sumVec4(slot: u32, start: u32, exampleLength: u32) -> vec4<f32> {
  switch slot {
    case 0u: { return sumVec4_0(start, exampleLength); }
    default: { return vec4<f32>(0.0); }
  }
}

fn sumScalar(slot: u32, start: u32, exampleLength: u32) -> f32 {
  switch slot {
    case 1u: { return sumScalar_1(start, exampleLength); }
    case 2u: { return sumScalar_2(start, exampleLength); }
    default: { return 0.0; }
  }
}


// The examples summed: the first segmentLimit of the batch.
fn examples() -> u32 {
  return min(table.batchSize, params.segmentLimit);
}

// The noise of the four coordinates of block `block`, times its standard deviation (0 without noise).
fn noise(block: u32) -> vec4<f32> {
  if (params.noiseStd == 0.0) { return vec4<f32>(0.0); }
  return params.noiseStd * gaussians(block, vec2<u32>(params.seedLo, params.seedHi), vec2<u32>(params.stepLo, params.stepHi));
}

@compute @workgroup_size(WG)
fn main(ids: GridIds) {
  let index = foldedIndex(ids);
  if (index >= table.laneCount) { return; }
  let v = viewOfLane(index);
  let view = table.entries[v];
  let j = index - table.entries[table.viewCount + v].z;
  if (view.x < table.vec4Slots) {
    let out = view.w + 4u * j;   // a multiple of 4: one noise block
    let sum = (sumVec4(view.x, view.y + j, view.z) + noise(out / 4u)) / params.divisor;
    sums[out] = sum.x;
    sums[out + 1u] = sum.y;
    sums[out + 2u] = sum.z;
    sums[out + 3u] = sum.w;
  } else {
    let out = view.w + j;
    sums[out] = (sumScalar(view.x, view.y + j, view.z) + noise(out / 4u)[out % 4u]) / params.divisor;
  }
}
