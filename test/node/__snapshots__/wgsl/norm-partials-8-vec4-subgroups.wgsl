// Workgroup-combine prelude for devices with the `subgroups` feature: lanes merge with
// subgroup operations first, so only one value per subgroup goes through workgroup memory.
enable subgroups;

struct LaneIds {
  @builtin(local_invocation_index) local: u32,
  @builtin(workgroup_id) group: vec3<u32>,
  @builtin(subgroup_invocation_id) lane: u32,
}

fn reduceSubgroup(acc: Acc, p: f32) -> Acc {
  let e = subgroupMax(acc.scaleExp);
  return Acc(subgroupAdd(rescaleSum(acc.sum, acc.scaleExp - e, p)), e, subgroupMax(acc.maxBits));
}

fn isSubgroupLeader(ids: LaneIds) -> bool {
  return ids.lane == 0u;
}

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

// Overflow-safe p-norm accumulator, shared by norm_partials.wgsl and norm_finalize.wgsl.
// Needs common.wgsl (flags, WG) and a prelude (LaneIds, reduceSubgroup, isSubgroupLeader).
//
// An accumulator stands for Σ (|x| · 2^-scaleExp)^p. A chunk is first summed unscaled
// (scaleExp 0), which is exact while the sum stays in a band where nothing overflows or flushes to
// zero; only a chunk whose sum leaves the band is read again, scaled by the power of two just above
// its largest |x| (the idea of BLAS nrm2, with exact power-of-two scales). For p = 1 and 2 the hot
// loop is one load and one fused add per vec4.
// NaN and ±Inf are found by bit pattern (WGSL may assume finite math) through `maxBits`: the
// largest |x| bits seen are above INF_BITS if any NaN was seen, equal to INF_BITS if an Inf was
// (a NaN or Inf spoils the unscaled sum, which sends the chunk to the second read that finds it).
//
// Specialised by `normKind` (NORM_KIND_MAX: ∞, _L1, _L2, _P: any other p > 0, read from params).

override normKind: u32 = NORM_KIND_L2;

const MIN_SCALE_EXP: i32 = -126;
const MAX_SCALE_EXP: i32 = 126;   // 2^-126 is the smallest normal inverse scale

struct Acc {
  sum: vec4<f32>,   // four independent partial sums: shorter sequential chains, less rounding
  scaleExp: i32,    // sum is relative to 2^scaleExp
  maxBits: u32,     // bit pattern of the largest |x| seen (the ∞-norm; > INF_BITS means NaN)
}

fn emptyAcc() -> Acc {
  return Acc(vec4<f32>(0.0), MIN_SCALE_EXP, 0u);
}

// s · (2^d)^p for d <= 0: moves a sum from scale 2^e to scale 2^(e - d).
fn rescaleSum(s: vec4<f32>, d: i32, p: f32) -> vec4<f32> {
  switch normKind {
    case NORM_KIND_L1: { return ldexp(s, vec4<i32>(d)); }
    case NORM_KIND_L2: { return ldexp(s, vec4<i32>(2 * d)); }
    default: { return s * exp2(p * f32(d)); }
  }
}

// Adds the p-th powers of `magnitude` (|x|, already scaled) to `sum`; `x` is the signed value.
fn addPowers(sum: vec4<f32>, x: vec4<f32>, magnitude: vec4<f32>, p: f32) -> vec4<f32> {
  switch normKind {
    case NORM_KIND_MAX: { return sum; }
    case NORM_KIND_L1: { return sum + magnitude; }
    case NORM_KIND_L2: { return fma(x, x, sum); }
    default: { return sum + select(pow(magnitude, vec4<f32>(p)), vec4<f32>(0.0), magnitude == vec4<f32>(0.0)); }
  }
}

fn magnitudeBits(x: vec4<f32>) -> vec4<u32> {
  return bitcast<vec4<u32>>(x) & vec4<u32>(ABS_MASK);
}

// Whether an unscaled sum can be kept: finite, at most 2^100, and for p = 2 not so small that
// flushed squares could matter (below 2^-80, zero included, the chunk is read again).
fn sumInBand(sum: vec4<f32>) -> bool {
  let top = largest(magnitudeBits(sum));
  if (top > 0x71800000u) { return false; }       // NaN, Inf or above 2^100
  return normKind != NORM_KIND_L2 || top >= 0x17800000u;   // 2^-80
}

fn largest(bits: vec4<u32>) -> u32 {
  let pair = max(bits.xy, bits.zw);
  return max(pair.x, pair.y);
}

// The exponent e with |x| < 2^e for the largest finite |x| (bits m), within the scale limits.
fn scaleExpFor(m: u32) -> i32 {
  return clamp(i32(m >> 23u) - 126, MIN_SCALE_EXP, MAX_SCALE_EXP);
}

