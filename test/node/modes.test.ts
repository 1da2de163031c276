// The clipping modes beyond PyTorch's on the CPU backend: the reference against values worked by
// hand from the papers' formulas, and bad options rejected before anything changes.
import { describe, expect, test } from 'vitest';
import { GradclipError, createAutoClip, createClipper, createZClip, type Clipper } from 'gradclip';
import { AutoClipRule, ZClipRule, agcCoefficient, percentileReference, perExampleMultiplier } from 'gradclip/reference';

async function cpuClipper(): Promise<Clipper> {
  const clipper = await createClipper({ forceCpu: true });
  expect(clipper.backend).toBe('cpu');
  return clipper;
}

function close(actual: ArrayLike<number>, expected: number[], tolerance = 1e-6) {
  expect(actual.length).toBe(expected.length);
  expected.forEach((e, i) =>
    expect(Math.abs(actual[i] - e), `element ${i}: ${actual[i]} vs ${e}`).toBeLessThanOrEqual(
      tolerance * Math.max(1, Math.abs(e)),
    ),
  );
}

describe('per-tensor norms and clipByNorm (Keras clipnorm)', () => {
  test('one norm per view and the total', async () => {
    const clipper = await cpuClipper();
    const set = clipper.gradients([new Float32Array([3, 4]), new Float32Array([1, 2, 2]), new Float32Array(0)]);
    const norms = clipper.perTensorNorms(set);
    close(await norms.read(), [5, 3, 0]);
    expect(await norms.total.read()).toBe(Math.fround(Math.sqrt(34)));
    close(await clipper.perTensorNorms(set, { normType: 1 }).read(), [7, 5, 0]);
    close(await clipper.perTensorNorms(set, { normType: Infinity }).read(), [4, 2, 0]);
  });

  test('each view is scaled by its own coefficient; views under the bound keep their bits', async () => {
    const clipper = await cpuClipper();
    const a = new Float32Array([3, 4]);
    const b = new Float32Array([1, 2, 2]);
    const c = new Float32Array([0.5]);
    const norms = await clipper.clipByNorm(clipper.gradients([a, b, c]), 2).read();
    close(norms, [5, 3, 0.5]);
    close(a, [(3 * 2) / (5 + 1e-6), (4 * 2) / (5 + 1e-6)]);
    close(b, [2 / 3.000001, 4 / 3.000001, 4 / 3.000001]);
    expect(c[0]).toBe(0.5);
  });
});

describe('per-example clipping (Optax per_example_global_norm_clip)', () => {
  test('hand-worked batch of two: one example clipped, sums over the batch', async () => {
    const clipper = await cpuClipper();
    // Example 0 is [3, 4 | 12] (norm 13), example 1 is [0, 1 | 0] (norm 1).
    const a = new Float32Array([3, 4, 0, 1]);
    const b = new Float32Array([12, 0]);
    const { sum, numClipped } = clipper.clipPerExample(clipper.gradients([a, b]), { batchSize: 2, maxNorm: 1.3 });
    expect(await numClipped.read()).toBe(1);
    expect(await numClipped.readFoundInf()).toBe(false);
    close(sum[0] as Float32Array, [0.3, 1.4]);
    close(sum[1] as Float32Array, [1.2]);
    // The sums are also a set of the clipper, the same list every call.
    expect(sum.viewCount).toBe(2);
    expect(await clipper.getTotalNorm(sum).read()).toBeCloseTo(Math.sqrt(0.09 + 1.96 + 1.44), 6);
    expect(clipper.clipPerExample(clipper.gradients([a, b]), { batchSize: 2, maxNorm: 1.3 }).sum).not.toBe(sum); // another set

    // The inputs are left as they were.
    expect(Array.from(a)).toEqual([3, 4, 0, 1]);
  });

  test("multiplier: Opacus's min(1, maxNorm / (norm + 1e-6)), 1 for a zero or NaN norm", () => {
    expect(perExampleMultiplier(13, 1.3)).toBe(1.3 / (13 + 1e-6));
    expect(perExampleMultiplier(1.3, 1.3)).toBeLessThan(1); // at the bound: clipped by 1e-6, as Opacus counts it
    expect(perExampleMultiplier(1, 1.3)).toBe(1);
    expect(perExampleMultiplier(0, 1)).toBe(1);
    expect(perExampleMultiplier(NaN, 1)).toBe(1);
    expect(perExampleMultiplier(Infinity, 1)).toBe(0);
  });
});

