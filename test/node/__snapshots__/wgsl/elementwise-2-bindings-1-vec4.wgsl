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

// Per-binding in-place writes of gradient windows for the write kernels (elementwise.wgsl,
// segment_scale.wgsl): `op` 0 multiplies by a coefficient, `op` 1 clamps to [lo, hi] keeping NaN.
// f16 slots (the element type is filled in per slot) are widened, transformed in f32 and rounded back.
// src/shaders.ts repeats the vec4 block for a dispatch group's first slots and the scalar block
// for the rest (the same windows and bindings as grad_read.wgsl, so one bind group serves the
// norm and the write kernels). An `apply` covers elements first, first + stride, ... of
// [offset, offset + count); a masked vec4 is rewritten whole by the one lane that owns it, its
// components outside the mask with their own bits.

override op: u32 = OP_SCALE;

fn transform(x: vec4<f32>, coef: f32, lo: f32, hi: f32) -> vec4<f32> {
  if (op == OP_SCALE) { return x * coef; }
  // min/max take ±Inf to the bounds; NaN, whose min/max WGSL leaves open, is kept by bit pattern.
  let clamped = min(max(x, vec4<f32>(lo)), vec4<f32>(hi));
  return select(clamped, x, (bitcast<vec4<u32>>(x) & vec4<u32>(ABS_MASK)) > vec4<u32>(INF_BITS));
}

@group(0) @binding(1) var<storage, read_write> grad_0: array<vec4<f32>>;

fn load_0(index: u32) -> vec4<f32> {
  return vec4<f32>(grad_0[index]);
}

fn store_0(index: u32, value: vec4<f32>) {
  grad_0[index] = vec4<f32>(value);
}

fn apply_0(offset: u32, count: u32, first: u32, stride: u32, coef: f32, lo: f32, hi: f32) {
  var i = first;
  // Four independent loads per turn (each coalesced across lanes) keep more memory in flight.
  for (; i + 3u * stride < count; i += 4u * stride) {
    let j = offset + i;
    let x0 = load_0(j);
    let x1 = load_0(j + stride);
    let x2 = load_0(j + 2u * stride);
    let x3 = load_0(j + 3u * stride);
    store_0(j, transform(x0, coef, lo, hi));
    store_0(j + stride, transform(x1, coef, lo, hi));
    store_0(j + 2u * stride, transform(x2, coef, lo, hi));
    store_0(j + 3u * stride, transform(x3, coef, lo, hi));
  }
  for (; i < count; i += stride) {
    store_0(offset + i, transform(load_0(offset + i), coef, lo, hi));
  }
}

// The components outside the mask (another view's, or bytes no view covers) keep their bits.
fn applyMasked_0(index: u32, mask: vec4<bool>, coef: f32, lo: f32, hi: f32) {
  let raw = grad_0[index];
  grad_0[index] = select(raw, vec4<f32>(transform(vec4<f32>(raw), coef, lo, hi)), mask);
}

@group(0) @binding(2) var<storage, read_write> grad_1: array<f32>;

fn apply_1(offset: u32, count: u32, first: u32, stride: u32, coef: f32, lo: f32, hi: f32) {
  for (var i = first; i < count; i += stride) {
    grad_1[offset + i] = f32(transform(vec4<f32>(f32(grad_1[offset + i])), coef, lo, hi).x);
  }
}

fn apply(slot: u32, offset: u32, count: u32, first: u32, stride: u32, coef: f32, lo: f32, hi: f32) {
  switch slot {
    case 0u: { apply_0(offset, count, first, stride, coef, lo, hi); }
    case 1u: { apply_1(offset, count, first, stride, coef, lo, hi); }
    default: {  }
  }
}

fn applyMasked(slot: u32, index: u32, mask: vec4<bool>, coef: f32, lo: f32, hi: f32) {
  switch slot {
    case 0u: { applyMasked_0(index, mask, coef, lo, hi); }
    default: {  }
  }
}


// In-place elementwise pass over a gradient set: `op` 0 multiplies by the clip coefficient the
// norm pass left on the GPU (and returns at once unless FLAG_SCALED is set), `op` 1 clamps to
// [params.clipMin, params.clipMax] keeping NaN.
//
// Bindings: group(0) = plan + grad_0 .. grad_{K-1} (declared by grad_write.wgsl), the same layout
// as norm_partials.wgsl, so one bind group serves both; group(1) = params (uniform, dynamic
// offset) + result (read-only NormResult slot, dynamic offset). Vec4 chunks are whole vec4s
// inside one view, spread over a workgroup's lanes; each boundary vec4 is owned by one lane.

@group(0) @binding(0) var<storage, read> plan: Plan;
@group(1) @binding(0) var<uniform> params: Params;
@group(1) @binding(1) var<storage, read> result: NormResult;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) groupId: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
  if (op == OP_SCALE && (result.flags & FLAG_SCALED) == 0u) { return; }
  let coef = result.coef;
  let lo = params.clipMin;
  let hi = params.clipMax;
  let group = groupId.x;
  let range = plan.entries[group];
  for (var c = range.x; c < range.y; c++) {
    let chunk = plan.entries[plan.chunkBase + c];
    apply(chunk.x, chunk.y, chunk.z, lane, WG, coef, lo, hi);
  }
  let stride = plan.workgroupCount * WG;
  for (var b = group * WG + lane; b < plan.boundaryCount; b += stride) {
    let entry = plan.entries[plan.boundaryBase + b];
    applyMasked(entry.x, entry.y, maskLanes(entry.z), coef, lo, hi);
  }
}
