// Overflow-safe p-norm accumulator, shared by norm_partials.wgsl and norm_finalize.wgsl.
// Needs common.wgsl (flags, WG) and a prelude (LaneIds, reduceSubgroup, isSubgroupLeader).
//
// An accumulator stands for Σ (|x| · 2^-scaleExp)^p. A chunk is first summed unscaled
// (scaleExp 0), which is exact while the sum stays in a band where nothing overflows or flushes to
// zero; only a chunk whose sum leaves the band is read again, scaled by the power of two just above
// its largest |x| (the idea of BLAS nrm2, with exact power-of-two scales). For p = 1 and 2 the hot
// loop is one load and one fused add per vec4 (p = 2 also ORs the bits, so all-zero chunks, common
// in real gradients, are not read again).
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
// flushed squares could matter (below 2^-80, zero included, the chunk is read again unless the
// sweep saw only zeros).
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

// Workgroup memory holds an accumulator as three words, its four sums added (`packedSum`), not
// eight: every word of it is zeroed at each dispatch, and some compilers unroll that (SwiftShader:
// ~0.4 ms of pipeline compile per word, once most of a norm kernel's compile time).
fn packedSum(a: Acc) -> f32 {
  return a.sum.x + a.sum.y + a.sum.z + a.sum.w;
}

fn unpackedAcc(sum: f32, scaleExp: i32, maxBits: u32) -> Acc {
  return Acc(vec4<f32>(sum, 0.0, 0.0, 0.0), scaleExp, maxBits);
}

// One entry per subgroup leader.
override LEADERS: u32 = WG / LANES_PER_LEADER;
var<workgroup> leaderSums: array<f32, LEADERS>;
var<workgroup> leaderExps: array<i32, LEADERS>;
var<workgroup> leaderBits: array<u32, LEADERS>;
var<workgroup> leaderCount: atomic<u32>;

// Merges every lane's accumulator; the result is valid in local invocation 0 only.
// Must be called from uniform control flow.
fn combineWorkgroup(acc: Acc, ids: LaneIds, p: f32) -> Acc {
  let reduced = reduceSubgroup(acc, p);
  if (isSubgroupLeader(ids)) {
    let slot = atomicAdd(&leaderCount, 1u);
    leaderSums[slot] = packedSum(reduced);
    leaderExps[slot] = reduced.scaleExp;
    leaderBits[slot] = reduced.maxBits;
  }
  workgroupBarrier();
  var merged = emptyAcc();
  if (ids.local == 0u) {
    let count = atomicLoad(&leaderCount);
    for (var i = 0u; i < count; i++) {
      merged = combine(merged, unpackedAcc(leaderSums[i], leaderExps[i], leaderBits[i]), p);
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
  return normTimes(a, p, 1.0);
}

// The p-norm times `factor` (> 0; a GradScaler's unscale factor), the factor applied before the
// accumulator's power of two, so that a norm of scaled gradients past f32's range unscales to its value.
fn normTimes(a: Acc, p: f32, factor: f32) -> f32 {
  if (a.maxBits > INF_BITS) { return floatFromBits(NAN_BITS); }
  if (a.maxBits == INF_BITS) { return floatFromBits(INF_BITS); }
  if (normKind == NORM_KIND_MAX) { return bitcast<f32>(a.maxBits) * factor; }
  let s = a.sum.x + a.sum.y + a.sum.z + a.sum.w;
  if (s == 0.0) { return 0.0; }
  var root: f32;
  switch normKind {
    case NORM_KIND_L1: { root = s; }
    case NORM_KIND_L2: { root = sqrt(s); }
    default: { root = exp2(log2(s) / p); }
  }
  let scale = powerOfTwo(a.scaleExp);
  return root * factor * scale.x * scale.y;
}
