// Multi-tensor norm, pass 1: each workgroup reduces its chunks (and its share of the boundary
// vec4s) to one partial accumulator.
//
// Bindings: group(0) = plan (read-only storage) + grad_0 .. grad_{K-1} (the dispatch group's
// buffer windows, array<vec4<f32>>), shared with elementwise.wgsl; group(1) = params (uniform,
// dynamic offset) + partials (array<Acc>, one per workgroup of every dispatch group).
// The block between the per-binding markers is repeated for each binding slot by src/shaders.ts,
// because WGSL cannot index bindings; `sweep` and `loadVec` (generated) switch on the slot once
// per chunk or boundary vec4, never per element of a chunk.

@group(0) @binding(0) var<storage, read> plan: Plan;
@group(1) @binding(0) var<uniform> params: Params;
@group(1) @binding(1) var<storage, read_write> partials: array<Acc>;

// @per-binding-begin
@group(0) @binding(SLOT_BINDING) var<storage, read_write> grad_SLOT: array<vec4<f32>>;

// Adds whole vec4s [offset, offset + count) (this lane's share) to `acc`: unscaled first, and a
// second, scaled pass only where the chunk's magnitudes leave the safe band.
fn sweep_SLOT(acc: Acc, offset: u32, count: u32, lane: u32, p: f32) -> Acc {
  var sum = vec4<f32>(0.0);
  var seen = vec4<u32>(0u);
  var i = lane;
  // Four independent loads per turn (each coalesced across lanes) keep more memory in flight.
  for (; i + 3u * WG < count; i += 4u * WG) {
    let x0 = grad_SLOT[offset + i];
    let x1 = grad_SLOT[offset + i + WG];
    let x2 = grad_SLOT[offset + i + 2u * WG];
    let x3 = grad_SLOT[offset + i + 3u * WG];
    let b0 = bitcast<vec4<u32>>(x0) & vec4<u32>(ABS_MASK);
    let b1 = bitcast<vec4<u32>>(x1) & vec4<u32>(ABS_MASK);
    let b2 = bitcast<vec4<u32>>(x2) & vec4<u32>(ABS_MASK);
    let b3 = bitcast<vec4<u32>>(x3) & vec4<u32>(ABS_MASK);
    seen = max(max(seen, max(b0, b1)), max(b2, b3));
    sum = addPowers(sum, x0, bitcast<vec4<f32>>(b0), p);
    sum = addPowers(sum, x1, bitcast<vec4<f32>>(b1), p);
    sum = addPowers(sum, x2, bitcast<vec4<f32>>(b2), p);
    sum = addPowers(sum, x3, bitcast<vec4<f32>>(b3), p);
  }
  for (; i < count; i += WG) {
    let x = grad_SLOT[offset + i];
    let bits = bitcast<vec4<u32>>(x) & vec4<u32>(ABS_MASK);
    seen = max(seen, bits);
    sum = addPowers(sum, x, bitcast<vec4<f32>>(bits), p);
  }
  let m = largest(seen);
  var e = 0;
  if (needsScaling(m, p)) {
    e = scaleExpFor(m);
    let inverse = inverseScale(e);
    sum = vec4<f32>(0.0);
    for (var i = lane; i < count; i += WG) {
      let magnitude = abs(grad_SLOT[offset + i]) * inverse;
      sum = addPowers(sum, magnitude, magnitude, p);
    }
  }
  return combine(acc, Acc(sum, e, m), p);
}

fn loadVec_SLOT(index: u32) -> vec4<f32> {
  return grad_SLOT[index];
}
// @per-binding-end

@compute @workgroup_size(WG)
fn main(ids: LaneIds) {
  let p = params.p;
  var acc = emptyAcc();
  let group = ids.group.x;
  let range = plan.entries[group];
  for (var c = range.x; c < range.y; c++) {
    let chunk = plan.entries[plan.chunkBase + c];
    acc = sweep(chunk.x, acc, chunk.y, chunk.z, ids.local, p);
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
