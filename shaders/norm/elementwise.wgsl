// In-place elementwise pass over a gradient set: `op` 0 multiplies by the clip coefficient the
// norm pass left on the GPU (and returns at once unless FLAG_SCALED is set), `op` 1 clamps to
// [params.clipMin, params.clipMax] keeping NaN.
//
// Bindings: group(0) = plan + grad_0 .. grad_{K-1} (declared by grad_write.wgsl), the same layout
// as norm_partials.wgsl, so one bind group serves both; group(1) = params (uniform, dynamic
// offset) + result (read-only NormResult slot, dynamic offset). Vec4 chunks are whole vec4s
// inside one view, a large one spread over a workgroup's lanes, a small one swept by one lane;
// each boundary vec4 is owned by one lane.

@group(0) @binding(DATA_TABLE) var<storage, read> plan: Plan;
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
  let wide = range.z - range.x;
  for (var turn = 0u; turn < wide + (range.y - range.z + WG - 1u) / WG; turn++) {
    let own = turn >= wide;
    let c = select(range.x + turn, range.z + (turn - wide) * WG + lane, own);
    // The last turn's lanes past the end sweep nothing.
    let chunk = plan.entries[plan.chunkBase + min(c, range.y - 1u)];
    let count = select(chunk.z, 0u, c >= range.y);
    apply(chunk.x, chunk.y, count, select(lane, 0u, own), select(WG, 1u, own), coef, lo, hi);
  }
  let stride = plan.workgroupCount * WG;
  for (var b = group * WG + lane; b < plan.boundaryCount; b += stride) {
    let entry = plan.entries[plan.boundaryBase + b];
    applyMasked(entry.x, entry.y, maskLanes(entry.z), coef, lo, hi);
  }
}
