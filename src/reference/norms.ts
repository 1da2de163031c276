// The CPU reference: plain float64 arithmetic that the CPU backend runs and every test compares
// against. Keep it simple and exact rather than fast.

/** Adds in float64: the p-norm over every element of every array; NaN if any NaN, Inf if any ±Inf. */
export function totalNormReference(arrays: readonly ArrayLike<number>[], p: number): number {
  let maxAbs = 0;
  let sawNaN = false;
  let sawInf = false;
  for (const a of arrays) {
    for (let i = 0; i < a.length; i++) {
      const v = Math.abs(a[i]);
      if (Number.isNaN(v)) sawNaN = true;
      else if (v === Infinity) sawInf = true;
      else if (v > maxAbs) maxAbs = v;
    }
  }
  if (sawNaN) return NaN;
  if (sawInf) return Infinity;
  if (p === Infinity || maxAbs === 0) return maxAbs;
  // Scale by the largest |x| so that no power overflows or underflows, even in float64 for large p.
  let sum = 0;
  for (const a of arrays) {
    for (let i = 0; i < a.length; i++) sum += (Math.abs(a[i]) / maxAbs) ** p;
  }
  return maxAbs * sum ** (1 / p);
}

/** The clipping decision shared by both backends (the WGSL finalize kernel mirrors it). */
export interface ClipDecision {
  /** Whether gradients are multiplied by `coef`. */
  scale: boolean;
  coef: number;
  /** errorIfNonfinite tripped: nothing is changed and read() rejects. */
  nonfiniteError: boolean;
}

/**
 * PyTorch's coefficient min(1, maxNorm / (norm + 1e-6)), applied only when norm > maxNorm (so a
 * norm at or below maxNorm leaves every bit unchanged) or when the norm is NaN/Inf (which
 * propagates as PyTorch does, unless errorIfNonfinite or skipNonfinite leave everything unchanged).
 */
export function clipDecision(
  norm: number,
  maxNorm: number,
  errorIfNonfinite = false,
  skipNonfinite = false,
): ClipDecision {
  const nonfinite = !Number.isFinite(norm);
  if (nonfinite && errorIfNonfinite) return { scale: false, coef: 1, nonfiniteError: true };
  if (nonfinite && skipNonfinite) return { scale: false, coef: 1, nonfiniteError: false };
  if (!nonfinite && !(norm > maxNorm)) return { scale: false, coef: 1, nonfiniteError: false };
  return { scale: true, coef: maxNorm / (norm + 1e-6), nonfiniteError: false };
}

/** An array written in place: a Float32Array or Float16Array, which round each store to their precision. */
export interface FloatArrayLike {
  readonly length: number;
  [index: number]: number;
}

/** Multiplies in place (rounded to the array's precision on store). */
export function scaleInPlace(arrays: readonly FloatArrayLike[], coef: number): void {
  for (const a of arrays) {
    for (let i = 0; i < a.length; i++) a[i] = a[i] * coef;
  }
}

/** Clamps in place to [min, max]; NaN stays NaN, ±Inf go to the bounds. */
export function clampInPlace(arrays: readonly FloatArrayLike[], min: number, max: number): void {
  for (const a of arrays) {
    for (let i = 0; i < a.length; i++) {
      const v = a[i];
      if (v < min) a[i] = min;
      else if (v > max) a[i] = max;
    }
  }
}