// Whether an unscaled sum whose largest |x| has bits `m` may have overflowed or lost its terms
// (for p = 3 and others, whose first pass tracks the largest |x|).
fn needsScaling(m: u32, p: f32) -> bool {
  if (normKind == NORM_KIND_MAX || m >= INF_BITS || m == 0u) { return false; }
  var band = 100;
  if (normKind == NORM_KIND_L2) { band = 50; }
  if (normKind == NORM_KIND_P) { band = i32(clamp(100.0 / p, 1.0, 120.0)); }
  let e = i32(m >> 23u) - 127;
  return e >= band || e < -band;
}

// 2^-e for e in [-126, 126], a normal float.
fn inverseScale(e: i32) -> f32 {
  return bitcast<f32>(u32(127 - e) << 23u);
}

// Merges two accumulators (order-independent up to rounding). A merged sum that grows past
// 2^100 moves to a scale 2^32 higher, so sums of many large chunks cannot overflow either.
fn combine(a: Acc, b: Acc, p: f32) -> Acc {
  let maxBits = max(a.maxBits, b.maxBits);
  if (normKind == NORM_KIND_MAX) { return Acc(vec4<f32>(0.0), MIN_SCALE_EXP, maxBits); }
  var e = max(a.scaleExp, b.scaleExp);
  var sum = a.sum + b.sum;   // the common case: both unscaled (or on one scale already)
  if (a.scaleExp != b.scaleExp) {
    sum = rescaleSum(a.sum, a.scaleExp - e, p) + rescaleSum(b.sum, b.scaleExp - e, p);
  }
  let pair = max(sum.xy, sum.zw);
  if (max(pair.x, pair.y) > 0x1p100f) {
    sum = rescaleSum(sum, -32, p);
    e += 32;
  }
  return Acc(sum, e, maxBits);
}

// One vec4 (masked lanes zero) as an accumulator, scaled exactly.
fn accOfVec(x: vec4<f32>, p: f32) -> Acc {
  let bits = bitcast<vec4<u32>>(x) & vec4<u32>(ABS_MASK);
  let m = largest(bits);
  let e = scaleExpFor(min(m, INF_BITS - 1u));
  let magnitude = bitcast<vec4<f32>>(bits) * inverseScale(e);
  return Acc(addPowers(vec4<f32>(0.0), magnitude, magnitude, p), e, m);
}

var<workgroup> leaderAccs: array<Acc, WG>;
var<workgroup> leaderCount: atomic<u32>;

// Merges every lane's accumulator; the result is valid in local invocation 0 only.
// Must be called from uniform control flow.
fn combineWorkgroup(acc: Acc, ids: LaneIds, p: f32) -> Acc {
  let reduced = reduceSubgroup(acc, p);
  if (isSubgroupLeader(ids)) {
    leaderAccs[atomicAdd(&leaderCount, 1u)] = reduced;
  }
  workgroupBarrier();
  var merged = emptyAcc();
  if (ids.local == 0u) {
    let count = atomicLoad(&leaderCount);
    for (var i = 0u; i < count; i++) {
      merged = combine(merged, leaderAccs[i], p);
    }
  }
  return merged;
}

// FLAG_NAN and FLAG_INF of an accumulator.
fn flagsOf(a: Acc) -> u32 {
  if (a.maxBits > INF_BITS) { return FLAG_NAN; }
  if (a.maxBits == INF_BITS) { return FLAG_INF; }
  return 0u;
}

// 2^e as a product of two normal floats, for e in [-126, 254]; overflows to +Inf like IEEE.
fn powerOfTwo(e: i32) -> vec2<f32> {
  let h = e / 2;
  let l = e - h;
  return vec2<f32>(bitcast<f32>(u32(127 + h) << 23u), bitcast<f32>(u32(127 + l) << 23u));
}

// The p-norm an accumulator stands for: NaN if any NaN, +Inf if any ±Inf.
fn normOf(a: Acc, p: f32) -> f32 {
  if (a.maxBits > INF_BITS) { return floatFromBits(NAN_BITS); }
  if (a.maxBits == INF_BITS) { return floatFromBits(INF_BITS); }
  if (normKind == NORM_KIND_MAX) { return bitcast<f32>(a.maxBits); }
  let s = a.sum.x + a.sum.y + a.sum.z + a.sum.w;
  if (s == 0.0) { return 0.0; }
  var root: f32;
  switch normKind {
    case NORM_KIND_L1: { root = s; }
    case NORM_KIND_L2: { root = sqrt(s); }
    default: { root = exp2(log2(s) / p); }
  }
  let scale = powerOfTwo(a.scaleExp);
  return root * scale.x * scale.y;
}

