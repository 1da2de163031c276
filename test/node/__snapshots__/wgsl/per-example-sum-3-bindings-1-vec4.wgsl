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

// Per-example clipping, the sum over the batch: out[j] = Σ_e coefficient_e · view[e · L + j] for
// each element j of a view's per-example slice (length L), the coefficients from
// segment_finalize.wgsl (rule 2, one segment per example). One lane per vec4 of output for views
// whose offset and L are multiples of 4 bytes × 4 (bound as array<vec4<f32>>: vector loads), one
// lane per element for the rest (array<f32>, any offset and size). The views are read-only.
//
// Bindings: group(0) = table + view_0 .. view_{K-1} (the first table.vec4Slots as vec4);
// group(1) = segmentNorms (vec2: norm, coefficient per example; read-only) + sums (array<f32>,
// the output buffer from its byte offset). Table: header (viewCount, batchSize, laneCount,
// vec4Slots), then per view (slot, offset in its window, L, output element offset) in the
// window's units (vec4s or elements), then per view (-, -, first lane, -) (view_search.wgsl).

struct SumTable {
  viewCount: u32,
  batchSize: u32,
  laneCount: u32,
  vec4Slots: u32,
  entries: array<vec4<u32>>,
}

@group(0) @binding(0) var<storage, read> table: SumTable;
@group(1) @binding(0) var<storage, read> segmentNorms: array<vec2<f32>>;
@group(1) @binding(1) var<storage, read_write> sums: array<f32>;

@group(0) @binding(1) var<storage, read> view_0: array<vec4<f32>>;

// Σ_e coefficient_e · view[start + e · exampleLength]: the slot is chosen once per lane, not per load.
fn sumVec4_0(start: u32, exampleLength: u32) -> vec4<f32> {
  var sum = vec4<f32>(0.0);
  for (var e = 0u; e < table.batchSize; e++) {
    sum = fma(vec4<f32>(segmentNorms[e].y), view_0[start + e * exampleLength], sum);
  }
  return sum;
}

@group(0) @binding(2) var<storage, read> view_1: array<f32>;

fn sumScalar_1(start: u32, exampleLength: u32) -> f32 {
  var sum = 0.0;
  for (var e = 0u; e < table.batchSize; e++) {
    sum = fma(segmentNorms[e].y, view_1[start + e * exampleLength], sum);
  }
  return sum;
}

@group(0) @binding(3) var<storage, read> view_2: array<f32>;

fn sumScalar_2(start: u32, exampleLength: u32) -> f32 {
  var sum = 0.0;
  for (var e = 0u; e < table.batchSize; e++) {
    sum = fma(segmentNorms[e].y, view_2[start + e * exampleLength], sum);
  }
  return sum;
}

fn sumVec4(slot: u32, start: u32, exampleLength: u32) -> vec4<f32> {
  switch slot {
    case 0u: { return sumVec4_0(start, exampleLength); }
    default: { return vec4<f32>(0.0); }
  }
}

fn sumScalar(slot: u32, start: u32, exampleLength: u32) -> f32 {
  switch slot {
    case 1u: { return sumScalar_1(start, exampleLength); }
    case 2u: { return sumScalar_2(start, exampleLength); }
    default: { return 0.0; }
  }
}


@compute @workgroup_size(WG)
fn main(ids: GridIds) {
  let index = foldedIndex(ids);
  if (index >= table.laneCount) { return; }
  let v = viewOfLane(index);
  let view = table.entries[v];
  let j = index - table.entries[table.viewCount + v].z;
  if (view.x < table.vec4Slots) {
    let sum = sumVec4(view.x, view.y + j, view.z);
    let out = view.w + 4u * j;
    sums[out] = sum.x;
    sums[out + 1u] = sum.y;
    sums[out + 2u] = sum.z;
    sums[out + 3u] = sum.w;
  } else {
    sums[view.w + j] = sumScalar(view.x, view.y + j, view.z);
  }
}
