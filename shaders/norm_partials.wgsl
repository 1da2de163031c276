// Multi-tensor norm, pass 1: each workgroup reduces its chunks to one partial accumulator.
//
// Bindings: group(0) = plan (read-only storage) + grad_0 .. grad_{K-1} (the dispatch group's
// buffer windows, array<f32>), shared with elementwise.wgsl; group(1) = params (uniform,
// dynamic offset) + partials (array<Acc>, one per workgroup of every dispatch group).
// The block between the per-binding markers is repeated for each binding slot by src/shaders.ts,
// because WGSL cannot index bindings; `sweep` (generated) switches once per chunk, not per element.

@group(0) @binding(0) var<storage, read> plan: Plan;
@group(1) @binding(0) var<uniform> params: Params;
@group(1) @binding(1) var<storage, read_write> partials: array<Acc>;

// @per-binding-begin
@group(0) @binding(SLOT_BINDING) var<storage, read_write> grad_SLOT: array<f32>;

fn sweep_SLOT(acc0: Acc, offset: u32, length: u32, lane: u32, p: f32) -> Acc {
  var acc = acc0;
  let last = offset + length - 1u;
  // Four coalesced loads per lane and iteration; out-of-range lanes read the last element
  // (always valid) and are masked to zero.
  for (var base = 0u; base < length; base += 4u * WG) {
    let i = vec4<u32>(base + lane) + vec4<u32>(0u, WG, 2u * WG, 3u * WG);
    let j = min(vec4<u32>(offset) + i, vec4<u32>(last));
    let x = vec4<f32>(grad_SLOT[j.x], grad_SLOT[j.y], grad_SLOT[j.z], grad_SLOT[j.w]);
    acc = accumulate(acc, select(vec4<f32>(0.0), x, i < vec4<u32>(length)), p);
  }
  return acc;
}
// @per-binding-end

@compute @workgroup_size(WG)
fn main(ids: LaneIds) {
  let p = params.p;
  var acc = emptyAcc();
  let range = plan.entries[ids.group.x];
  for (var c = range.x; c < range.y; c++) {
    let chunk = plan.entries[plan.chunkBase + c];
    acc = sweep(chunk.x, acc, chunk.y, chunk.z, ids.local, p);
  }
  let merged = combineWorkgroup(acc, ids, p);
  if (ids.local == 0u) {
    partials[plan.partialBase + ids.group.x] = merged;
  }
}
