import { GradclipError } from './errors';

/** 0: ∞-norm, 1: p = 1, 2: p = 2, 3: any other p (the WGSL `normKind` override). */
export type NormKind = 0 | 1 | 2 | 3;

function describe(value: unknown): string {
  if (typeof value === 'number') return String(value);
  return typeof value === 'string' ? JSON.stringify(value) : typeof value;
}

/** Throws unless `maxNorm` is a number ≥ 0 (Infinity allowed). */
export function checkMaxNorm(maxNorm: unknown, name = 'maxNorm'): number {
  if (typeof maxNorm !== 'number' || Number.isNaN(maxNorm) || maxNorm < 0) {
    throw new GradclipError('invalid-argument', `${name} must be a number >= 0, got ${describe(maxNorm)}`);
  }
  return maxNorm;
}

/** Throws unless `normType` is > 0 (Infinity allowed); returns p and its kernel specialisation. */
export function checkNormType(normType: unknown = 2): { p: number; kind: NormKind } {
  if (typeof normType !== 'number' || Number.isNaN(normType) || normType <= 0) {
    throw new GradclipError('invalid-argument', `normType must be a number > 0 or Infinity, got ${describe(normType)}`);
  }
  const kind: NormKind = normType === Infinity ? 0 : normType === 1 ? 1 : normType === 2 ? 2 : 3;
  return { p: normType, kind };
}

/** Clip bounds of `clipGradValue`: a number c ≥ 0 means [-c, c]; `{ min, max }` needs min <= max. */
export function checkClipRange(clip: unknown): { min: number; max: number } {
  if (typeof clip === 'number') {
    if (Number.isNaN(clip) || clip < 0) {
      throw new GradclipError('invalid-argument', `clip must be a number >= 0, got ${describe(clip)}`);
    }
    return { min: -clip, max: clip };
  }
  if (clip !== null && typeof clip === 'object') {
    const { min, max } = clip as { min: unknown; max: unknown };
    if (typeof min !== 'number' || Number.isNaN(min)) {
      throw new GradclipError('invalid-argument', `clip.min must be a number, got ${describe(min)}`);
    }
    if (typeof max !== 'number' || Number.isNaN(max)) {
      throw new GradclipError('invalid-argument', `clip.max must be a number, got ${describe(max)}`);
    }
    if (min > max) {
      throw new GradclipError('invalid-argument', `clip.min (${min}) must be <= clip.max (${max})`);
    }
    return { min, max };
  }
  throw new GradclipError('invalid-argument', `clip must be a number or { min, max }, got ${describe(clip)}`);
}

/** Throws unless `totalNorm` given as a number is >= 0 or non-finite (NaN/Inf propagate). */
export function checkGivenNorm(totalNorm: number): number {
  if (totalNorm < 0) {
    throw new GradclipError('invalid-argument', `totalNorm must be >= 0, got ${totalNorm}`);
  }
  return totalNorm;
}

/** `onNonfinite` of clipGradNorm: 'propagate' (default) or 'skip'. */
export function checkOnNonfinite(onNonfinite: unknown = 'propagate'): 'propagate' | 'skip' {
  if (onNonfinite !== 'propagate' && onNonfinite !== 'skip') {
    throw new GradclipError('invalid-argument', `onNonfinite must be 'propagate' or 'skip', got ${describe(onNonfinite)}`);
  }
  return onNonfinite;
}