// Per-binding reads of gradient windows for the norm kernels (norm_partials.wgsl,
// segment_norm.wgsl). WGSL cannot index bindings, so src/shaders.ts repeats a block for each slot:
// the vec4 block (array<vec4<T>>, offsets and counts in vec4s) for a dispatch group's first
// slots, the scalar block (array<T>, in elements) for the rest, which bind the last bytes of
// buffers whose size is not a whole vec4; generated `sweep` and `loadVec` switch on the slot
// once per chunk or piece, never per element. Each copy's element type T (f32 or f16) is filled in
// per slot: every load widens to f32 (a no-op for f32), so f16 gradients accumulate like f32 ones.
// The windows are read_write because the same bind group serves the in-place write kernels.
//
// A sweep covers elements first, first + stride, ... of [offset, offset + count): a workgroup
// shares a chunk with stride WG (coalesced), a lane owns a piece with stride 1.

@group(0) @binding(1) var<storage, read_write> grad_0: array<vec4<f32>>;

fn loadVec_0(index: u32) -> vec4<f32> {
  return vec4<f32>(grad_0[index]);
}

// Adds whole vec4s of [offset, offset + count) (this lane's share) to `acc`. The first pass sums
// unscaled, and for p = 1 and 2 touches nothing else: one load and one fused add per vec4. Only a
// chunk whose sum leaves the safe band (or is NaN/Inf) is read again, for its largest |x| and,
// where needed, a sum scaled by a power of two.
fn sweep_0(acc: Acc, offset: u32, count: u32, first: u32, stride: u32, p: f32) -> Acc {
  let tracksMax = normKind == NORM_KIND_MAX || normKind == NORM_KIND_P;
  var sum = vec4<f32>(0.0);
  var seen = vec4<u32>(0u);
  var i = first;
  // Four independent loads per turn (each coalesced across lanes) keep more memory in flight.
  for (; i + 3u * stride < count; i += 4u * stride) {
    let x0 = loadVec_0(offset + i);
    let x1 = loadVec_0(offset + i + stride);
    let x2 = loadVec_0(offset + i + 2u * stride);
    let x3 = loadVec_0(offset + i + 3u * stride);
    if (tracksMax) {
      seen = max(max(seen, max(magnitudeBits(x0), magnitudeBits(x1))), max(magnitudeBits(x2), magnitudeBits(x3)));
    }
    sum = addPowers(sum, x0, abs(x0), p);
    sum = addPowers(sum, x1, abs(x1), p);
    sum = addPowers(sum, x2, abs(x2), p);
    sum = addPowers(sum, x3, abs(x3), p);
  }
  for (; i < count; i += stride) {
    let x = loadVec_0(offset + i);
    if (tracksMax) { seen = max(seen, magnitudeBits(x)); }
    sum = addPowers(sum, x, abs(x), p);
  }
  if (!tracksMax) {
    if (sumInBand(sum)) { return combine(acc, Acc(sum, 0, 0u), p); }
    for (var j = first; j < count; j += stride) { seen = max(seen, magnitudeBits(loadVec_0(offset + j))); }
  }
  let m = largest(seen);
  // Nothing (or only zeros) in this lane's share: the smallest scale, so that it cannot pull a
  // tiny scaled sum of another lane up to its own scale and flush it. NaN/Inf: the scale no longer matters.
  if (m == 0u || m >= INF_BITS) { return combine(acc, Acc(vec4<f32>(0.0), MIN_SCALE_EXP, m), p); }
  if (!needsScaling(m, p) && sumInBand(sum)) { return combine(acc, Acc(sum, 0, m), p); }
  let e = scaleExpFor(m);
  let inverse = inverseScale(e);
  sum = vec4<f32>(0.0);
  for (var j = first; j < count; j += stride) {
    let magnitude = abs(loadVec_0(offset + j)) * inverse;
    sum = addPowers(sum, magnitude, magnitude, p);
  }
  return combine(acc, Acc(sum, e, m), p);
}

@group(0) @binding(2) var<storage, read_write> grad_1: array<vec4<f32>>;

fn loadVec_1(index: u32) -> vec4<f32> {
  return vec4<f32>(grad_1[index]);
}

