// In-place elementwise pass over a gradient set: `op` 0 multiplies by the clip coefficient the
// norm pass left on the GPU (and returns at once unless FLAG_SCALED is set), `op` 1 clamps to
// [params.clipMin, params.clipMax] keeping NaN.
//
// Bindings: group(0) = plan + grad_0 .. grad_{K-1}, the same layout as norm_partials.wgsl, so one
// bind group serves both (vec4 slots first, then scalar slots for buffer tails); group(1) = params
// (uniform, dynamic offset) + result (read-only NormResult slot, dynamic offset). Vec4 chunks are
// whole vec4s inside one view; a boundary vec4 is rewritten by the one lane that owns it, its
// components outside every view with their own bits. Scalar chunks are written element by element.

override op: u32 = 0u;

@group(0) @binding(0) var<storage, read> plan: Plan;
@group(1) @binding(0) var<uniform> params: Params;
@group(1) @binding(1) var<storage, read> result: NormResult;

fn transform(x: vec4<f32>, coef: f32, lo: f32, hi: f32) -> vec4<f32> {
  if (op == 0u) { return x * coef; }
  // min/max take ±Inf to the bounds; NaN, whose min/max WGSL leaves open, is kept by bit pattern.
  let clamped = min(max(x, vec4<f32>(lo)), vec4<f32>(hi));
  return select(clamped, x, (bitcast<vec4<u32>>(x) & vec4<u32>(ABS_MASK)) > vec4<u32>(INF_BITS));
}

// @per-vec4-binding-begin
@group(0) @binding(SLOT_BINDING) var<storage, read_write> grad_SLOT: array<vec4<f32>>;

fn apply_SLOT(offset: u32, count: u32, lane: u32, coef: f32, lo: f32, hi: f32) {
  var i = lane;
  // Four independent loads per turn (each coalesced across lanes) keep more memory in flight.
  for (; i + 3u * WG < count; i += 4u * WG) {
    let j = offset + i;
    let x0 = grad_SLOT[j];
    let x1 = grad_SLOT[j + WG];
    let x2 = grad_SLOT[j + 2u * WG];
    let x3 = grad_SLOT[j + 3u * WG];
    grad_SLOT[j] = transform(x0, coef, lo, hi);
    grad_SLOT[j + WG] = transform(x1, coef, lo, hi);
    grad_SLOT[j + 2u * WG] = transform(x2, coef, lo, hi);
    grad_SLOT[j + 3u * WG] = transform(x3, coef, lo, hi);
  }
  for (; i < count; i += WG) {
    grad_SLOT[offset + i] = transform(grad_SLOT[offset + i], coef, lo, hi);
  }
}

fn applyMasked_SLOT(index: u32, mask: vec4<bool>, coef: f32, lo: f32, hi: f32) {
  let x = grad_SLOT[index];
  grad_SLOT[index] = select(x, transform(x, coef, lo, hi), mask);
}
// @per-vec4-binding-end

// @per-scalar-binding-begin
@group(0) @binding(SLOT_BINDING) var<storage, read_write> grad_SLOT: array<f32>;

fn apply_SLOT(offset: u32, count: u32, lane: u32, coef: f32, lo: f32, hi: f32) {
  for (var i = lane; i < count; i += WG) {
    grad_SLOT[offset + i] = transform(vec4<f32>(grad_SLOT[offset + i]), coef, lo, hi).x;
  }
}
// @per-scalar-binding-end

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) groupId: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
  if (op == 0u && (result.flags & FLAG_SCALED) == 0u) { return; }
  let coef = result.coef;
  let lo = params.clipMin;
  let hi = params.clipMax;
  let group = groupId.x;
  let range = plan.entries[group];
  for (var c = range.x; c < range.y; c++) {
    let chunk = plan.entries[plan.chunkBase + c];
    apply(chunk.x, chunk.y, chunk.z, lane, coef, lo, hi);
  }
  let stride = plan.workgroupCount * WG;
  for (var b = group * WG + lane; b < plan.boundaryCount; b += stride) {
    let entry = plan.entries[plan.boundaryBase + b];
    applyMasked(entry.x, entry.y, maskLanes(entry.z), coef, lo, hi);
  }
}
