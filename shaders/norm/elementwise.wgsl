// In-place elementwise pass over a gradient set: `op` 0 multiplies by the clip coefficient the
// norm pass left on the GPU (and returns at once unless FLAG_SCALED is set), `op` 1 clamps to
// [params.clipMin, params.clipMax] keeping NaN.
//
// Bindings: group(0) = plan (plan_chunks.wgsl) + grad_0 .. grad_{K-1} (grad_write.wgsl), the same layout
// as norm_partials.wgsl, so one bind group serves both; group(1) = params (uniform, dynamic
// offset) + result (read-only NormResult slot, dynamic offset). Vec4 chunks are whole vec4s
// inside one view, a large one spread over a workgroup's lanes, a small one swept by one lane;
// each boundary vec4 is owned by one lane.

@group(1) @binding(ELEMENTWISE_PARAMS) var<uniform> params: Params;
@group(1) @binding(ELEMENTWISE_RESULT) var<storage, read> result: NormResult;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) groupId: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
  if (op == OP_SCALE && (result.flags & FLAG_SCALED) == 0u) { return; }
  let coef = result.coef;
  let lo = params.clipMin;
  let hi = params.clipMax;
  let group = groupId.x;
  let range = plan.entries[group];
  for (var turn = 0u; turn < chunkTurns(range); turn++) {
    let share = chunkShare(range, turn, lane);
    apply(share.slot, share.offset, share.count, share.first, share.stride, coef, lo, hi);
  }
  let stride = plan.workgroupCount * WG;
  for (var b = group * WG + lane; b < plan.boundaryCount; b += stride) {
    let entry = plan.entries[plan.boundaryBase + b];
    applyMasked(entry.x, entry.y, maskLanes(entry.z), coef, lo, hi);
  }
}
