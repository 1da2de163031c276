// ⟨the ABI prelude (src/core/abi.ts, src/kernels/layouts.ts)⟩

// ⟨shaders/common/common.wgsl⟩

// ⟨shaders/common/view_search.wgsl⟩

// Per-example clipping, the sum over the batch: out[j] = Σ_e coefficient_e · view[e · L + j] for
// each element j of a view's per-example slice (length L), the coefficients from
// segment_finalize.wgsl (rule 2, one segment per example). One lane per vec4 of output for views
// whose offset and L are multiples of 4 bytes × 4 (bound as array<vec4<f32>>: vector loads), one
// lane per element for the rest (array<f32>, any offset and size). The views are read-only.
//
// Bindings: group(0) = table + view_0 .. view_{K-1} (the first table.vec4Slots as vec4);
// group(1) = segmentNorms (vec2: norm, coefficient per example; read-only) + sums (array<f32>,
// the output buffer from its byte offset). Table: header (viewCount, batchSize, laneCount,
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
@group(1) @binding(SUM_OUTPUT_SEGMENT_NORMS) var<storage, read> segmentNorms: array<vec2<f32>>;
@group(1) @binding(SUM_OUTPUT_SUMS) var<storage, read_write> sums: array<f32>;

@group(0) @binding(1) var<storage, read> view_0: array<vec4<f32>>;

// Σ_e coefficient_e · view[start + e · exampleLength]: the slot is chosen once per lane, not per load.
fn sumVec4_0(start: u32, exampleLength: u32) -> vec4<f32> {
  var sum = vec4<f32>(0.0);
  for (var e = 0u; e < table.batchSize; e++) {
    sum = fma(vec4<f32>(segmentNorms[e].y), view_0[start + e * exampleLength], sum);
  }
  return sum;
}

@group(0) @binding(2) var<storage, read> view_1: array<f32>;

fn sumScalar_1(start: u32, exampleLength: u32) -> f32 {
  var sum = 0.0;
  for (var e = 0u; e < table.batchSize; e++) {
    sum = fma(segmentNorms[e].y, view_1[start + e * exampleLength], sum);
  }
  return sum;
}

@group(0) @binding(3) var<storage, read> view_2: array<f32>;

fn sumScalar_2(start: u32, exampleLength: u32) -> f32 {
  var sum = 0.0;
  for (var e = 0u; e < table.batchSize; e++) {
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


@compute @workgroup_size(WG)
fn main(ids: GridIds) {
  let index = foldedIndex(ids);
  if (index >= table.laneCount) { return; }
  let v = viewOfLane(index);
  let view = table.entries[v];
  let j = index - table.entries[table.viewCount + v].z;
  if (view.x < table.vec4Slots) {
    let sum = sumVec4(view.x, view.y + j, view.z);
    let out = view.w + 4u * j;
    sums[out] = sum.x;
    sums[out + 1u] = sum.y;
    sums[out + 2u] = sum.z;
    sums[out + 3u] = sum.w;
  } else {
    sums[view.w + j] = sumScalar(view.x, view.y + j, view.z);
  }
}
