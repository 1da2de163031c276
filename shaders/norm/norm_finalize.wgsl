// Multi-tensor norm, pass 2 (one workgroup): merges the partials into the total norm, decides on
// the GPU whether to clip, and writes the scale pass's indirect dispatch arguments (decision.wgsl).
//
// Bindings: group(0) = params (uniform, dynamic offset), partials (read-only), result (one
// NormResult slot of the set's result ring, dynamic offset), dispatch (see decision.wgsl).
// `source` picks where the norm comes from: 0 the partials, 1 the result slot itself (a norm
// computed earlier, copied in), 2 params.givenNorm.

override source: u32 = SOURCE_PARTIALS;

@group(0) @binding(FINALIZE_PARAMS) var<uniform> params: Params;
@group(0) @binding(FINALIZE_PARTIALS) var<storage, read> partials: array<Acc>;
@group(0) @binding(FINALIZE_RESULT) var<storage, read_write> result: NormResult;
@group(0) @binding(FINALIZE_DISPATCH) var<storage, read_write> dispatch: array<u32>;

@compute @workgroup_size(WG)
fn main(ids: LaneIds) {
  let p = params.p;
  let merged = mergePartials(ids, p, source == SOURCE_PARTIALS);
  if (ids.local != 0u) { return; }

  var norm: f32;
  var flags: u32;
  switch source {
    case SOURCE_PARTIALS: { norm = normOf(merged, p); flags = flagsOf(merged); }
    case SOURCE_RESULT: { norm = result.norm; flags = result.flags & (FLAG_NAN | FLAG_INF); }
    default: { norm = params.givenNorm; flags = classify(norm); }
  }

  writeDecision(norm, flags, params.maxNorm);
}
