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

// The fused optimizer step, pass 1 of 2 (one invocation, after the gradients' norm): reads the
// norm's result slot (clip coefficient and found-inf flag) and advances the step state: skip on a
// non-finite gradient, else count the step and work out its bias corrections once for every lane
// of optimizer_update.wgsl.
//
// Bindings: group(0) = settings (uniform, dynamic offset), result (NormResult slot, dynamic
// offset, read-only), state (OptimizerStep).

@group(0) @binding(0) var<uniform> settings: OptimizerSettings;
@group(0) @binding(1) var<storage, read> result: NormResult;
@group(0) @binding(2) var<storage, read_write> state: OptimizerStep;

@compute @workgroup_size(1)
fn main() {
  if (result.foundInf != 0u) {
    state.skip = 1u;
    return;
  }
  let count = state.count + 1u;
  state.count = count;
  state.skip = 0u;
  state.firstStep = select(0u, 1u, count == 1u);
  state.coef = select(1.0, result.coef, settings.clipKind == CLIP_NORM && (result.flags & FLAG_SCALED) != 0u);
  // 1 - beta^t as c_t = (1 - beta) + beta · c_(t-1): no cancellation, where 1 - pow(beta, t) in
  // f32 loses about 1e-5 of its value on the first steps for beta2 = 0.999 (measured against
  // float64 in the benchmark's check).
  let correction1 = settings.oneMinusBeta1 + settings.beta1 * state.correction1;
  let correction2 = settings.oneMinusBeta2 + settings.beta2 * state.correction2;
  state.correction1 = correction1;
  state.correction2 = correction2;
  state.stepSize = settings.lr / correction1;
  state.correction2Sqrt = sqrt(correction2);
  state.decay = 1.0 - settings.lr * settings.weightDecay;
}