// Adds whole vec4s of [offset, offset + count) (this lane's share) to `acc`. The first pass sums
// unscaled, and for p = 1 and 2 touches nothing else: one load and one fused add per vec4. Only a
// chunk whose sum leaves the safe band (or is NaN/Inf) is read again, for its largest |x| and,
// where needed, a sum scaled by a power of two.
fn sweep_1(acc: Acc, offset: u32, count: u32, first: u32, stride: u32, p: f32) -> Acc {
  let tracksMax = normKind == NORM_KIND_MAX || normKind == NORM_KIND_P;
  var sum = vec4<f32>(0.0);
  var seen = vec4<u32>(0u);
  var i = first;
  // Four independent loads per turn (each coalesced across lanes) keep more memory in flight.
  for (; i + 3u * stride < count; i += 4u * stride) {
    let x0 = loadVec_1(offset + i);
    let x1 = loadVec_1(offset + i + stride);
    let x2 = loadVec_1(offset + i + 2u * stride);
    let x3 = loadVec_1(offset + i + 3u * stride);
    if (tracksMax) {
      seen = max(max(seen, max(magnitudeBits(x0), magnitudeBits(x1))), max(magnitudeBits(x2), magnitudeBits(x3)));
    }
    sum = addPowers(sum, x0, abs(x0), p);
    sum = addPowers(sum, x1, abs(x1), p);
    sum = addPowers(sum, x2, abs(x2), p);
    sum = addPowers(sum, x3, abs(x3), p);
  }
  for (; i < count; i += stride) {
    let x = loadVec_1(offset + i);
    if (tracksMax) { seen = max(seen, magnitudeBits(x)); }
    sum = addPowers(sum, x, abs(x), p);
  }
  if (!tracksMax) {
    if (sumInBand(sum)) { return combine(acc, Acc(sum, 0, 0u), p); }
    for (var j = first; j < count; j += stride) { seen = max(seen, magnitudeBits(loadVec_1(offset + j))); }
  }
  let m = largest(seen);
  // Nothing (or only zeros) in this lane's share: the smallest scale, so that it cannot pull a
  // tiny scaled sum of another lane up to its own scale and flush it. NaN/Inf: the scale no longer matters.
  if (m == 0u || m >= INF_BITS) { return combine(acc, Acc(vec4<f32>(0.0), MIN_SCALE_EXP, m), p); }
  if (!needsScaling(m, p) && sumInBand(sum)) { return combine(acc, Acc(sum, 0, m), p); }
  let e = scaleExpFor(m);
  let inverse = inverseScale(e);
  sum = vec4<f32>(0.0);
  for (var j = first; j < count; j += stride) {
    let magnitude = abs(loadVec_1(offset + j)) * inverse;
    sum = addPowers(sum, magnitude, magnitude, p);
  }
  return combine(acc, Acc(sum, e, m), p);
}

@group(0) @binding(3) var<storage, read_write> grad_2: array<vec4<f32>>;

fn loadVec_2(index: u32) -> vec4<f32> {
  return vec4<f32>(grad_2[index]);
}

// Adds whole vec4s of [offset, offset + count) (this lane's share) to `acc`. The first pass sums
// unscaled, and for p = 1 and 2 touches nothing else: one load and one fused add per vec4. Only a
// chunk whose sum leaves the safe band (or is NaN/Inf) is read again, for its largest |x| and,
// where needed, a sum scaled by a power of two.
fn sweep_2(acc: Acc, offset: u32, count: u32, first: u32, stride: u32, p: f32) -> Acc {
  let tracksMax = normKind == NORM_KIND_MAX || normKind == NORM_KIND_P;
  var sum = vec4<f32>(0.0);
  var seen = vec4<u32>(0u);
  var i = first;
  // Four independent loads per turn (each coalesced across lanes) keep more memory in flight.
  for (; i + 3u * stride < count; i += 4u * stride) {
    let x0 = loadVec_2(offset + i);
    let x1 = loadVec_2(offset + i + stride);
    let x2 = loadVec_2(offset + i + 2u * stride);
    let x3 = loadVec_2(offset + i + 3u * stride);
    if (tracksMax) {
      seen = max(max(seen, max(magnitudeBits(x0), magnitudeBits(x1))), max(magnitudeBits(x2), magnitudeBits(x3)));
    }
    sum = addPowers(sum, x0, abs(x0), p);
    sum = addPowers(sum, x1, abs(x1), p);
    sum = addPowers(sum, x2, abs(x2), p);
    sum = addPowers(sum, x3, abs(x3), p);
  }
  for (; i < count; i += stride) {
    let x = loadVec_2(offset + i);
    if (tracksMax) { seen = max(seen, magnitudeBits(x)); }
    sum = addPowers(sum, x, abs(x), p);
  }
  if (!tracksMax) {
    if (sumInBand(sum)) { return combine(acc, Acc(sum, 0, 0u), p); }
    for (var j = first; j < count; j += stride) { seen = max(seen, magnitudeBits(loadVec_2(offset + j))); }
  }
  let m = largest(seen);
  // Nothing (or only zeros) in this lane's share: the smallest scale, so that it cannot pull a
  // tiny scaled sum of another lane up to its own scale and flush it. NaN/Inf: the scale no longer matters.
  if (m == 0u || m >= INF_BITS) { return combine(acc, Acc(vec4<f32>(0.0), MIN_SCALE_EXP, m), p); }
  if (!needsScaling(m, p) && sumInBand(sum)) { return combine(acc, Acc(sum, 0, m), p); }
  let e = scaleExpFor(m);
  let inverse = inverseScale(e);
  sum = vec4<f32>(0.0);
  for (var j = first; j < count; j += stride) {
    let magnitude = abs(loadVec_2(offset + j)) * inverse;
    sum = addPowers(sum, magnitude, magnitude, p);
  }
  return combine(acc, Acc(sum, e, m), p);
}

