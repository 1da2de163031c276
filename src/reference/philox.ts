// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC 2011; Random123),
// the counter-based generator PyTorch and cuRAND use, and the mapping of its words to Gaussian
// noise that the DP kernels use (shaders/privacy/noise.wgsl computes the same words in WGSL).
// Not a cryptographically secure generator: see docs/guide/privacy.md.

/** Random123's Philox4x32 round multipliers and Weyl key increments. */
export const PHILOX = { M0: 0xd2511f53, M1: 0xcd9e8d57, W0: 0x9e3779b9, W1: 0xbb67ae85, ROUNDS: 10 } as const;

/** The high 32 bits of the 64-bit product of two u32s. */
function mulHigh(a: number, b: number): number {
  const a0 = a & 0xffff;
  const a1 = a >>> 16;
  const b0 = b & 0xffff;
  const b1 = b >>> 16;
  const low = a0 * b0;
  const middle1 = a1 * b0 + (low >>> 16);
  const middle2 = a0 * b1 + (middle1 & 0xffff);
  return (a1 * b1 + (middle1 >>> 16) + (middle2 >>> 16)) >>> 0;
}

/**
 * Philox4x32-10 of `counter` under `key` (every word a u32): ten rounds, the key bumped by the Weyl
 * constants between rounds, as Random123's `philox4x32`.
 */
export function philox4x32(
  counter: readonly [number, number, number, number],
  key: readonly [number, number],
): [number, number, number, number] {
  let [c0, c1, c2, c3] = counter.map((x) => x >>> 0);
  let [k0, k1] = key.map((x) => x >>> 0);
  for (let round = 0; round < PHILOX.ROUNDS; round++) {
    if (round > 0) {
      k0 = (k0 + PHILOX.W0) >>> 0;
      k1 = (k1 + PHILOX.W1) >>> 0;
    }
    const hi0 = mulHigh(PHILOX.M0, c0);
    const lo0 = Math.imul(PHILOX.M0, c0) >>> 0;
    const hi1 = mulHigh(PHILOX.M1, c2);
    const lo1 = Math.imul(PHILOX.M1, c2) >>> 0;
    [c0, c1, c2, c3] = [(hi1 ^ c1 ^ k0) >>> 0, lo1, (hi0 ^ c3 ^ k1) >>> 0, lo0];
  }
  return [c0, c1, c2, c3];
}

/** A u32 as a uniform number in (0, 1): its top 24 bits plus one half, over 2^24 (exact in f32). */
export function uniformOfWord(word: number): number {
  return ((word >>> 8) + 0.5) / 2 ** 24;
}

/**
 * The 64-bit seed and step as Philox's key and the high half of its counter: key = (seed low, seed
 * high), counter = (block low, block high, step low, step high).
 */
export function noiseCounter(block: number, step: number): [number, number, number, number] {
  return [block >>> 0, Math.floor(block / 2 ** 32) >>> 0, step >>> 0, Math.floor(step / 2 ** 32) >>> 0];
}

export function noiseKey(seed: bigint): [number, number] {
  return [Number(seed & 0xffffffffn), Number((seed >> 32n) & 0xffffffffn)];
}

/**
 * The standard normals of coordinate `index` of a noise stream, float64: block = index >> 2 of
 * Philox under (seed, step) gives words w0..w3; coordinates 4b and 4b + 1 are Box–Muller of
 * (w0, w1), 4b + 2 and 4b + 3 of (w2, w3): with u = uniformOfWord(first), v = uniformOfWord(second),
 * r = sqrt(-2 ln u), the pair is (r cos 2πv, r sin 2πv).
 */
export function gaussianOf(seed: bigint, step: number, index: number): number {
  return gaussianBlock(seed, step, Math.floor(index / 4))[index % 4];
}

/** The four standard normals of block `block` (coordinates 4·block .. 4·block + 3), as gaussianOf. */
export function gaussianBlock(seed: bigint, step: number, block: number): readonly number[] {
  const words = philox4x32(noiseCounter(block, step), noiseKey(seed));
  const normals: number[] = [];
  for (const pair of [0, 2]) {
    const r = Math.sqrt(-2 * Math.log(uniformOfWord(words[pair])));
    const angle = 2 * Math.PI * uniformOfWord(words[pair + 1]);
    normals.push(r * Math.cos(angle), r * Math.sin(angle));
  }
  return normals;
}
