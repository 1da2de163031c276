// Multi-tensor norm, pass 1: each workgroup reduces its chunks (and its share of the boundary
// vec4s) to one partial accumulator.
//
// Bindings: group(0) = plan (read-only storage) + grad_0 .. grad_{K-1} (the dispatch group's
// buffer windows), shared with elementwise.wgsl; group(1) = params (uniform, dynamic offset) +
// partials (array<Acc>, one per workgroup of every dispatch group).
// WGSL cannot index bindings, so src/shaders.ts repeats a per-binding block for each slot: the
// vec4 block (array<vec4<f32>>, offsets and counts in vec4s) for the group's first slots, the
// scalar block (array<f32>, in elements) for the rest, which bind the last bytes of buffers whose
// size is not a multiple of 16. `sweep` and `loadVec` (generated) switch on the slot once per
// chunk or boundary vec4, never per element of a chunk.

@group(0) @binding(0) var<storage, read> plan: Plan;
@group(1) @binding(0) var<uniform> params: Params;
@group(1) @binding(1) var<storage, read_write> partials: array<Acc>;

// @per-vec4-binding-begin
@group(0) @binding(SLOT_BINDING) var<storage, read_write> grad_SLOT: array<vec4<f32>>;

// Adds whole vec4s [offset, offset + count) (this lane's share) to `acc`. The first pass sums
// unscaled, and for p = 1 and 2 touches nothing else: one load and one fused add per vec4. Only a
// chunk whose sum leaves the safe band (or is NaN/Inf) is read again, for its largest |x| and,
// where needed, a sum scaled by a power of two.
fn sweep_SLOT(acc: Acc, offset: u32, count: u32, lane: u32, p: f32) -> Acc {
  let tracksMax = normKind == 0u || normKind == 3u;
  var sum = vec4<f32>(0.0);
  var seen = vec4<u32>(0u);
  var i = lane;
  // Four independent loads per turn (each coalesced across lanes) keep more memory in flight.
  for (; i + 3u * WG < count; i += 4u * WG) {
    let x0 = grad_SLOT[offset + i];
    let x1 = grad_SLOT[offset + i + WG];
    let x2 = grad_SLOT[offset + i + 2u * WG];
    let x3 = grad_SLOT[offset + i + 3u * WG];
    if (tracksMax) {
      seen = max(max(seen, max(magnitudeBits(x0), magnitudeBits(x1))), max(magnitudeBits(x2), magnitudeBits(x3)));
    }
    sum = addPowers(sum, x0, abs(x0), p);
    sum = addPowers(sum, x1, abs(x1), p);
    sum = addPowers(sum, x2, abs(x2), p);
    sum = addPowers(sum, x3, abs(x3), p);
  }
  for (; i < count; i += WG) {
    let x = grad_SLOT[offset + i];
    if (tracksMax) { seen = max(seen, magnitudeBits(x)); }
    sum = addPowers(sum, x, abs(x), p);
  }
  if (!tracksMax) {
    if (sumInBand(sum)) { return combine(acc, Acc(sum, 0, 0u), p); }
    for (var j = lane; j < count; j += WG) { seen = max(seen, magnitudeBits(grad_SLOT[offset + j])); }
  }
  let m = largest(seen);
  // Nothing (or only zeros) in this lane's share: the smallest scale, so that it cannot pull a
  // tiny scaled sum of another lane up to its own scale and flush it. NaN/Inf: the scale no longer matters.
  if (m == 0u || m >= INF_BITS) { return combine(acc, Acc(vec4<f32>(0.0), MIN_SCALE_EXP, m), p); }
  if (!needsScaling(m, p) && sumInBand(sum)) { return combine(acc, Acc(sum, 0, m), p); }
  let e = scaleExpFor(m);
  let inverse = inverseScale(e);
  sum = vec4<f32>(0.0);
  for (var j = lane; j < count; j += WG) {
    let magnitude = abs(grad_SLOT[offset + j]) * inverse;
    sum = addPowers(sum, magnitude, magnitude, p);
  }
  return combine(acc, Acc(sum, e, m), p);
}

fn loadVec_SLOT(index: u32) -> vec4<f32> {
  return grad_SLOT[index];
}
// @per-vec4-binding-end

// @per-scalar-binding-begin
@group(0) @binding(SLOT_BINDING) var<storage, read_write> grad_SLOT: array<f32>;

// A buffer's last few elements (at most one offset alignment and 12 bytes), each scaled exactly.
fn sweep_SLOT(acc: Acc, offset: u32, count: u32, lane: u32, p: f32) -> Acc {
  var result = acc;
  for (var i = lane; i < count; i += WG) {
    result = combine(result, accOfVec(vec4<f32>(grad_SLOT[offset + i], 0.0, 0.0, 0.0), p), p);
  }
  return result;
}
// @per-scalar-binding-end

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
