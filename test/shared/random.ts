/** Small seeded PRNG (mulberry32) so every test case can be replayed from its seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Float32 values uniform in [-scale, scale). */
export function randomGradient(length: number, random: () => number, scale = 1): Float32Array<ArrayBuffer> {
  const a = new Float32Array(length);
  for (let i = 0; i < length; i++) a[i] = (random() * 2 - 1) * scale;
  return a;
}

/** The plain definition of the p-norm in float64, without any scaling: the check on the reference. */
export function naiveNorm(arrays: Float32Array[], p: number): number {
  if (p === Infinity) return Math.max(0, ...arrays.map((a) => a.reduce((m, v) => Math.max(m, Math.abs(v)), 0)));
  let sum = 0;
  for (const a of arrays) for (const v of a) sum += Math.abs(v) ** p;
  return sum ** (1 / p);
}

/** Bit patterns, for checks that nothing changed at all. */
export function bits(a: Float32Array): Uint32Array {
  return new Uint32Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength));
}

/** |actual - expected| <= tolerance · |expected| (NaN matches NaN, Inf matches the same Inf). */
export function relativeError(actual: number, expected: number): number {
  if (Number.isNaN(expected)) return Number.isNaN(actual) ? 0 : Infinity;
  if (!Number.isFinite(expected)) return actual === expected ? 0 : Infinity;
  if (expected === 0) return Math.abs(actual);
  return Math.abs(actual - expected) / Math.abs(expected);
}
