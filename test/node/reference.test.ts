import { describe, expect, test } from 'vitest';
import { clampInPlace, clipDecision, scaleInPlace, totalNormReference } from '../../src/reference/norms';
import { naiveNorm, randomGradient, relativeError, seededRandom } from '../shared/random';

describe('totalNormReference', () => {
  test.each([1, 2, 3, 0.5, 7.5, Infinity])('matches the plain definition for p = %s', (p) => {
    const random = seededRandom(42);
    const arrays = [randomGradient(1000, random), randomGradient(37, random, 10), randomGradient(1, random)];
    expect(relativeError(totalNormReference(arrays, p), naiveNorm(arrays, p))).toBeLessThan(1e-12);
  });

  test('hand-worked values', () => {
    const g = [new Float32Array([3, -4]), new Float32Array([0])];
    expect(totalNormReference(g, 2)).toBe(5);
    expect(totalNormReference(g, 1)).toBe(7);
    expect(totalNormReference(g, Infinity)).toBe(4);
    expect(totalNormReference(g, 3)).toBeCloseTo(Math.cbrt(27 + 64), 12);
    expect(totalNormReference([new Float32Array(5)], 2)).toBe(0);
    expect(totalNormReference([new Float32Array(0)], 2)).toBe(0);
  });

  test('stays exact where powers leave the float64 range (large p, huge and tiny values)', () => {
    const huge = new Float32Array([3e38, 3e38]);
    expect(totalNormReference([huge], 20)).toBeCloseTo(Math.fround(3e38) * 2 ** (1 / 20), -30);
    const tiny = new Float32Array([1e-40, 1e-40]); // float32 subnormals
    expect(totalNormReference([tiny], 40) / (Math.fround(1e-40) * 2 ** (1 / 40))).toBeCloseTo(1, 12);
  });

  test('NaN wins over Inf; Inf gives Inf for every p', () => {
    expect(totalNormReference([new Float32Array([1, NaN, Infinity])], 2)).toBeNaN();
    expect(totalNormReference([new Float32Array([1, -Infinity])], 2)).toBe(Infinity);
    expect(totalNormReference([new Float32Array([1, -Infinity])], Infinity)).toBe(Infinity);
    expect(totalNormReference([new Float32Array([NaN])], Infinity)).toBeNaN();
  });
});

describe('clipDecision', () => {
  test('scales only above maxNorm, with PyTorch coefficient', () => {
    expect(clipDecision(5, 5)).toEqual({ scale: false, coef: 1, nonfiniteError: false });
    expect(clipDecision(4, 5).scale).toBe(false);
    const d = clipDecision(10, 5);
    expect(d.scale).toBe(true);
    expect(d.coef).toBe(5 / (10 + 1e-6));
  });

  test('non-finite norms propagate unless errorIfNonfinite', () => {
    expect(clipDecision(NaN, 1).coef).toBeNaN();
    expect(clipDecision(Infinity, 1)).toEqual({ scale: true, coef: 0, nonfiniteError: false });
    expect(clipDecision(Infinity, 1, true)).toEqual({ scale: false, coef: 1, nonfiniteError: true });
    expect(clipDecision(Infinity, Infinity).coef).toBeNaN();
    expect(clipDecision(0, 0).scale).toBe(false);
  });
});

test('scaleInPlace and clampInPlace', () => {
  const a = new Float32Array([1, -2, NaN, Infinity, -Infinity]);
  clampInPlace([a], -1.5, 0.5);
  expect(Array.from(a)).toEqual([0.5, -1.5, NaN, 0.5, -1.5]);
  const b = new Float32Array([2, -4]);
  scaleInPlace([b], 0.5);
  expect(Array.from(b)).toEqual([1, -2]);
});
