// The loss scaler's GPU state (GradScaler), shared by every kernel that reads or writes it
// (norm_finalize.wgsl and optimizer_prepare.wgsl with a scaler, unscale.wgsl, scaler_update.wgsl),
// and the exact arithmetic PyTorch's update and unscale need: scale · factor rounded as C++ rounds
// float · double → double → float, and the correctly rounded f32 of 1 / scale (what
// `scale.double().reciprocal().float()` gives for every f32 scale), in integer arithmetic so that no
// WGSL float accuracy rule is leaned on.
//
// Bindings: the kernel declares `scaler: ScalerState` (the scaler's bind group, read-write).

struct ScalerState {
  scale: f32,              // the loss scale
  inverse: f32,            // f32(1 / scale), correctly rounded: the unscale factor
  growthTracker: u32,      // consecutive steps without NaN/Inf since the last growth or backoff
  foundInf: atomic<u32>,   // 1 once any check since the last update() saw a NaN or ±Inf
  growthInterval: u32,
  growthExp: i32,          // growthFactor = (growthHi · 2^32 + growthLo) · 2^growthExp, its float64 significand
  growthHi: u32,
  growthLo: u32,
  backoffExp: i32,         // backoffFactor, likewise
  backoffHi: u32,
  backoffLo: u32,
  _pad: u32,
}

// f32(1 / s) correctly rounded, for a finite s > 0: 1 / s = 2^47 / m · 2^(103 - e) for s's 24-bit
// significand m and biased exponent e, the quotient found by long division and rounded to nearest
// even. A result below f32's normal range is flushed to 0; 1 / 0 is +Inf.
fn reciprocalRounded(s: f32) -> f32 {
  let bits = bitcast<u32>(s);
  let e = (bits >> 23u) & 0xffu;
  if (e == 0u) { return floatFromBits(INF_BITS); }
  if (e == 255u) { return select(0.0, s, (bits & 0x7fffffu) != 0u); }
  let m = (bits & 0x7fffffu) | 0x800000u;
  var rem = 1u;
  var q = 0u;
  for (var i = 0u; i < 47u; i++) {
    rem = rem << 1u;
    q = q << 1u;
    if (rem >= m) {
      rem -= m;
      q |= 1u;
    }
  }
  if (2u * rem > m || (2u * rem == m && (q & 1u) == 1u)) { q += 1u; }
  var field = 253 - i32(e);
  if (q == 0x1000000u) {
    q = 0x800000u;
    field += 1;
  }
  if (field <= 0) { return 0.0; }
  return bitcast<f32>((u32(field) << 23u) | (q & 0x7fffffu));
}

// A 96-bit unsigned integer as six 16-bit limbs, least significant first.
alias Limbs = array<u32, 6>;

fn bitLength(value: Limbs) -> i32 {
  var p = value;
  for (var k = 5; k >= 0; k--) {
    if (p[k] != 0u) { return 16 * k + i32(firstLeadingBit(p[k])) + 1; }
  }
  return 0;
}

// p >> d (0 < d < 96), rounded to nearest even.
fn roundDrop(value: Limbs, d: i32) -> Limbs {
  var p = value;
  if (d <= 0) { return p; }
  let g = d - 1;
  let guard = (p[g / 16] >> u32(g % 16)) & 1u;
  var sticky = (p[g / 16] & ((1u << u32(g % 16)) - 1u)) != 0u;
  for (var k = 0; k < g / 16; k++) { sticky = sticky || p[k] != 0u; }
  var kept: Limbs;
  let w = d / 16;
  let s = u32(d % 16);
  for (var k = 0; k < 6; k++) {
    var lo = 0u;
    var hi = 0u;
    if (k + w < 6) { lo = p[k + w]; }
    if (k + w + 1 < 6) { hi = p[k + w + 1]; }
    kept[k] = select(lo, ((lo >> s) | (hi << (16u - s))) & 0xffffu, s != 0u);
  }
  if (guard == 1u && (sticky || (kept[0] & 1u) == 1u)) {
    for (var k = 0; k < 6; k++) {
      kept[k] += 1u;
      if (kept[k] < 0x10000u) { break; }
      kept[k] = 0u;
    }
  }
  return kept;
}

// f32(f64(s) · g) for a finite s >= 0 and g = (hi · 2^32 + lo) · 2^exponent (a float64's 53-bit
// significand): the exact product rounded to 53 bits, then to 24, as C++ rounds float · double
// stored to a float. Past f32's range: +Inf; below its normal range: 0.
fn mulRounded(s: f32, hi: u32, lo: u32, exponent: i32) -> f32 {
  let bits = bitcast<u32>(s);
  let e = (bits >> 23u) & 0xffu;
  if (e == 0u) { return 0.0; }
  if (e == 255u) { return s; }
  let significand = (bits & 0x7fffffu) | 0x800000u;
  var a = array<u32, 2>(significand & 0xffffu, significand >> 16u);
  var b = array<u32, 4>(lo & 0xffffu, lo >> 16u, hi & 0xffffu, hi >> 16u);
  var product: Limbs;
  for (var i = 0; i < 2; i++) {
    for (var j = 0; j < 4; j++) {
      let term = a[i] * b[j];
      product[i + j] += term & 0xffffu;
      product[i + j + 1] += term >> 16u;
    }
  }
  for (var k = 0; k < 5; k++) {
    product[k + 1] += product[k] >> 16u;
    product[k] &= 0xffffu;
  }
  let drop53 = bitLength(product) - 53;
  let rounded53 = roundDrop(product, drop53);
  let drop24 = bitLength(rounded53) - 24;
  let rounded24 = roundDrop(rounded53, drop24);
  var kept = rounded24[0] | (rounded24[1] << 16u);
  // The product is kept · 2^(drop53 + drop24 + e - 150 + exponent); its f32 exponent field adds 23 + 127.
  var field = drop53 + drop24 + i32(e) + exponent;
  if (kept == 0x1000000u) {
    kept = 0x800000u;
    field += 1;
  }
  if (field >= 255) { return floatFromBits(INF_BITS); }
  if (field <= 0) { return 0.0; }
  return bitcast<f32>((u32(field) << 23u) | (kept & 0x7fffffu));
}
