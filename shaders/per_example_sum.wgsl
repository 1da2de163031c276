// Per-example clipping, the sum over the batch: one lane per output element j of a view,
// out[j] = Σ_e coefficient_e · view[e · exampleLength + j], the coefficients from
// segment_finalize.wgsl (rule 2, one segment per example). The views are read through their own
// read-only array<f32> windows, so any offset and any buffer size work.
//
// Bindings: group(0) = table + view_0 .. view_{K-1}; group(1) = segmentNorms (vec2: norm,
// coefficient per example; read-only) + sums (array<f32>, the output buffer from its byte offset).
// Table: header (viewCount, batchSize, laneCount, -), then per view (slot, element offset in its
// window, exampleLength, output element offset), then per view (first lane, -, -, -).

struct SumTable {
  viewCount: u32,
  batchSize: u32,
  laneCount: u32,
  _pad: u32,
  entries: array<vec4<u32>>,
}

@group(0) @binding(0) var<storage, read> table: SumTable;
@group(1) @binding(0) var<storage, read> segmentNorms: array<vec2<f32>>;
@group(1) @binding(1) var<storage, read_write> sums: array<f32>;

// @per-scalar-binding-begin
@group(0) @binding(SLOT_BINDING) var<storage, read> view_SLOT: array<f32>;

fn load_SLOT(index: u32) -> f32 {
  return view_SLOT[index];
}
// @per-scalar-binding-end

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) groupId: vec3<u32>,
  @builtin(num_workgroups) groupCount: vec3<u32>,
  @builtin(local_invocation_index) local: u32,
) {
  let index = foldedIndex(groupId, groupCount, local);
  if (index >= table.laneCount) { return; }
  // The last view whose first lane is at or before this one.
  var lo = 0u;
  var hi = table.viewCount;
  while (hi - lo > 1u) {
    let mid = (lo + hi) / 2u;
    if (table.entries[table.viewCount + mid].x <= index) { lo = mid; } else { hi = mid; }
  }
  let view = table.entries[lo];
  let j = index - table.entries[table.viewCount + lo].x;
  var sum = 0.0;
  for (var e = 0u; e < table.batchSize; e++) {
    sum = fma(segmentNorms[e].y, load(view.x, view.y + e * view.z + j), sum);
  }
  sums[view.w + j] = sum;
}
