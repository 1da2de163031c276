// Overflow-safe p-norm accumulator, shared by norm_partials.wgsl and norm_finalize.wgsl.
//
// A running sum is kept relative to a power-of-two scale 2^scaleExp that bounds every finite |x|
// seen so far: sum = Σ (|x| / 2^scaleExp)^p. Each term is < 1, so the sum cannot overflow, and
// tiny gradients are lifted instead of flushed (the idea of BLAS nrm2, with exact power-of-two
// scales). NaN and ±Inf never enter the sum; they are recorded in `flags` by bit pattern because
// WGSL implementations may assume finite math.
//
// Specialised by `normKind` (0: ∞, 1: p = 1, 2: p = 2, 3: any other p > 0, read from params).
// Needs common.wgsl (flags, WG) and a prelude (LaneIds, reduceSubgroup, isSubgroupLeader).

override normKind: u32 = 2u;


struct Acc {
  sum: vec4<f32>,   // four independent partial sums: shorter sequential chains, less rounding
  scaleExp: i32,    // every finite |x| seen is < 2^scaleExp
  maxBits: u32,     // bit pattern of the largest finite |x| seen (the ∞-norm)
  flags: u32,       // FLAG_NAN | FLAG_INF
}

fn emptyAcc() -> Acc {
  return Acc(vec4<f32>(0.0), -126, 0u, 0u);
}

// s · (2^d)^p for d <= 0: moves a sum from scale 2^e to scale 2^(e - d).
fn rescaleSum(s: vec4<f32>, d: i32, p: f32) -> vec4<f32> {
  switch normKind {
    case 1u: { return ldexp(s, vec4<i32>(d)); }
    case 2u: { return ldexp(s, vec4<i32>(2 * d)); }
    default: { return s * exp2(p * f32(d)); }
  }
}

// 2^-e as two normal factors, so that no factor is subnormal for e in [-126, 128].
fn inverseScale(e: i32) -> vec2<f32> {
  let h = e / 2;
  let l = e - h;
  return vec2<f32>(bitcast<f32>(u32(127 - h) << 23u), bitcast<f32>(u32(127 - l) << 23u));
}

// Adds four values (already masked to zero where out of range) to the accumulator.
fn accumulate(acc: Acc, x: vec4<f32>, p: f32) -> Acc {
  var a = acc;
  let absBits = bitcast<vec4<u32>>(x) & vec4<u32>(ABS_MASK);
  let nonfinite = absBits >= vec4<u32>(INF_BITS);
  if (any(nonfinite)) {
    if (any(absBits > vec4<u32>(INF_BITS))) { a.flags |= FLAG_NAN; }
    if (any(absBits == vec4<u32>(INF_BITS))) { a.flags |= FLAG_INF; }
  }
  let finiteBits = select(absBits, vec4<u32>(0u), nonfinite);
  let m = max(max(finiteBits.x, finiteBits.y), max(finiteBits.z, finiteBits.w));
  a.maxBits = max(a.maxBits, m);
  if (normKind == 0u) { return a; }

  // Smallest power of two strictly above m (subnormals count as exponent -126).
  let needExp = i32(m >> 23u) - 126;
  if (needExp > a.scaleExp) {
    a.sum = rescaleSum(a.sum, a.scaleExp - needExp, p);
    a.scaleExp = needExp;
  }
  let inv = inverseScale(a.scaleExp);
  let r = bitcast<vec4<f32>>(finiteBits) * inv.x * inv.y;   // each in [0, 1)
  switch normKind {
    case 1u: { a.sum += r; }
    case 2u: { a.sum += r * r; }
    default: { a.sum += select(pow(r, vec4<f32>(p)), vec4<f32>(0.0), r == vec4<f32>(0.0)); }
  }
  return a;
}

// Merges two accumulators (order-independent up to rounding).
fn combine(a: Acc, b: Acc, p: f32) -> Acc {
  var c: Acc;
  c.flags = a.flags | b.flags;
  c.maxBits = max(a.maxBits, b.maxBits);
  c.scaleExp = max(a.scaleExp, b.scaleExp);
  if (normKind == 0u) {
    c.sum = vec4<f32>(0.0);
  } else {
    c.sum = rescaleSum(a.sum, a.scaleExp - c.scaleExp, p) + rescaleSum(b.sum, b.scaleExp - c.scaleExp, p);
  }
  return c;
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

// 2^e as a product of two normal floats, for e in [-126, 254]; overflows to +Inf like IEEE.
fn powerOfTwo(e: i32) -> vec2<f32> {
  let h = e / 2;
  let l = e - h;
  return vec2<f32>(bitcast<f32>(u32(127 + h) << 23u), bitcast<f32>(u32(127 + l) << 23u));
}

// The p-norm an accumulator stands for: NaN if any NaN, +Inf if any ±Inf.
fn normOf(a: Acc, p: f32) -> f32 {
  if ((a.flags & FLAG_NAN) != 0u) { return floatFromBits(NAN_BITS); }
  if ((a.flags & FLAG_INF) != 0u) { return floatFromBits(INF_BITS); }
  if (normKind == 0u) { return bitcast<f32>(a.maxBits); }
  let s = a.sum.x + a.sum.y + a.sum.z + a.sum.w;
  if (s == 0.0) { return 0.0; }
  var root: f32;
  switch normKind {
    case 1u: { root = s; }
    case 2u: { root = sqrt(s); }
    default: { root = exp2(log2(s) / p); }
  }
  let scale = powerOfTwo(a.scaleExp);
  return root * scale.x * scale.y;
}
