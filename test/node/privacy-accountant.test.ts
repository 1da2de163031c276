// The privacy accountant and the noise generator, in float64 against the projects' own tests:
// Random123's Philox4x32-10 known-answer vectors; Opacus's accountant tests
// (opacus/tests/accountants_test.py) and TF Privacy's rdp_accountant_test.py values, to the places
// those tests assert (every value here also equals the Python libraries' own output to the digits
// written); and every bad input a GradclipError naming it.
import { describe, expect, test } from 'vitest';
import { computeRdp, createRdpAccountant, getNoiseMultiplier, getPrivacySpent } from '../../src/index';
import { gaussianOf, philox4x32, uniformOfWord } from '../../src/reference/index';
import { thrown } from '../shared/thrown';

const hex = (words: number[]) => words.map((w) => w.toString(16).padStart(8, '0')).join(' ');
const range = (from: number, to: number, step = 1) =>
  Array.from({ length: Math.round((to - from) / step) + 1 }, (_, i) => from + i * step);

describe('Philox4x32-10: Random123 known-answer vectors', () => {
  test.each([
    [[0, 0, 0, 0], [0, 0], '6627e8d5 e169c58d bc57ac4c 9b00dbd8'],
    [[0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff], [0xffffffff, 0xffffffff], '408f276d 41c83b0e a20bc7c6 6d5451fd'],
    [[0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344], [0xa4093822, 0x299f31d0], 'd16cfe09 94fdcceb 5001e420 24126ea1'],
  ] as const)('%j under %j', (counter, key, expected) => {
    expect(hex(philox4x32([...counter] as [number, number, number, number], [...key] as [number, number]))).toBe(
      expected,
    );
  });

  test('the uniform of a word is in (0, 1), exact in f32, and the normals are Box–Muller of a word pair', () => {
    expect(uniformOfWord(0)).toBe(2 ** -25);
    expect(uniformOfWord(0xffffffff)).toBe(1 - 2 ** -25);
    expect(Math.fround(uniformOfWord(0x12345678))).toBe(uniformOfWord(0x12345678));
    const [w0, w1] = philox4x32([0, 0, 7, 0], [42, 0]);
    const r = Math.sqrt(-2 * Math.log(uniformOfWord(w0)));
    expect(gaussianOf(42n, 7, 0)).toBe(r * Math.cos(2 * Math.PI * uniformOfWord(w1)));
    expect(gaussianOf(42n, 7, 1)).toBe(r * Math.sin(2 * Math.PI * uniformOfWord(w1)));
    expect(gaussianOf(42n, 7, 5)).not.toBe(gaussianOf(42n, 8, 5));
  });
});

describe('Opacus accountants_test.py', () => {
  test('test_rdp_accountant: σ 1.5, q 0.04, 2250 steps, δ 1e-5 → ε 7.32911117143 (7 places)', () => {
    const accountant = createRdpAccountant();
    for (let i = 0; i < 2250; i++) accountant.step({ noiseMultiplier: 1.5, sampleRate: 0.04 });
    expect(accountant.history).toEqual([{ noiseMultiplier: 1.5, sampleRate: 0.04, steps: 2250 }]);
    const { epsilon, order } = accountant.getEpsilon(1e-5);
    expect(epsilon).toBeCloseTo(7.32911117143, 7);
    expect(order).toBe(3.9);
  });

  test('test_get_noise_multiplier_rdp_epochs and _steps: ε 8, δ 1e-5, q 0.04 → 1.416 (90 epochs), 1.3562 (2000 steps)', () => {
    expect(getNoiseMultiplier({ targetEpsilon: 8, delta: 1e-5, sampleRate: 0.04, epochs: 90 })).toBeCloseTo(1.416, 4);
    expect(getNoiseMultiplier({ targetEpsilon: 8, delta: 1e-5, sampleRate: 0.04, steps: 2000 })).toBeCloseTo(1.3562, 4);
  });

  test('test_get_noise_multiplier_overshoot: the multiplier found never exceeds the target ε', () => {
    for (const [targetEpsilon, epochs, sampleRate, delta] of [
      [1, 10, 1e-4, 1e-4],
      [3, 50, 0.01, 1e-5],
      [10, 100, 0.1, 1e-6],
      [2, 20, 0.05, 1e-5],
    ]) {
      const sigma = getNoiseMultiplier({ targetEpsilon, delta, sampleRate, epochs });
      const accountant = createRdpAccountant();
      accountant.step({ noiseMultiplier: sigma, sampleRate, steps: Math.floor(epochs / sampleRate) });
      expect(accountant.getEpsilon(delta).epsilon).toBeLessThan(targetEpsilon);
    }
  });

  test('the history merges consecutive steps at one setting only; its docstring example: ε 0.336 at order 23', () => {
    const accountant = createRdpAccountant();
    accountant.step({ noiseMultiplier: 1, sampleRate: 1e-5, steps: 10 });
    accountant.step({ noiseMultiplier: 3, sampleRate: 1e-4, steps: 4 });
    accountant.step({ noiseMultiplier: 3, sampleRate: 1e-4 });
    expect(accountant.history.map((h) => h.steps)).toEqual([10, 5]);
    const fresh = createRdpAccountant();
    expect(fresh.getEpsilon(1e-5)).toEqual({ epsilon: 0, order: Number.NaN });
    fresh.step({ noiseMultiplier: 1, sampleRate: 1e-5, steps: 10 });
    fresh.step({ noiseMultiplier: 3, sampleRate: 1e-4, steps: 4 });
    const { epsilon, order } = fresh.getEpsilon(1e-5, range(2, 32));
    expect(epsilon).toBeCloseTo(0.336, 3);
    expect(order).toBe(23);
  });
});