describe('AGC (Brock et al. 2021)', () => {
  test('unit-wise over rows, with the eps floor for a zero row of weights', async () => {
    const clipper = await cpuClipper();
    const g = new Float32Array([3, 4, 0.001, 0]);
    const w = new Float32Array([1, 0, 0, 0]);
    const grads = clipper.gradients([{ data: g, shape: [2, 2] }]);
    const params = clipper.gradients([{ data: w, shape: [2, 2] }]);
    const total = clipper.adaptiveGradClip(grads, params, { clipping: 0.01, eps: 1e-3 });
    expect(await total.read()).toBe(Math.fround(Math.sqrt(25 + 1e-6)));
    // Row 0: ‖g‖ = 5 > 0.01 · 1, coefficient 0.01 / 5. Row 1: ‖g‖ = 1e-3 > 0.01 · max(0, 1e-3), coefficient 1e-5 / 1e-3.
    close(g, [0.006, 0.008, 1e-5, 0], 1e-6);
    expect(Array.from(w)).toEqual([1, 0, 0, 0]);
  });

  test('a view without a shape is one unit; units under the bound keep their bits', async () => {
    const clipper = await cpuClipper();
    const g = new Float32Array([0.003, 0.004]);
    const w = new Float32Array([3, 4]);
    clipper.adaptiveGradClip(clipper.gradients([g]), clipper.gradients([w]));
    expect(Array.from(g)).toEqual([Math.fround(0.003), Math.fround(0.004)]);
    expect(agcCoefficient(5, 100, 0.01, 1e-3)).toBeCloseTo(0.2, 15);
    expect(agcCoefficient(0.5, 100, 0.01, 1e-3)).toBe(1);
    expect(agcCoefficient(NaN, 1, 0.01, 1e-3)).toBeNaN();
  });
});

describe('AutoClip (Seetharaman et al. 2020)', () => {
  test('numpy linear percentile', () => {
    expect(percentileReference([4, 1, 3, 2], 10)).toBeCloseTo(1.3, 14);
    expect(percentileReference([4, 1, 3, 2], 50)).toBe(2.5);
    expect(percentileReference([4, 1, 3, 2], 100)).toBe(4);
    expect(percentileReference([7], 10)).toBe(7);
  });

  test("the threshold ranks this step's norm with the history, which forgets the oldest", () => {
    const rule = new AutoClipRule(50, 3);
    expect([1, 3, 2, 10].map((n) => rule.observe(n))).toEqual([1, 2, 2, 3]);
    expect(rule.observe(NaN)).toBe(3); // not recorded
  });

  test('on the CPU backend a step clips at the threshold', async () => {
    const clipper = await cpuClipper();
    const g = new Float32Array([3, 4]);
    const auto = createAutoClip(clipper, clipper.gradients([g]), { percentile: 50, history: 3 });
    for (const norm of [1, 3]) {
      g.set([0, norm]);
      const handle = auto.step();
      expect(await handle.read()).toBe(norm);
    }
    // Step 2: history [1, 3], median 2: the norm 3 is clipped to 2 / (3 + 1e-6).
    close(g, [0, (3 * 2) / 3.000001]);
    expect(await auto.threshold()).toBe(2);
  });
});

describe('ZClip (Kumar et al. 2025)', () => {
  test('warm-up mean and variance, then z-score clipping with the EMA fed the clipped norm', () => {
    const rule = new ZClipRule({ alpha: 0.5, zThreshold: 1, warmupSteps: 2, mode: 'zscore' });
    expect(rule.observe(1)).toBe(Infinity);
    expect(rule.observe(3)).toBe(Infinity);
    expect([rule.mean, rule.variance]).toEqual([2, 1]);
    // z = (10 - 2) / (1 + 1e-6) > 1: clipped to 2 + 1 · 1; EMA: mean 2.5, variance 0.5 + 0.5 · 0.5².
    expect(rule.observe(10)).toBe(3);
    expect(rule.mean).toBe(2.5);
    expect(rule.variance).toBe(0.625);
    expect(rule.observe(2.5)).toBe(Infinity);
    expect(rule.mean).toBe(2.5);
    expect(rule.variance).toBe(0.3125);
  });

  test("'adaptive' clips a spike to mean + z² · std / z", () => {
    const rule = new ZClipRule({ alpha: 0.5, zThreshold: 1, warmupSteps: 2, mode: 'adaptive' });
    rule.observe(1);
    rule.observe(3);
    const z = 8 / (1 + 1e-6);
    expect(rule.observe(10)).toBeCloseTo(2 + 1 / z, 14);
  });

  test('non-finite norms change nothing; stats during warm-up are those of the norms so far', async () => {
    const clipper = await cpuClipper();
    const g = new Float32Array([0, 2]);
    const zclip = createZClip(clipper, clipper.gradients([g]), { warmupSteps: 3 });
    expect(await zclip.stats()).toEqual({ mean: NaN, std: NaN });
    zclip.step();
    g[1] = NaN;
    const handle = zclip.step({ onNonfinite: 'skip' });
    expect(await handle.readFoundInf()).toBe(true);
    expect(g[1]).toBeNaN();
    expect(await zclip.stats()).toEqual({ mean: 2, std: 0 });
  });
});

