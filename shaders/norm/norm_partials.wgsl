// Multi-tensor norm, pass 1: each workgroup reduces its chunks (its large ones with every lane,
// its small ones a lane each) and its share of the boundary vec4s to one partial accumulator.
//
// Bindings: group(0) = plan (plan_chunks.wgsl) + grad_0 .. grad_{K-1} (the dispatch group's buffer
// windows, grad_read.wgsl), shared with elementwise.wgsl; group(1) = params (uniform, dynamic
// offset) + partials (array<Acc>, one per workgroup of every dispatch group).

@group(1) @binding(PARTIALS_PARAMS) var<uniform> params: Params;
@group(1) @binding(PARTIALS_PARTIALS) var<storage, read_write> partials: array<Acc>;

@compute @workgroup_size(WG)
fn main(ids: LaneIds) {
  let p = params.p;
  var acc = emptyAcc();
  let group = ids.group.x;
  let range = plan.entries[group];
  // One call site for both kinds of chunk: each inlined copy of `sweep` costs compile time.
  for (var turn = 0u; turn < chunkTurns(range); turn++) {
    let share = chunkShare(range, turn, ids.local);
    acc = combine(acc, sweep(share.slot, share.offset, share.count, share.first, share.stride, p), p);
  }
  let stride = plan.workgroupCount * WG;
  for (var b = group * WG + ids.local; b < plan.boundaryCount; b += stride) {
    let entry = plan.entries[plan.boundaryBase + b];
    acc = combine(acc, accOfVec(select(vec4<f32>(0.0), loadVec(entry.x, entry.y), maskLanes(entry.z)), p), p);
  }
  let merged = combineWorkgroup(acc, ids, p);
  if (ids.local == 0u) {
    partials[plan.partialBase + group] = merged;
  }
}