@group(0) @binding(4) var<storage, read_write> grad_3: array<vec4<f32>>;

fn loadVec_3(index: u32) -> vec4<f32> {
  return vec4<f32>(grad_3[index]);
}

// Adds whole vec4s of [offset, offset + count) (this lane's share) to `acc`. The first pass sums
// unscaled, and for p = 1 and 2 touches nothing else: one load and one fused add per vec4. Only a
// chunk whose sum leaves the safe band (or is NaN/Inf) is read again, for its largest |x| and,
// where needed, a sum scaled by a power of two.
fn sweep_3(acc: Acc, offset: u32, count: u32, first: u32, stride: u32, p: f32) -> Acc {
  let tracksMax = normKind == NORM_KIND_MAX || normKind == NORM_KIND_P;
  var sum = vec4<f32>(0.0);
  var seen = vec4<u32>(0u);
  var i = first;
  // Four independent loads per turn (each coalesced across lanes) keep more memory in flight.
  for (; i + 3u * stride < count; i += 4u * stride) {
    let x0 = loadVec_3(offset + i);
    let x1 = loadVec_3(offset + i + stride);
    let x2 = loadVec_3(offset + i + 2u * stride);
    let x3 = loadVec_3(offset + i + 3u * stride);
    if (tracksMax) {
      seen = max(max(seen, max(magnitudeBits(x0), magnitudeBits(x1))), max(magnitudeBits(x2), magnitudeBits(x3)));
    }
    sum = addPowers(sum, x0, abs(x0), p);
    sum = addPowers(sum, x1, abs(x1), p);
    sum = addPowers(sum, x2, abs(x2), p);
    sum = addPowers(sum, x3, abs(x3), p);
  }
  for (; i < count; i += stride) {
    let x = loadVec_3(offset + i);
    if (tracksMax) { seen = max(seen, magnitudeBits(x)); }
    sum = addPowers(sum, x, abs(x), p);
  }
  if (!tracksMax) {
    if (sumInBand(sum)) { return combine(acc, Acc(sum, 0, 0u), p); }
    for (var j = first; j < count; j += stride) { seen = max(seen, magnitudeBits(loadVec_3(offset + j))); }
  }
  let m = largest(seen);
  // Nothing (or only zeros) in this lane's share: the smallest scale, so that it cannot pull a
  // tiny scaled sum of another lane up to its own scale and flush it. NaN/Inf: the scale no longer matters.
  if (m == 0u || m >= INF_BITS) { return combine(acc, Acc(vec4<f32>(0.0), MIN_SCALE_EXP, m), p); }
  if (!needsScaling(m, p) && sumInBand(sum)) { return combine(acc, Acc(sum, 0, m), p); }
  let e = scaleExpFor(m);
  let inverse = inverseScale(e);
  sum = vec4<f32>(0.0);
  for (var j = first; j < count; j += stride) {
    let magnitude = abs(loadVec_3(offset + j)) * inverse;
    sum = addPowers(sum, magnitude, magnitude, p);
  }
  return combine(acc, Acc(sum, e, m), p);
}

@group(0) @binding(5) var<storage, read_write> grad_4: array<vec4<f32>>;

fn loadVec_4(index: u32) -> vec4<f32> {
  return vec4<f32>(grad_4[index]);
}

