// In-place elementwise pass over a gradient set: `op` 0 multiplies by the clip coefficient the
// norm pass left on the GPU (and returns at once unless FLAG_SCALED is set), `op` 1 clamps to
// [params.clipMin, params.clipMax] keeping NaN.
//
// Bindings: group(0) = plan + grad_0 .. grad_{K-1}, the same layout as norm_partials.wgsl, so one
// bind group serves both; group(1) = params (uniform, dynamic offset) + result (read-only
// NormResult slot, dynamic offset). Elements outside the plan's chunks are never touched.

override op: u32 = 0u;

@group(0) @binding(0) var<storage, read> plan: Plan;
@group(1) @binding(0) var<uniform> params: Params;
@group(1) @binding(1) var<storage, read> result: NormResult;

fn transform(x: f32, coef: f32, lo: f32, hi: f32) -> f32 {
  if (op == 0u) { return x * coef; }
  // Clamp by bit pattern: NaN stays NaN, ±Inf go to the bounds, whatever the math mode.
  let bits = bitcast<u32>(x);
  let absBits = bits & ABS_MASK;
  if (absBits > INF_BITS) { return x; }
  if (absBits == INF_BITS) { return select(hi, lo, bits != absBits); }
  return min(max(x, lo), hi);
}

// @per-binding-begin
@group(0) @binding(SLOT_BINDING) var<storage, read_write> grad_SLOT: array<f32>;

fn apply_SLOT(offset: u32, length: u32, lane: u32, coef: f32, lo: f32, hi: f32) {
  for (var base = 0u; base < length; base += 4u * WG) {
    for (var k = 0u; k < 4u; k++) {
      let i = base + lane + k * WG;
      if (i < length) {
        grad_SLOT[offset + i] = transform(grad_SLOT[offset + i], coef, lo, hi);
      }
    }
  }
}
// @per-binding-end

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) group: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
  if (op == 0u && (result.flags & FLAG_SCALED) == 0u) { return; }
  let coef = result.coef;
  let lo = params.clipMin;
  let hi = params.clipMax;
  let range = plan.entries[group.x];
  for (var c = range.x; c < range.y; c++) {
    let chunk = plan.entries[plan.chunkBase + c];
    apply(chunk.x, chunk.y, chunk.z, lane, coef, lo, hi);
  }
}
