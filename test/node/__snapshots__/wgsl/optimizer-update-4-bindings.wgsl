// ⟨the ABI prelude (src/kernels/abi.ts)⟩

// ⟨shaders/common/common.wgsl⟩

// ⟨shaders/optimizer/optimizer_common.wgsl⟩

// ⟨shaders/common/view_search.wgsl⟩

// The fused optimizer step, pass 2 of 2: each lane takes quads, four consecutive elements of one
// view (one binding switch per four loads), clips the gradients (by the GPU's
// coefficient or by value), then applies PyTorch's SGD (momentum, dampening, nesterov, weight
// decay), Adam (L2 decay) or AdamW (decoupled decay) to the parameters and their state in place.
// The gradients are only read. Nothing is written when optimizer_prepare.wgsl marked the step
// skipped.
//
// Bindings: group(0) = table + window_0 .. window_{K-1} (read_write array<f32>: the buffers that
// hold the gradients and the parameters, one window per buffer); group(1) = settings (uniform,
// dynamic offset), state (OptimizerStep, read-only), first (momentum buffer / Adam's m), second
// (Adam's v), both vec4: each view's state starts at a multiple of four elements. Table: header
// (viewCount, laneCount, -, -), then per view (gradient slot, element offset in its window,
// parameter slot, element offset), then per view (state vec4 offset, length, first lane, -)
// (view_search.wgsl).

struct UpdateTable {
  viewCount: u32,
  laneCount: u32,
  _pad0: u32,
  _pad1: u32,
  entries: array<vec4<u32>>,
}

@group(0) @binding(OPTIMIZER_DATA_TABLE) var<storage, read> table: UpdateTable;
@group(1) @binding(OPTIMIZER_STATE_SETTINGS) var<uniform> settings: OptimizerSettings;
@group(1) @binding(OPTIMIZER_STATE_STEP) var<storage, read> state: OptimizerStep;
@group(1) @binding(OPTIMIZER_STATE_FIRST) var<storage, read_write> first: array<vec4<f32>>;
@group(1) @binding(OPTIMIZER_STATE_SECOND) var<storage, read_write> second: array<vec4<f32>>;

@group(0) @binding(1) var<storage, read_write> window_0: array<f32>;

// Elements index .. index + count - 1 (count ≤ 4; the rest read as 0).
fn load4_0(index: u32, count: u32) -> vec4<f32> {
  if (count == 4u) {
    return vec4<f32>(window_0[index], window_0[index + 1u], window_0[index + 2u], window_0[index + 3u]);
  }
  var r = vec4<f32>(0.0);
  for (var k = 0u; k < count; k++) { r[k] = window_0[index + k]; }
  return r;
}

fn store4_0(index: u32, value: vec4<f32>, count: u32) {
  if (count == 4u) {
    window_0[index] = value.x;
    window_0[index + 1u] = value.y;
    window_0[index + 2u] = value.z;
    window_0[index + 3u] = value.w;
    return;
  }
  for (var k = 0u; k < count; k++) { window_0[index + k] = value[k]; }
}

@group(0) @binding(2) var<storage, read_write> window_1: array<f32>;

// Elements index .. index + count - 1 (count ≤ 4; the rest read as 0).
fn load4_1(index: u32, count: u32) -> vec4<f32> {
  if (count == 4u) {
    return vec4<f32>(window_1[index], window_1[index + 1u], window_1[index + 2u], window_1[index + 3u]);
  }
  var r = vec4<f32>(0.0);
  for (var k = 0u; k < count; k++) { r[k] = window_1[index + k]; }
  return r;
}

fn store4_1(index: u32, value: vec4<f32>, count: u32) {
  if (count == 4u) {
    window_1[index] = value.x;
    window_1[index + 1u] = value.y;
    window_1[index + 2u] = value.z;
    window_1[index + 3u] = value.w;
    return;
  }
  for (var k = 0u; k < count; k++) { window_1[index + k] = value[k]; }
}

@group(0) @binding(3) var<storage, read_write> window_2: array<f32>;

// Elements index .. index + count - 1 (count ≤ 4; the rest read as 0).
fn load4_2(index: u32, count: u32) -> vec4<f32> {
  if (count == 4u) {
    return vec4<f32>(window_2[index], window_2[index + 1u], window_2[index + 2u], window_2[index + 3u]);
  }
  var r = vec4<f32>(0.0);
  for (var k = 0u; k < count; k++) { r[k] = window_2[index + k]; }
  return r;
}