// Adds whole vec4s of [offset, offset + count) (this lane's share) to `acc`. The first pass sums
// unscaled, and for p = 1 and 2 touches nothing else: one load and one fused add per vec4. Only a
// chunk whose sum leaves the safe band (or is NaN/Inf) is read again, for its largest |x| and,
// where needed, a sum scaled by a power of two.
fn sweep_4(acc: Acc, offset: u32, count: u32, first: u32, stride: u32, p: f32) -> Acc {
  let tracksMax = normKind == NORM_KIND_MAX || normKind == NORM_KIND_P;
  var sum = vec4<f32>(0.0);
  var seen = vec4<u32>(0u);
  var i = first;
  // Four independent loads per turn (each coalesced across lanes) keep more memory in flight.
  for (; i + 3u * stride < count; i += 4u * stride) {
    let x0 = loadVec_4(offset + i);
    let x1 = loadVec_4(offset + i + stride);
    let x2 = loadVec_4(offset + i + 2u * stride);
    let x3 = loadVec_4(offset + i + 3u * stride);
    if (tracksMax) {
      seen = max(max(seen, max(magnitudeBits(x0), magnitudeBits(x1))), max(magnitudeBits(x2), magnitudeBits(x3)));
    }
    sum = addPowers(sum, x0, abs(x0), p);
    sum = addPowers(sum, x1, abs(x1), p);
    sum = addPowers(sum, x2, abs(x2), p);
    sum = addPowers(sum, x3, abs(x3), p);
  }
  for (; i < count; i += stride) {
    let x = loadVec_4(offset + i);
    if (tracksMax) { seen = max(seen, magnitudeBits(x)); }
    sum = addPowers(sum, x, abs(x), p);
  }
  if (!tracksMax) {
    if (sumInBand(sum)) { return combine(acc, Acc(sum, 0, 0u), p); }
    for (var j = first; j < count; j += stride) { seen = max(seen, magnitudeBits(loadVec_4(offset + j))); }
  }
  let m = largest(seen);
  // Nothing (or only zeros) in this lane's share: the smallest scale, so that it cannot pull a
  // tiny scaled sum of another lane up to its own scale and flush it. NaN/Inf: the scale no longer matters.
  if (m == 0u || m >= INF_BITS) { return combine(acc, Acc(vec4<f32>(0.0), MIN_SCALE_EXP, m), p); }
  if (!needsScaling(m, p) && sumInBand(sum)) { return combine(acc, Acc(sum, 0, m), p); }
  let e = scaleExpFor(m);
  let inverse = inverseScale(e);
  sum = vec4<f32>(0.0);
  for (var j = first; j < count; j += stride) {
    let magnitude = abs(loadVec_4(offset + j)) * inverse;
    sum = addPowers(sum, magnitude, magnitude, p);
  }
  return combine(acc, Acc(sum, e, m), p);
}

@group(0) @binding(6) var<storage, read_write> grad_5: array<vec4<f32>>;

fn loadVec_5(index: u32) -> vec4<f32> {
  return vec4<f32>(grad_5[index]);
}

// Adds whole vec4s of [offset, offset + count) (this lane's share) to `acc`. The first pass sums
// unscaled, and for p = 1 and 2 touches nothing else: one load and one fused add per vec4. Only a
// chunk whose sum leaves the safe band (or is NaN/Inf) is read again, for its largest |x| and,
// where needed, a sum scaled by a power of two.
fn sweep_5(acc: Acc, offset: u32, count: u32, first: u32, stride: u32, p: f32) -> Acc {
  let tracksMax = normKind == NORM_KIND_MAX || normKind == NORM_KIND_P;
  var sum = vec4<f32>(0.0);
  var seen = vec4<u32>(0u);
  var i = first;
  // Four independent loads per turn (each coalesced across lanes) keep more memory in flight.
  for (; i + 3u * stride < count; i += 4u * stride) {
    let x0 = loadVec_5(offset + i);
    let x1 = loadVec_5(offset + i + stride);
    let x2 = loadVec_5(offset + i + 2u * stride);
    let x3 = loadVec_5(offset + i + 3u * stride);
    if (tracksMax) {
      seen = max(max(seen, max(magnitudeBits(x0), magnitudeBits(x1))), max(magnitudeBits(x2), magnitudeBits(x3)));
    }
    sum = addPowers(sum, x0, abs(x0), p);
    sum = addPowers(sum, x1, abs(x1), p);
    sum = addPowers(sum, x2, abs(x2), p);
    sum = addPowers(sum, x3, abs(x3), p);
  }
  for (; i < count; i += stride) {
    let x = loadVec_5(offset + i);
    if (tracksMax) { seen = max(seen, magnitudeBits(x)); }
    sum = addPowers(sum, x, abs(x), p);
  }
  if (!tracksMax) {
    if (sumInBand(sum)) { return combine(acc, Acc(sum, 0, 0u), p); }
    for (var j = first; j < count; j += stride) { seen = max(seen, magnitudeBits(loadVec_5(offset + j))); }
  }
  let m = largest(seen);
  // Nothing (or only zeros) in this lane's share: the smallest scale, so that it cannot pull a
  // tiny scaled sum of another lane up to its own scale and flush it. NaN/Inf: the scale no longer matters.
  if (m == 0u || m >= INF_BITS) { return combine(acc, Acc(vec4<f32>(0.0), MIN_SCALE_EXP, m), p); }
  if (!needsScaling(m, p) && sumInBand(sum)) { return combine(acc, Acc(sum, 0, m), p); }
  let e = scaleExpFor(m);
  let inverse = inverseScale(e);
  sum = vec4<f32>(0.0);
  for (var j = first; j < count; j += stride) {
    let magnitude = abs(loadVec_5(offset + j)) * inverse;
    sum = addPowers(sum, magnitude, magnitude, p);
  }
  return combine(acc, Acc(sum, e, m), p);
}

