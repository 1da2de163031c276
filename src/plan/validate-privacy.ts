// Checks of clipPerExample's DP-SGD options and of an optimizer's privacy settings (thrown as
// GradclipError 'invalid-argument' naming the option, before anything is recorded), and the
// noise's seed and step as the u32 words the kernels read.
import { GradclipError } from '../core/errors';
import { OPTION_KEYS, readOptions } from '../core/options';
import { checkIntegerIn, checkNumberIn, describe } from './validate';

/** The noise of one call: its standard deviation (multiplier · maxNorm), seed and step. */
export interface NoiseSettings {
  std: number;
  seed: bigint;
  step: number;
}

/** clipPerExample's checked DP options. */
export interface PerExamplePrivacy {
  examples: number;
  noise: NoiseSettings | null;
  divisor: number;
}

const U64_END = 2n ** 64n;

/** A seed as given (a safe integer or a bigint in [0, 2^64)), or a fresh one from crypto.getRandomValues. */
export function checkSeed(value: unknown, name: string): bigint {
  if (value === undefined) {
    const words = globalThis.crypto.getRandomValues(new Uint32Array(2));
    return (BigInt(words[1]) << 32n) | BigInt(words[0]);
  }
  if (typeof value === 'bigint' && value >= 0n && value < U64_END) return value;
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return BigInt(value);
  throw new GradclipError(
    'invalid-argument',
    `${name} must be an integer in [0, 2^64) (a safe integer or a bigint), got ${describe(value)}`,
  );
}

/** A 64-bit value as (low, high) u32 words. */
export function wordsOf(value: bigint | number): [number, number] {
  const v = BigInt(value);
  return [Number(v & 0xffffffffn), Number((v >> 32n) & 0xffffffffn)];
}

export function checkDivisor(value: unknown, name = 'divisor'): number {
  return checkNumberIn(name, value ?? 1, 0, Infinity, true, true);
}

export function checkNoiseMultiplier(value: unknown, name: string): number {
  return checkNumberIn(name, value, 0, Infinity, false, true);
}

/** examples, noise and divisor of clipPerExample, for a batch of `batchSize` clipped at `maxNorm`. */
export function checkPerExamplePrivacy(
  options: { examples?: unknown; noise?: unknown; divisor?: unknown },
  batchSize: number,
  maxNorm: number,
): PerExamplePrivacy {
  const examples = checkIntegerIn('examples', options.examples ?? batchSize, 0, batchSize);
  let noise: NoiseSettings | null = null;
  if (options.noise !== undefined && options.noise !== null) {
    const given = readOptions(options.noise as object, OPTION_KEYS.perExampleNoise, 'options.noise') as {
      multiplier?: unknown;
      seed?: unknown;
      step?: unknown;
    };
    const multiplier = checkNoiseMultiplier(given.multiplier, 'noise.multiplier');
    const step = checkIntegerIn('noise.step', given.step ?? 0, 0, Number.MAX_SAFE_INTEGER);
    const std = multiplier * maxNorm;
    if (!Number.isFinite(std))
      throw new GradclipError(
        'invalid-argument',
        `noise needs a finite maxNorm (its std is multiplier · maxNorm), got ${maxNorm}`,
      );
    noise = { std, seed: checkSeed(given.seed, 'noise.seed'), step };
  }
  return { examples, noise, divisor: checkDivisor(options.divisor) };
}

/** An optimizer's checked `privacy` settings. */
export interface PrivacySettings {
  batchSize: number;
  maxNorm: number;
  noiseMultiplier: number;
  seed: bigint;
  divisor: number;
}

/** createOptimizer's `privacy` (its keys, limits, and that no `clip` or `scaler` comes with it). */
export function checkPrivacySettings(options: {
  privacy?: unknown;
  clip?: unknown;
  scaler?: unknown;
}): PrivacySettings {
  const given = readOptions(options.privacy as object, OPTION_KEYS.privacy, 'options.privacy') as {
    batchSize?: unknown;
    maxNorm?: unknown;
    noiseMultiplier?: unknown;
    seed?: unknown;
    divisor?: unknown;
  };
  for (const key of ['clip', 'scaler'] as const) {
    if (options[key] !== undefined && options[key] !== null) {
      throw new GradclipError(
        'invalid-argument',
        `${key} does not combine with privacy: a private optimizer clips each example to privacy.maxNorm, on f32 gradients`,
      );
    }
  }
  const batchSize = checkIntegerIn('privacy.batchSize', given.batchSize, 1, Number.MAX_SAFE_INTEGER);
  return {
    batchSize,
    maxNorm: checkNumberIn('privacy.maxNorm', given.maxNorm, 0, Infinity, true, true),
    noiseMultiplier: checkNoiseMultiplier(given.noiseMultiplier, 'privacy.noiseMultiplier'),
    seed: checkSeed(given.seed, 'privacy.seed'),
    divisor: checkDivisor(given.divisor ?? batchSize, 'privacy.divisor'),
  };
}