describe('bad options throw before anything changes', () => {
  test.each([
    ['percentile -1', { percentile: -1 }, /percentile must be a number in \[0, 100\]/],
    ['percentile 101', { percentile: 101 }, /percentile/],
    ['percentile NaN', { percentile: NaN }, /percentile/],
    ['history 0', { history: 0 }, /history must be an integer in \[1, 4096\]/],
    ['history 5000', { history: 5000 }, /history/],
  ])('AutoClip %s', async (_, options, message) => {
    const clipper = await cpuClipper();
    const set = clipper.gradients([new Float32Array([1])]);
    expect(() => createAutoClip(clipper, set, options)).toThrow(message);
  });

  test.each([
    ['alpha 0', { alpha: 0 }, /alpha must be a number in \(0, 1\)/],
    ['alpha 1', { alpha: 1 }, /alpha/],
    ['alpha 1.5', { alpha: 1.5 }, /alpha/],
    ['zThreshold 0', { zThreshold: 0 }, /zThreshold/],
    ['warmupSteps 0', { warmupSteps: 0 }, /warmupSteps/],
    ['mode', { mode: 'median' as 'zscore' }, /mode must be 'zscore' or 'adaptive'/],
  ])('ZClip %s', async (_, options, message) => {
    const clipper = await cpuClipper();
    const set = clipper.gradients([new Float32Array([1])]);
    expect(() => createZClip(clipper, set, options)).toThrow(message);
  });

  test('batchSize must divide every view; gradients unchanged', async () => {
    const clipper = await cpuClipper();
    const a = new Float32Array([1, 2, 3, 4]);
    const b = new Float32Array([5, 6, 7]);
    const set = clipper.gradients([a, b]);
    expect(() => clipper.clipPerExample(set, { batchSize: 2, maxNorm: 1 })).toThrow(
      /batchSize 2 does not divide views\[1\]'s length 3/,
    );
    expect(() => clipper.clipPerExample(set, { batchSize: 0, maxNorm: 1 })).toThrow(GradclipError);
    expect(() => clipper.clipPerExample(set, { batchSize: 1, maxNorm: -1 })).toThrow(/maxNorm/);
    expect(Array.from(a)).toEqual([1, 2, 3, 4]);
  });

  test('a shape must match the length', async () => {
    const clipper = await cpuClipper();
    expect(() => clipper.gradients([{ data: new Float32Array(5), shape: [2, 3] }])).toThrow(
      /views\[0\]\.shape \[2, 3\] holds 6 elements but the view's length is 5/,
    );
    expect(() =>
      clipper.gradients([{ data: new Float32Array(6), shape: [2, -3] as unknown as [number, number] }]),
    ).toThrow(/shape/);
  });

  test('AGC: sets must match view for view, clipping > 0', async () => {
    const clipper = await cpuClipper();
    const g = new Float32Array([1, 2, 3, 4]);
    const grads = clipper.gradients([{ data: g, shape: [2, 2] }]);
    const flat = clipper.gradients([new Float32Array(4)]);
    const short = clipper.gradients([new Float32Array(3)]);
    expect(() => clipper.adaptiveGradClip(grads, flat)).toThrow(/does not match params views\[0\]/);
    expect(() => clipper.adaptiveGradClip(grads, grads)).toThrow(/two different sets/);
    expect(() => clipper.adaptiveGradClip(grads, short)).toThrow(/does not match/);
    const params = clipper.gradients([{ data: new Float32Array(4), shape: [2, 2] }]);
    expect(() => clipper.adaptiveGradClip(grads, params, { clipping: 0 })).toThrow(
      /clipping must be a number in \(0, Infinity\)/,
    );
    expect(() => clipper.adaptiveGradClip(grads, params, { eps: -1 })).toThrow(/eps/);
    expect(Array.from(g)).toEqual([1, 2, 3, 4]);
  });
});