@group(0) @binding(7) var<storage, read_write> grad_6: array<vec4<f32>>;

fn loadVec_6(index: u32) -> vec4<f32> {
  return vec4<f32>(grad_6[index]);
}

// Adds whole vec4s of [offset, offset + count) (this lane's share) to `acc`. The first pass sums
// unscaled, and for p = 1 and 2 touches nothing else: one load and one fused add per vec4. Only a
// chunk whose sum leaves the safe band (or is NaN/Inf) is read again, for its largest |x| and,
// where needed, a sum scaled by a power of two.
fn sweep_6(acc: Acc, offset: u32, count: u32, first: u32, stride: u32, p: f32) -> Acc {
  let tracksMax = normKind == NORM_KIND_MAX || normKind == NORM_KIND_P;
  var sum = vec4<f32>(0.0);
  var seen = vec4<u32>(0u);
  var i = first;
  // Four independent loads per turn (each coalesced across lanes) keep more memory in flight.
  for (; i + 3u * stride < count; i += 4u * stride) {
    let x0 = loadVec_6(offset + i);
    let x1 = loadVec_6(offset + i + stride);
    let x2 = loadVec_6(offset + i + 2u * stride);
    let x3 = loadVec_6(offset + i + 3u * stride);
    if (tracksMax) {
      seen = max(max(seen, max(magnitudeBits(x0), magnitudeBits(x1))), max(magnitudeBits(x2), magnitudeBits(x3)));
    }
    sum = addPowers(sum, x0, abs(x0), p);
    sum = addPowers(sum, x1, abs(x1), p);
    sum = addPowers(sum, x2, abs(x2), p);
    sum = addPowers(sum, x3, abs(x3), p);
  }
  for (; i < count; i += stride) {
    let x = loadVec_6(offset + i);
    if (tracksMax) { seen = max(seen, magnitudeBits(x)); }
    sum = addPowers(sum, x, abs(x), p);
  }
  if (!tracksMax) {
    if (sumInBand(sum)) { return combine(acc, Acc(sum, 0, 0u), p); }
    for (var j = first; j < count; j += stride) { seen = max(seen, magnitudeBits(loadVec_6(offset + j))); }
  }
  let m = largest(seen);
  // Nothing (or only zeros) in this lane's share: the smallest scale, so that it cannot pull a
  // tiny scaled sum of another lane up to its own scale and flush it. NaN/Inf: the scale no longer matters.
  if (m == 0u || m >= INF_BITS) { return combine(acc, Acc(vec4<f32>(0.0), MIN_SCALE_EXP, m), p); }
  if (!needsScaling(m, p) && sumInBand(sum)) { return combine(acc, Acc(sum, 0, m), p); }
  let e = scaleExpFor(m);
  let inverse = inverseScale(e);
  sum = vec4<f32>(0.0);
  for (var j = first; j < count; j += stride) {
    let magnitude = abs(loadVec_6(offset + j)) * inverse;
    sum = addPowers(sum, magnitude, magnitude, p);
  }
  return combine(acc, Acc(sum, e, m), p);
}

@group(0) @binding(8) var<storage, read_write> grad_7: array<vec4<f32>>;

fn loadVec_7(index: u32) -> vec4<f32> {
  return vec4<f32>(grad_7[index]);
}

