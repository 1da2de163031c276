// Generated from src/kernels/abi.ts: the values TypeScript and WGSL share.
const FLAG_NAN: u32 = 1u;
const FLAG_INF: u32 = 2u;
const FLAG_SCALED: u32 = 4u;
const FLAG_NONFINITE_ERROR: u32 = 8u;
const MODE_ERROR_IF_NONFINITE: u32 = 1u;
const MODE_NO_SCALE: u32 = 2u;
const MODE_SKIP_NONFINITE: u32 = 4u;
const SOURCE_PARTIALS: u32 = 0u;
const SOURCE_RESULT: u32 = 1u;
const SOURCE_PARAMS: u32 = 2u;
const OP_SCALE: u32 = 0u;
const OP_CLAMP: u32 = 1u;
const RULE_NORMS: u32 = 0u;
const RULE_CLIP_BY_NORM: u32 = 1u;
const RULE_PER_EXAMPLE: u32 = 2u;
const RULE_AGC: u32 = 3u;
const SUMMARY_TOTAL_NORM: u32 = 0u;
const SUMMARY_COUNT_CLIPPED: u32 = 1u;
const ADAPTIVE_AUTOCLIP: u32 = 0u;
const ADAPTIVE_ZCLIP: u32 = 1u;
const DISPATCH_HEADER: u32 = 4u;
const NORM_KIND_MAX: u32 = 0u;
const NORM_KIND_L1: u32 = 1u;
const NORM_KIND_L2: u32 = 2u;
const NORM_KIND_P: u32 = 3u;
const ZCLIP_ZSCORE: u32 = 0u;
const ZCLIP_ADAPTIVE: u32 = 1u;
const OPT_SGD: u32 = 0u;
const OPT_ADAM: u32 = 1u;
const OPT_ADAMW: u32 = 2u;
const CLIP_NONE: u32 = 0u;
const CLIP_NORM: u32 = 1u;
const CLIP_VALUE: u32 = 2u;
const EDGE_PIECE: u32 = 134217728u;
const PIECE_WINDOW_BITS: u32 = 134217727u;
const SEGMENTS_HEADER: u32 = 4u;

// Declarations shared by every gradclip kernel: the per-call parameters (a uniform slot chosen
// by dynamic offset), the plan table of a dispatch group, and the GPU-resident norm result.

override WG: u32 = 256u;   // workgroup size, from the device's limits

// FLAG_* (NormResult.flags), MODE_* (Params.mode) and every other value TypeScript shares come
// from the generated prelude (src/kernels/abi.ts).
const ABS_MASK: u32 = 0x7fffffffu;
const INF_BITS: u32 = 0x7f800000u;
const NAN_BITS: u32 = 0x7fc00000u;

struct Params {
  p: f32,          // norm type for normKind NORM_KIND_P
  maxNorm: f32,
  clipMin: f32,
  clipMax: f32,
  givenNorm: f32,  // the norm passed as a number to clipGradsWithNorm
  mode: u32,       // MODE_* bits
  eps: f32,        // AGC: floor on a unit's parameter norm (maxNorm is then AGC's `clipping`)
  _pad: u32,
}

// One dispatch group's table, in vec4 units (every gradient binding is array<vec4<f32>>):
//   entries[0 .. workgroupCount)          (first chunk, end chunk, -, -) per workgroup
//   entries[chunkBase + c]                (binding slot, vec4 offset, vec4 count, view): whole
//                                         vec4s inside one view, spread over the workgroups
//   entries[boundaryBase + b]             (binding slot, vec4 index, component mask, view): each
//                                         vec4 that views cover only partly (or two views share),
//                                         owned by exactly one lane so that writes never race
struct Plan {
  workgroupCount: u32,
  partialBase: u32,   // index of this group's first partial in the partials buffer
  chunkBase: u32,
  boundaryBase: u32,
  boundaryCount: u32,
  _pad0: u32,
  _pad1: u32,
  _pad2: u32,
  entries: array<vec4<u32>>,
}

// A dispatch group's table for per-segment kernels (a segment: a view, a row, an example), one
// lane per piece:
//   entries[0 .. pieceCount)                 (slot | EDGE_PIECE | mask << 28, offset, count,
//                                            first | stride << 16): vec4s first, first + stride,
//                                            ... of [offset, offset + count) (elements in a scalar
//                                            window), or, flagged EDGE_PIECE, one vec4 of which
//                                            `mask` belongs to the segment
//   entries[edgeBase + e]                    (slot, vec4 index, mask, segment): the masked vec4s
//                                            again, sorted by vec4, for the write kernel
//   entries[segmentBase + i / 4][i % 4]      piece i's segment
//   entries[partialBase + i / 4][i % 4]      piece i's partial
struct SegmentTable {
  pieceCount: u32,
  edgeBase: u32,
  edgeCount: u32,
  segmentBase: u32,
  partialBase: u32,
  _pad0: u32,
  _pad1: u32,
  _pad2: u32,
  entries: array<vec4<u32>>,
}


