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
  for (var c = range.x; c < range.z; c++) {
    let chunk = plan.entries[plan.chunkBase + c];
    acc = sweep(chunk.x, acc, chunk.y, chunk.z, ids.local, WG, p);
  }
  for (var c = range.z + ids.local; c < range.y; c += WG) {
    let chunk = plan.entries[plan.chunkBase + c];
    acc = sweep(chunk.x, acc, chunk.y, chunk.z, 0u, 1u, p);
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