fn store4_2(index: u32, value: vec4<f32>, count: u32) {
  if (count == 4u) {
    window_2[index] = value.x;
    window_2[index + 1u] = value.y;
    window_2[index + 2u] = value.z;
    window_2[index + 3u] = value.w;
    return;
  }
  for (var k = 0u; k < count; k++) { window_2[index + k] = value[k]; }
}

@group(0) @binding(4) var<storage, read_write> window_3: array<f32>;

// Elements index .. index + count - 1 (count ≤ 4; the rest read as 0).
fn load4_3(index: u32, count: u32) -> vec4<f32> {
  if (count == 4u) {
    return vec4<f32>(window_3[index], window_3[index + 1u], window_3[index + 2u], window_3[index + 3u]);
  }
  var r = vec4<f32>(0.0);
  for (var k = 0u; k < count; k++) { r[k] = window_3[index + k]; }
  return r;
}

fn store4_3(index: u32, value: vec4<f32>, count: u32) {
  if (count == 4u) {
    window_3[index] = value.x;
    window_3[index + 1u] = value.y;
    window_3[index + 2u] = value.z;
    window_3[index + 3u] = value.w;
    return;
  }
  for (var k = 0u; k < count; k++) { window_3[index + k] = value[k]; }
}

fn load4(slot: u32, index: u32, count: u32) -> vec4<f32> {
  switch slot {
    case 0u: { return load4_0(index, count); }
    case 1u: { return load4_1(index, count); }
    case 2u: { return load4_2(index, count); }
    case 3u: { return load4_3(index, count); }
    default: { return vec4<f32>(0.0); }
  }
}

fn store4(slot: u32, index: u32, value: vec4<f32>, count: u32) {
  switch slot {
    case 0u: { store4_0(index, value, count); }
    case 1u: { store4_1(index, value, count); }
    case 2u: { store4_2(index, value, count); }
    case 3u: { store4_3(index, value, count); }
    default: {  }
  }
}

// One quad's update: elements 4·quad .. of view `v`.
fn updateQuad(v: u32, quadOfView: u32) {
  let place = table.entries[v];
  let extent = table.entries[table.viewCount + v];
  let j = quadOfView * 4u;
  let count = min(4u, extent.y - j);
  let s = extent.x + quadOfView;

  var g = load4(place.x, place.y + j, count);
  if (settings.clipKind == CLIP_VALUE) {
    g = clamp(g, vec4<f32>(-settings.clipValue), vec4<f32>(settings.clipValue));
  } else {
    g *= state.coef;
  }
  var w = load4(place.z, place.w + j, count);
  if (settings.kind == OPT_SGD) {
    g = fma(vec4<f32>(settings.weightDecay), w, g);
    if (settings.momentum != 0.0) {
      var velocity = g;
      if (state.firstStep == 0u) { velocity = settings.momentum * first[s] + settings.oneMinusDampening * g; }
      first[s] = velocity;
      g = select(velocity, fma(vec4<f32>(settings.momentum), velocity, g), settings.nesterov != 0u);
    }
    w -= settings.lr * g;
  } else {
    if (settings.kind == OPT_ADAMW) {
      w *= state.decay;
    } else {
      g = fma(vec4<f32>(settings.weightDecay), w, g);
    }
    let m = settings.beta1 * first[s] + settings.oneMinusBeta1 * g;
    let v2 = settings.beta2 * second[s] + settings.oneMinusBeta2 * g * g;
    first[s] = m;
    second[s] = v2;
    w -= state.stepSize * m / (sqrt(v2) / state.correction2Sqrt + settings.eps);
  }
  store4(place.z, place.w + j, w, count);
}

// A grid-stride loop over the quads (the workgroup count is the clipper's cap): the view is found
// once by binary search, then followed forward as the quad index grows.
@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) group: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) local: u32) {
  if (state.skip != 0u) { return; }
  let stride = groups.x * WG;
  var quad = group.x * WG + local;
  if (quad >= table.laneCount) { return; }
  var v = viewOfLane(quad);
  for (; quad < table.laneCount; quad += stride) {
    while (v + 1u < table.viewCount && table.entries[table.viewCount + v + 1u].z <= quad) { v++; }
    updateQuad(v, quad - table.entries[table.viewCount + v].z);
  }
}
