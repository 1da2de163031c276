// The optimizer's float64 reference against PyTorch's formulas worked by hand, the CPU backend's
// optimizer, and bad settings rejected before anything is made.
import { describe, expect, test } from 'vitest';
import { createClipper, createOptimizer } from 'gradclip';
import { OptimizerReference, type OptimizerSettings } from 'gradclip/reference';

const base: OptimizerSettings = {
  kind: 'sgd',
  lr: 0.1,
  momentum: 0,
  dampening: 0,
  nesterov: false,
  betas: [0.9, 0.999],
  eps: 1e-8,
  weightDecay: 0,
  clip: null,
};

function run(settings: Partial<OptimizerSettings>, grads: number[][], start = 1): number[] {
  const reference = new OptimizerReference({ ...base, ...settings }, [1]);
  const p = [Float64Array.of(start)];
  return grads.map((g) => {
    reference.apply(p, [g]);
    return p[0][0];
  });
}

describe('PyTorch formulas, by hand', () => {
  test('SGD: plain, momentum (the buffer starts as the gradient), nesterov, weight decay, dampening', () => {
    expect(run({}, [[0.5]])[0]).toBeCloseTo(0.95, 15);
    const momentum = run({ momentum: 0.9 }, [[0.5], [0.5]]);
    expect(momentum[0]).toBeCloseTo(0.95, 15);
    expect(momentum[1]).toBeCloseTo(0.95 - 0.1 * (0.9 * 0.5 + 0.5), 15);
    // nesterov: d = g + μ·buf, buf = g on the first step.
    expect(run({ momentum: 0.9, nesterov: true }, [[0.5]])[0]).toBeCloseTo(1 - 0.1 * (0.5 + 0.9 * 0.5), 15);
    expect(run({ weightDecay: 0.2 }, [[0.5]])[0]).toBeCloseTo(1 - 0.1 * (0.5 + 0.2), 15);
    const damped = run({ momentum: 0.9, dampening: 0.5 }, [[0.5], [0.5]]);
    expect(damped[1]).toBeCloseTo(0.95 - 0.1 * (0.9 * 0.5 + 0.5 * 0.5), 15);
  });

  test('Adam: the first step moves by lr · g / (|g| + eps); AdamW decays the weight first', () => {
    expect(run({ kind: 'adam' }, [[0.5]])[0]).toBeCloseTo(1 - 0.1 * (0.5 / (0.5 + 1e-8)), 12);
    // Step 2 with g = 0.5 then 0.25: m = 0.9·0.05 + 0.025, v = 0.999·0.00025 + 0.001·0.0625.
    const two = run({ kind: 'adam' }, [[0.5], [0.25]]);
    const m = 0.9 * 0.05 + 0.1 * 0.25;
    const v = 0.999 * 0.001 * 0.25 + 0.001 * 0.0625;
    const mHat = m / (1 - 0.9 ** 2);
    const vHat = v / (1 - 0.999 ** 2);
    expect(two[1]).toBeCloseTo(two[0] - (0.1 * mHat) / (Math.sqrt(vHat) + 1e-8), 12);
    expect(run({ kind: 'adamw', weightDecay: 0.1 }, [[0.5]])[0]).toBeCloseTo(
      1 * (1 - 0.01) - 0.1 * (0.5 / (0.5 + 1e-8)),
      12,
    );
    expect(run({ kind: 'adam', weightDecay: 0.1 }, [[0.5]])[0]).toBeCloseTo(1 - 0.1 * (0.6 / (0.6 + 1e-8)), 12);
  });

  test('clipping first: by norm (PyTorch coefficient) and by value; a NaN step changes nothing', () => {
    // Norm 5 clipped to 1: g·1/(5 + 1e-6).
    const reference = new OptimizerReference({ ...base, clip: { maxNorm: 1, normType: 2 } }, [2]);
    const p = [Float64Array.of(0, 0)];
    expect(reference.apply(p, [[3, 4]])).toEqual({ norm: 5, skipped: false });
    expect(p[0][0]).toBeCloseTo((-0.1 * 3) / (5 + 1e-6), 15);
    expect(run({ clip: { value: 0.2 } }, [[0.5]])[0]).toBeCloseTo(0.98, 15);
    const skipping = new OptimizerReference({ ...base, kind: 'adam' }, [1]);
    const q = [Float64Array.of(1)];
    expect(skipping.apply(q, [[NaN]])).toEqual({ norm: NaN, skipped: true });
    expect([q[0][0], skipping.step]).toEqual([1, 0]);
  });
});

test('the CPU backend runs the reference on Float32Arrays; bad settings throw first', async () => {
  const clipper = await createClipper({ forceCpu: true });
  const w = new Float32Array([1, -1]);
  const g = new Float32Array([0.5, 0.5]);
  const optimizer = createOptimizer(clipper, {
    params: clipper.gradients([w]),
    grads: clipper.gradients([g]),
    kind: 'sgd',
    lr: 0.1,
    momentum: 0.9,
  });
  expect(await optimizer.step().read()).toBeCloseTo(Math.SQRT1_2, 7);
  optimizer.step({ lr: 0.05 });
  // Step 1: w = 1 − 0.1·0.5; step 2 at lr 0.05: the buffer is 0.9·0.5 + 0.5.
  expect(w[0]).toBeCloseTo(Math.fround(Math.fround(1 - 0.1 * 0.5) - 0.05 * (0.9 * 0.5 + 0.5)), 7);
  const state = await optimizer.state();
  expect(state.step).toBe(2);
  expect(state.first[0][0]).toBeCloseTo(0.95, 7);
  const sets = { params: clipper.gradients([w]), grads: clipper.gradients([g]) };
  expect(() => createOptimizer(clipper, { ...sets, kind: 'rmsprop' as 'sgd', lr: 1 })).toThrow(/kind must be/);
  expect(() => createOptimizer(clipper, { ...sets, kind: 'adam', lr: 1, eps: -1 })).toThrow(
    /eps must be a number in \[0, Infinity\)/,
  );
  expect(() => createOptimizer(clipper, { ...sets, kind: 'sgd', lr: 1, dampening: 2 })).toThrow(
    /dampening must be a number in \[0, 1\]/,
  );
  expect(() =>
    createOptimizer(clipper, { ...sets, params: clipper.gradients([new Float32Array(3)]), kind: 'sgd', lr: 1 }),
  ).toThrow(/has 2 elements but params views\[0\] has 3/);
  expect(() => optimizer.step({ encoder: {} as GPUCommandEncoder })).toThrow(/WebGPU backend only/);
});
