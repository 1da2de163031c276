// What a fuzz case must give, on either backend: the float64 reference's norm within the
// documented bound, each element as the reference clips it, and every float outside the views
// bit for bit as it was.
import { totalNormReference } from '../../src/reference/norms';
import { fuzzContents, type FuzzCase } from './fuzz-cases';
import { relativeError } from './random';

/** The smallest normal float32: results below it may be flushed to zero (WGSL allows it). */
const FLT_MIN = 2 ** -126;

/**
 * The documented error bound on a p-norm of n elements, relative (the README's "Reliability"
 * section): 2^-24 (float32's unit roundoff) times (2 + log2 n), the growth of a summation tree,
 * for p = 1, 2 and ∞; other p add 2^-18 for WGSL's pow, which is exp2(p · log2 x) and not
 * correctly rounded (the stress fuzz found p = 3 at 1.3 times the first bound).
 */
export function normErrorBound(n: number, p = 2): number {
  const sum = 2 ** -24 * (2 + Math.log2(Math.max(1, n)));
  return p === 1 || p === 2 || p === Infinity ? sum : sum + 2 ** -18;
}

export interface Expected {
  grads: Float32Array[];
  /** The reference norm (null for clip by value). */
  norm: number | null;
  maxNorm: number;
  bound: number;
}

/** The threshold the case uses and what the clip must produce. */
export function expectedFor(c: FuzzCase): Expected {
  const { grads } = fuzzContents(c);
  const expected = grads.map((g) => Float32Array.from(g));
  if (c.operation === 'clip-value') {
    const bound = c.factor * (Math.abs(grads[0][0]) || 1) || 1;
    const safe = Number.isFinite(bound) ? bound : 1;
    expected.forEach((g) => g.forEach((v, i) => (g[i] = Number.isNaN(v) ? v : Math.min(Math.max(v, -safe), safe))));
    return { grads: expected, norm: null, maxNorm: safe, bound: 0 };
  }
  const norm = totalNormReference(grads, c.p);
  const maxNorm = Number.isFinite(norm) ? c.factor * norm : 1;
  const coef = norm > maxNorm || !Number.isFinite(norm) ? maxNorm / (norm + 1e-6) : 1;
  if (coef !== 1) expected.forEach((g) => g.forEach((v, i) => (g[i] = v * coef)));
  return {
    grads: expected,
    norm,
    maxNorm,
    bound: normErrorBound(
      grads.reduce((n, g) => n + g.length, 0),
      c.p,
    ),
  };
}

/**
 * Compares a backend's outcome with `expected`: null when it matches, else what differs first.
 * `after` holds each buffer's contents after the clip, `before` before it.
 */
export function compareOutcome(
  c: FuzzCase,
  expected: Expected,
  norm: number | null,
  before: Float32Array[],
  after: Float32Array[],
): string | null {
  if (expected.norm !== null && norm !== null) {
    const error = relativeError(norm, expected.norm);
    if (!(error <= expected.bound))
      return `norm ${norm} vs reference ${expected.norm}: relative error ${error} above the bound ${expected.bound}`;
  }
  // An element's clip carries the norm's error through the coefficient, plus its own rounding.
  const tolerance = expected.bound + 2e-7;
  let k = 0;
  for (let b = 0; b < c.buffers.length; b++) {
    const inView = new Int32Array(c.buffers[b].size).fill(-1);
    for (const v of c.buffers[b].views) {
      inView.fill(k, v.offset, v.offset + v.length);
      k++;
    }
    const first = k - c.buffers[b].views.length;
    for (let i = 0; i < after[b].length; i++) {
      const a = after[b][i];
      if (inView[i] < 0) {
        if (!Object.is(a, before[b][i]))
          return `buffer ${b} element ${i}, outside every view: ${a}, was ${before[b][i]}`;
        continue;
      }
      const view = c.buffers[b].views[inView[i] - first];
      const e = expected.grads[inView[i]][i - view.offset];
      const ok =
        (Number.isNaN(e) && Number.isNaN(a)) ||
        a === e ||
        relativeError(a, e) <= tolerance ||
        (Math.abs(e) < FLT_MIN && Math.abs(a) < FLT_MIN);
      if (!ok) return `buffer ${b} element ${i} (view ${inView[i]}): ${a}, expected ${e}`;
    }
  }
  return null;
}
