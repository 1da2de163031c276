// Multi-tensor norm, pass 1: each workgroup reduces its chunks (its large ones with every lane,
// its small ones a lane each) and its share of the boundary vec4s to one partial accumulator.
//
// Bindings: group(0) = plan (read-only storage) + grad_0 .. grad_{K-1} (the dispatch group's
// buffer windows, declared by grad_read.wgsl), shared with elementwise.wgsl; group(1) = params
// (uniform, dynamic offset) + partials (array<Acc>, one per workgroup of every dispatch group).

@group(0) @binding(DATA_TABLE) var<storage, read> plan: Plan;
@group(1) @binding(PARTIALS_PARAMS) var<uniform> params: Params;
@group(1) @binding(PARTIALS_PARTIALS) var<storage, read_write> partials: array<Acc>;

@compute @workgroup_size(WG)
fn main(ids: LaneIds) {
  let p = params.p;
  var acc = emptyAcc();
  let group = ids.group.x;
  let range = plan.entries[group];
  // One call site for both kinds of chunk: each inlined copy of `sweep` costs compile time.
  let wide = range.z - range.x;
  for (var turn = 0u; turn < wide + (range.y - range.z + WG - 1u) / WG; turn++) {
    let own = turn >= wide;
    let c = select(range.x + turn, range.z + (turn - wide) * WG + ids.local, own);
    // The last turn's lanes past the end sweep nothing.
    let chunk = plan.entries[plan.chunkBase + min(c, range.y - 1u)];
    let count = select(chunk.z, 0u, c >= range.y);
    acc = combine(acc, sweep(chunk.x, chunk.y, count, select(ids.local, 0u, own), select(WG, 1u, own), p), p);
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
