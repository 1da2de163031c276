// DP-SGD's Gaussian noise: Philox4x32-10 (Random123's constants and rounds, the generator PyTorch
// and cuRAND use) keyed by the 64-bit seed, its counter (block low, block high, step low, step
// high), and Box–Muller on its words. Coordinate i of a noise stream is block i / 4, pair (i % 4) / 2
// (words 0 and 1, or 2 and 3), cos for an even i and sin for an odd one:
//   u = ((w_first >> 8) + 0.5) / 2^24, v = ((w_second >> 8) + 0.5) / 2^24 (exact in f32, in (0, 1)),
//   r = sqrt(-2 ln u), normals (r cos 2πv, r sin 2πv).
// src/reference/philox.ts is the same in float64 (gaussianOf). Not a cryptographically secure
// generator (see docs/guide/privacy.md).

const PHILOX_M0: u32 = 0xd2511f53u;
const PHILOX_M1: u32 = 0xcd9e8d57u;
const PHILOX_W0: u32 = 0x9e3779b9u;
const PHILOX_W1: u32 = 0xbb67ae85u;

// The 64-bit product of two u32s as (high, low), from 16-bit halves (WGSL has no u64).
fn mulWide(a: u32, b: u32) -> vec2<u32> {
  let a0 = a & 0xffffu;
  let a1 = a >> 16u;
  let b0 = b & 0xffffu;
  let b1 = b >> 16u;
  let low = a0 * b0;
  let middle1 = a1 * b0 + (low >> 16u);
  let middle2 = a0 * b1 + (middle1 & 0xffffu);
  let high = a1 * b1 + (middle1 >> 16u) + (middle2 >> 16u);
  return vec2<u32>(high, a * b);
}

fn philox(counter: vec4<u32>, key: vec2<u32>) -> vec4<u32> {
  var c = counter;
  var k = key;
  for (var round = 0u; round < 10u; round++) {
    let p0 = mulWide(PHILOX_M0, c.x);
    let p1 = mulWide(PHILOX_M1, c.z);
    c = vec4<u32>(p1.x ^ c.y ^ k.x, p1.y, p0.x ^ c.w ^ k.y, p0.y);
    k += vec2<u32>(PHILOX_W0, PHILOX_W1);   // the key of the next round (the last one unused)
  }
  return c;
}

fn uniformOfWord(word: u32) -> f32 {
  return (f32(word >> 8u) + 0.5) * 5.9604644775390625e-8;   // 2^-24
}

// ln u for a normal u > 0, to about an f32 unit in the last place: u = 2^e · m with m in
// [√½, √2), ln m = 2 atanh s for s = (m − 1)/(m + 1) (|s| < 0.172, six odd terms), ln 2 in two
// parts. WGSL's own log may be off by 2^-21 absolute near 1, where r = sqrt(−2 ln u) is small and
// that error would dominate it.
fn logAccurate(u: f32) -> f32 {
  let bits = bitcast<u32>(u);
  let mantissa = bitcast<f32>((bits & 0x7fffffu) | 0x3f800000u);
  let above = mantissa > 1.4142135;
  let e = f32(i32((bits >> 23u) & 0xffu) - 127) + select(0.0, 1.0, above);
  let m = select(mantissa, mantissa * 0.5, above);
  let s = (m - 1.0) / (m + 1.0);
  let s2 = s * s;
  let series = 1.0 + s2 * (1.0 / 3.0 + s2 * (0.2 + s2 * (1.0 / 7.0 + s2 * (1.0 / 9.0 + s2 * (1.0 / 11.0)))));
  return e * 0.693145751953125 + (e * 1.4286068203094173e-6 + 2.0 * s * series);
}

// (cos θ, sin θ) for θ in [0, π/4]: Taylor polynomials, exact to below f32's rounding there.
fn cosSinSmall(theta: f32) -> vec2<f32> {
  let t2 = theta * theta;
  let c = 1.0 - t2 * (0.5 - t2 * (1.0 / 24.0 - t2 * (1.0 / 720.0 - t2 * (1.0 / 40320.0 - t2 * (1.0 / 3628800.0)))));
  let s = theta * (1.0 - t2 * (1.0 / 6.0 - t2 * (1.0 / 120.0 - t2 * (1.0 / 5040.0 - t2 * (1.0 / 362880.0)))));
  return vec2<f32>(c, s);
}

// (cos 2πv, sin 2πv) for v = uniformOfWord(word), from the word itself: its top two bits of the
// 24 are the quadrant, the rest the angle within it, folded to [0, π/4] (WGSL's cos and sin may be
// off by 2^-11 absolute). Branch-free: lanes that run in lockstep would pay for every branch.
fn cosSinOfWord(word: u32) -> vec2<f32> {
  let m = word >> 8u;
  let quadrant = m >> 22u;
  let t = (f32(m & 0x3fffffu) + 0.5) * 2.384185791015625e-7;   // 2^-22: the angle over π/2, in (0, 1)
  let folded = min(t, 1.0 - t);
  let small = cosSinSmall(folded * 1.5707963267948966);
  let cs = select(small, small.yx, t > 0.5);   // cos(π/2 − x) = sin x
  // Quadrant q turns (c, s) by q · 90°: (c, s), (−s, c), (−c, −s), (s, −c).
  let turned = select(cs, cs.yx, (quadrant & 1u) != 0u);
  let negative = vec2<bool>(((quadrant + 1u) & 2u) != 0u, quadrant >= 2u);
  return select(turned, -turned, negative);
}

// ln u for u = uniformOfWord(word), from the word itself. Past ½ that u is halfway between two
// f32s and rounds (to 1 for the largest words), which near 1, where r = sqrt(−2 ln u) is small,
// moved r by up to 2.4e-4: there ln u = ln(1 − d) = 2 atanh(−d / (2 − d)), with d = 1 − u exact
// (d < 1/16: |s| < 0.033, four odd terms). Branch-free, like the rest of the draw.
fn logUniformOfWord(word: u32) -> f32 {
  let d = (f32(0xffffffu - (word >> 8u)) + 0.5) * 5.9604644775390625e-8;   // 2^-24
  let s = -d / (2.0 - d);
  let s2 = s * s;
  let nearOne = 2.0 * s * (1.0 + s2 * (1.0 / 3.0 + s2 * (0.2 + s2 * (1.0 / 7.0))));
  return select(logAccurate(uniformOfWord(word)), nearOne, d < 0.0625);
}

// (r cos 2πv, r sin 2πv): r = sqrt(−2 ln u).
fn boxMuller(first: u32, second: u32) -> vec2<f32> {
  let r = sqrt(-2.0 * logUniformOfWord(first));
  return r * cosSinOfWord(second);
}

// The four standard normals of block `block` under (seed, step) = (params.seedLo/Hi, stepLo/Hi).
fn gaussians(block: u32, seed: vec2<u32>, step: vec2<u32>) -> vec4<f32> {
  let w = philox(vec4<u32>(block, 0u, step.x, step.y), seed);
  return vec4<f32>(boxMuller(w.x, w.y), boxMuller(w.z, w.w));
}