// Adds whole vec4s of [offset, offset + count) (this lane's share) to `acc`. The first pass sums
// unscaled, and for p = 1 and 2 touches nothing else: one load and one fused add per vec4. Only a
// chunk whose sum leaves the safe band (or is NaN/Inf) is read again, for its largest |x| and,
// where needed, a sum scaled by a power of two.
fn sweep_7(acc: Acc, offset: u32, count: u32, first: u32, stride: u32, p: f32) -> Acc {
  let tracksMax = normKind == NORM_KIND_MAX || normKind == NORM_KIND_P;
  var sum = vec4<f32>(0.0);
  var seen = vec4<u32>(0u);
  var i = first;
  // Four independent loads per turn (each coalesced across lanes) keep more memory in flight.
  for (; i + 3u * stride < count; i += 4u * stride) {
    let x0 = loadVec_7(offset + i);
    let x1 = loadVec_7(offset + i + stride);
    let x2 = loadVec_7(offset + i + 2u * stride);
    let x3 = loadVec_7(offset + i + 3u * stride);
    if (tracksMax) {
      seen = max(max(seen, max(magnitudeBits(x0), magnitudeBits(x1))), max(magnitudeBits(x2), magnitudeBits(x3)));
    }
    sum = addPowers(sum, x0, abs(x0), p);
    sum = addPowers(sum, x1, abs(x1), p);
    sum = addPowers(sum, x2, abs(x2), p);
    sum = addPowers(sum, x3, abs(x3), p);
  }
  for (; i < count; i += stride) {
    let x = loadVec_7(offset + i);
    if (tracksMax) { seen = max(seen, magnitudeBits(x)); }
    sum = addPowers(sum, x, abs(x), p);
  }
  if (!tracksMax) {
    if (sumInBand(sum)) { return combine(acc, Acc(sum, 0, 0u), p); }
    for (var j = first; j < count; j += stride) { seen = max(seen, magnitudeBits(loadVec_7(offset + j))); }
  }
  let m = largest(seen);
  // Nothing (or only zeros) in this lane's share: the smallest scale, so that it cannot pull a
  // tiny scaled sum of another lane up to its own scale and flush it. NaN/Inf: the scale no longer matters.
  if (m == 0u || m >= INF_BITS) { return combine(acc, Acc(vec4<f32>(0.0), MIN_SCALE_EXP, m), p); }
  if (!needsScaling(m, p) && sumInBand(sum)) { return combine(acc, Acc(sum, 0, m), p); }
  let e = scaleExpFor(m);
  let inverse = inverseScale(e);
  sum = vec4<f32>(0.0);
  for (var j = first; j < count; j += stride) {
    let magnitude = abs(loadVec_7(offset + j)) * inverse;
    sum = addPowers(sum, magnitude, magnitude, p);
  }
  return combine(acc, Acc(sum, e, m), p);
}

fn sweep(slot: u32, acc: Acc, offset: u32, count: u32, first: u32, stride: u32, p: f32) -> Acc {
  switch slot {
    case 0u: { return sweep_0(acc, offset, count, first, stride, p); }
    case 1u: { return sweep_1(acc, offset, count, first, stride, p); }
    case 2u: { return sweep_2(acc, offset, count, first, stride, p); }
    case 3u: { return sweep_3(acc, offset, count, first, stride, p); }
    case 4u: { return sweep_4(acc, offset, count, first, stride, p); }
    case 5u: { return sweep_5(acc, offset, count, first, stride, p); }
    case 6u: { return sweep_6(acc, offset, count, first, stride, p); }
    case 7u: { return sweep_7(acc, offset, count, first, stride, p); }
    default: { return acc; }
  }
}

fn loadVec(slot: u32, index: u32) -> vec4<f32> {
  switch slot {
    case 0u: { return loadVec_0(index); }
    case 1u: { return loadVec_1(index); }
    case 2u: { return loadVec_2(index); }
    case 3u: { return loadVec_3(index); }
    case 4u: { return loadVec_4(index); }
    case 5u: { return loadVec_5(index); }
    case 6u: { return loadVec_6(index); }
    case 7u: { return loadVec_7(index); }
    default: { return vec4<f32>(0.0); }
  }
}


// Multi-tensor norm, pass 1: each workgroup reduces its chunks (and its share of the boundary
// vec4s) to one partial accumulator.
//
// Bindings: group(0) = plan (read-only storage) + grad_0 .. grad_{K-1} (the dispatch group's
// buffer windows, declared by grad_read.wgsl), shared with elementwise.wgsl; group(1) = params
// (uniform, dynamic offset) + partials (array<Acc>, one per workgroup of every dispatch group).

@group(0) @binding(0) var<storage, read> plan: Plan;
@group(1) @binding(0) var<uniform> params: Params;
@group(1) @binding(1) var<storage, read_write> partials: array<Acc>;

@compute @workgroup_size(WG)
fn main(ids: LaneIds) {
  let p = params.p;
  var acc = emptyAcc();
  let group = ids.group.x;
  let range = plan.entries[group];
  for (var c = range.x; c < range.y; c++) {
    let chunk = plan.entries[plan.chunkBase + c];
    acc = sweep(chunk.x, acc, chunk.y, chunk.z, ids.local, WG, p);
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
