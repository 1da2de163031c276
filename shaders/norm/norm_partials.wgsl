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
  let stride = plan.workgroupCount * WG;
  // Medium and small chunks and boundary vec4s (a few loads a lane each, thousands in a set of
  // many odd-sized views) are first summed unscaled in tight loops, for p = 1 and 2; only a lane
  // whose sum leaves the band (NaN, Inf, huge or tiny values, all zeros) sweeps them again below.
  let quickKind = normKind == NORM_KIND_L1 || normKind == NORM_KIND_L2;
  let largeTurns = range.z - range.x;
  var quick = vec4<f32>(0.0);
  if (quickKind) {
    for (var turn = largeTurns; turn < chunkTurns(range); turn++) {
      let share = chunkShare(range, turn, ids.local);
      quick += quickSum(share.slot, share.offset, share.count, share.first, share.stride, p);
    }
    for (var b = group * WG + ids.local; b < plan.boundaryCount; b += stride) {
      let entry = plan.entries[plan.boundaryBase + b];
      let x = select(vec4<f32>(0.0), loadVec(entry.x, entry.y), maskLanes(entry.z));
      quick = addPowers(quick, x, abs(x), p);
    }
  }
  let exact = !quickKind || !sumInBand(quick);
  // One call site for every kind of chunk: each inlined copy of `sweep` costs compile time.
  let turns = select(largeTurns, chunkTurns(range), exact);
  for (var turn = 0u; turn < turns; turn++) {
    let share = chunkShare(range, turn, ids.local);
    acc = combine(acc, sweep(share.slot, share.offset, share.count, share.first, share.stride, p), p);
  }
  if (exact) {
    for (var b = group * WG + ids.local; b < plan.boundaryCount; b += stride) {
      let entry = plan.entries[plan.boundaryBase + b];
      acc = combine(acc, accOfVec(select(vec4<f32>(0.0), loadVec(entry.x, entry.y), maskLanes(entry.z)), p), p);
    }
  } else {
    acc = combine(acc, Acc(quick, 0, 0u), p);
  }
  let merged = combineWorkgroup(acc, ids, p);
  if (ids.local == 0u) {
    partials[plan.partialBase + group] = merged;
  }
}