describe('TF Privacy rdp_accountant_test.py', () => {
  test('test_compute_rdp_no_data and _no_sampling', () => {
    expect(computeRdp({ sampleRate: 0, noiseMultiplier: 10, steps: 1, orders: [20] })).toEqual([0]);
    expect(computeRdp({ sampleRate: 1, noiseMultiplier: 10, steps: 1, orders: [20] })).toEqual([0.1]);
  });

  test('test_compute_rdp_scalar: q 0.1, σ 2, 10 steps, order 5 → 0.07737 (5 places)', () => {
    expect(computeRdp({ sampleRate: 0.1, noiseMultiplier: 2, steps: 10, orders: [5] })[0]).toBeCloseTo(0.07737, 5);
  });

  test('test_compute_rdp_sequence: q 0.01, σ 2.5, 50 steps, fractional, integer and infinite orders (rtol 1e-4)', () => {
    const rdp = computeRdp({
      sampleRate: 0.01,
      noiseMultiplier: 2.5,
      steps: 50,
      orders: [1.5, 2.5, 5, 50, 100, Infinity],
    });
    const expected = [6.5007e-4, 1.0854e-3, 2.1808e-3, 2.3846e-2, 1.6742e2];
    expected.forEach((e, i) => expect(Math.abs(rdp[i] - e) / e).toBeLessThan(1e-4));
    expect(rdp[5]).toBe(Infinity);
  });

  test('test_get_privacy_spent_check_target_delta: rdp 1.1 at orders 2..32, δ 1e-5 → ε 1.32783806176 at order 32', () => {
    const orders = range(2, 32);
    const { epsilon, order } = getPrivacySpent({ orders, rdp: orders.map(() => 1.1), delta: 1e-5 });
    expect(order).toBe(32);
    expect(epsilon).toBeCloseTo(1.32783806176, 7);
  });

  test('test_get_privacy_spent_check_target_delta, second case: q 1, σ 4.530877117, orders 1 to 99.999, δ 1e-6 → ε 1', () => {
    const orders = Array.from({ length: 99000 }, (_, i) => 0.001 * (i + 1000));
    const rdp = computeRdp({ sampleRate: 1, noiseMultiplier: 4.530877117, steps: 1, orders });
    expect(getPrivacySpent({ orders, rdp, delta: 1e-6 }).epsilon).toBeCloseTo(1, 7);
  });

  test('test_check_composition: 40 000 steps at q 1e-4 σ 0.4, then 100 at q 0.1 σ 2: ε at δ 1e-5 ≤ 8.509656', () => {
    const orders = [1.25, 1.5, 1.75, 2, 2.5, 3, 4, 5, 6, 7, 8, 10, 12, 14, 16, 20, 24, 28, 32, 64, 256];
    const first = computeRdp({ sampleRate: 1e-4, noiseMultiplier: 0.4, steps: 40000, orders });
    const second = computeRdp({ sampleRate: 0.1, noiseMultiplier: 2, steps: 100, orders });
    const { epsilon } = getPrivacySpent({ orders, rdp: first.map((r, i) => r + second[i]), delta: 1e-5 });
    expect(epsilon).toBeLessThanOrEqual(8.509656);
    expect(epsilon).toBeCloseTo(7.3879699346023, 10); // Opacus's and TF Privacy's own value
  });

  test('test_compute_rdp_from_ledger: 3 steps at q 0.1, noise std 2.71828 over clip 3.14159', () => {
    // TF Privacy's ledger test writes these truncated values, not e and π.
    // biome-ignore lint/suspicious/noApproximativeNumericConstant: the test's own numbers
    const [noiseStd, clip] = [2.71828, 3.14159];
    const rdp = computeRdp({ sampleRate: 0.1, noiseMultiplier: noiseStd / clip, steps: 3, orders: range(2, 32) });
    [0.08292362, 0.18287547, 0.49031809].forEach((e, i) => expect(rdp[i]).toBeCloseTo(e, 7));
    expect(rdp[30]).toBeCloseTo(56.98326578755075, 7);
  });
});

test('bad inputs are GradclipErrors naming the argument', () => {
  const cases: Array<[() => unknown, RegExp]> = [
    [
      () => computeRdp({ sampleRate: 1.5, noiseMultiplier: 1, steps: 1, orders: [2] }),
      /sampleRate must be in \[0, 1\]/,
    ],
    [
      () => computeRdp({ sampleRate: 0.1, noiseMultiplier: -1, steps: 1, orders: [2] }),
      /noiseMultiplier must be a finite number >= 0/,
    ],
    [() => computeRdp({ sampleRate: 0.1, noiseMultiplier: 1, steps: 1.5, orders: [2] }), /steps must be an integer/],
    [() => computeRdp({ sampleRate: 0.1, noiseMultiplier: 1, steps: 1, orders: [0.5] }), /orders must be/],
    [() => getPrivacySpent({ orders: [2, 3], rdp: [1], delta: 1e-5 }), /rdp has 1 values but orders has 2/],
    [() => getPrivacySpent({ orders: [2], rdp: [1], delta: 0 }), /delta must be in \(0, 1\)/],
    [() => getNoiseMultiplier({ targetEpsilon: 1, delta: 1e-5, sampleRate: 0.1 }), /exactly one of steps and epochs/],
    [
      () => getNoiseMultiplier({ targetEpsilon: 1e-9, delta: 1e-5, sampleRate: 1, steps: 1e6 }),
      /privacy budget is too low/,
    ],
  ];
  for (const [call, message] of cases) {
    const error = thrown(call);
    expect(error, String(message)).toMatchObject({ name: 'GradclipError', code: 'invalid-argument' });
    expect((error as Error).message).toMatch(message);
  }
});