// The builtins of a kernel whose dispatch is folded into x and y (maxComputeWorkgroupsPerDimension).
struct GridIds {
  @builtin(workgroup_id) group: vec3<u32>,
  @builtin(num_workgroups) groups: vec3<u32>,
  @builtin(local_invocation_index) local: u32,
}

// The flat index of this invocation in a folded dispatch.
fn foldedIndex(ids: GridIds) -> u32 {
  return (ids.group.y * ids.groups.x + ids.group.x) * WG + ids.local;
}

// The components of a vec4 that `mask` (bit i = component i) selects.
fn maskLanes(mask: u32) -> vec4<bool> {
  return (vec4<u32>(mask) & vec4<u32>(1u, 2u, 4u, 8u)) != vec4<u32>(0u);
}

struct NormResult {
  norm: f32,
  coef: f32,
  flags: u32,       // FLAG_* bits
  foundInf: u32,    // 1 when the norm was NaN or ±Inf (AMP's found_inf), else 0
  threshold: f32,   // the maxNorm the decision used (AutoClip/ZClip: this step's threshold)
  _pad0: u32,
  _pad1: u32,
  _pad2: u32,
}

// FLAG_NAN or FLAG_INF for a non-finite value, by bit pattern.
fn classify(x: f32) -> u32 {
  let bits = bitcast<u32>(x) & ABS_MASK;
  if (bits > INF_BITS) { return FLAG_NAN; }
  if (bits == INF_BITS) { return FLAG_INF; }
  return 0u;
}

// PyTorch's coefficient for a norm being clipped (above maxNorm, or NaN/Inf): maxNorm / (norm +
// 1e-6), NaN for a NaN norm, 0 for an infinite one (NaN when maxNorm is itself +Inf).
fn clipCoefficient(norm: f32, flags: u32, maxNorm: f32) -> f32 {
  if ((flags & FLAG_NAN) != 0u) { return floatFromBits(NAN_BITS); }
  if ((flags & FLAG_INF) != 0u) { return select(0.0, floatFromBits(NAN_BITS), classify(maxNorm) != 0u); }
  return maxNorm / (norm + 1e-6);
}

// NaN and +Inf are made at run time: a constant expression that evaluates to either is a
// shader-creation error, so they never appear as `bitcast` of a constant.
fn floatFromBits(bits: u32) -> f32 {
  return bitcast<f32>(bits);
}

// Declarations shared by optimizer_prepare.wgsl and optimizer_update.wgsl: the optimizer's
// settings (a uniform slot, dynamic offset) and its step state on the GPU.

struct OptimizerSettings {
  kind: u32,            // OPT_*
  clipKind: u32,        // CLIP_*
  lr: f32,
  beta1: f32,
  beta2: f32,
  oneMinusBeta1: f32,   // 1 - beta and 1 - dampening rounded once, on the host, from float64
  oneMinusBeta2: f32,
  eps: f32,
  weightDecay: f32,
  momentum: f32,
  oneMinusDampening: f32,
  nesterov: u32,
  clipValue: f32,
  _pad0: u32,
  _pad1: u32,
  _pad2: u32,
}

struct OptimizerStep {
  count: u32,            // steps taken (skipped ones not counted): PyTorch's state['step']
  skip: u32,             // 1 when this step's gradients held a NaN or ±Inf: nothing is updated
  firstStep: u32,        // 1 on the first step taken (SGD's momentum buffer starts as the gradient)
  _pad: u32,
  coef: f32,             // the clip-by-norm coefficient (1 when not clipping)
  stepSize: f32,         // Adam: lr / (1 - beta1^t)
  correction2Sqrt: f32,  // Adam: sqrt(1 - beta2^t)
  decay: f32,            // AdamW: 1 - lr · weightDecay
  correction1: f32,      // 1 - beta1^t and 1 - beta2^t, kept by a recurrence (see optimizer_prepare.wgsl)
  correction2: f32,
  _pad1: u32,
  _pad2: u32,
}

// Which view a lane works on, for kernels whose lanes run over the elements of several views
// (per_example_sum.wgsl, optimizer_update.wgsl): their `table` lists, after one section of
// per-view entries, a second section whose `.z` is each view's first lane, in increasing order.

// The last view whose first lane is at or before `index` (a binary search over table.viewCount).
fn viewOfLane(index: u32) -> u32 {
  var lo = 0u;
  var hi = table.viewCount;
  while (hi - lo > 1u) {
    let mid = (lo + hi) / 2u;
    if (table.entries[table.viewCount + mid].z <= index) { lo = mid; } else { hi = mid; }
  }
  return lo;
}

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

@group(0) @binding(0) var<storage, read> table: UpdateTable;
@group(1) @binding(0) var<uniform> settings: OptimizerSettings;
@group(1) @binding(1) var<storage, read> state: OptimizerStep;
@group(1) @binding(2) var<storage, read_write> first: array<vec4<f32>>;
@group(1) @binding(3) var<storage, read_write> second: array<vec4<f32>>;

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
