// The private optimizer's cases (createOptimizer with `privacy`: DP-SGD) on any backend: each takes
// a `Tensors` backend and throws an Error naming what differed. Plain TypeScript with no test-runner
// import: test/node/privacy.test.ts runs the CPU backend's, test/browser/privacy.test.ts both
// backends' (Chromium and Firefox), test/deno/privacy.ts WebGPU's on Deno.
import { createGradScaler, createOptimizer, type OptimizerOptions } from 'gradclip';
import { OptimizerReference, perExampleReference } from 'gradclip/reference';
import { seededRandom } from './random';
import { expectClose, expectEqual, expectGradclipError, fail, type Tensors } from './tensors';

/** One example's lengths: a scalar, odd sizes, and one past a workgroup's reach. */
const EXAMPLE_LENGTHS = [1, 7, 300, 1029];
const BATCH = 5;

function randomValues(n: number, random: () => number, scale = 1): Float32Array {
  return Float32Array.from({ length: n }, () => (random() * 2 - 1) * scale);
}

/** A batch of per-example gradients, example-major per view; rows from `examples` on hold `padding`. */
function batchOf(random: () => number, examples: number, padding: number): Float32Array[] {
  return EXAMPLE_LENGTHS.map((n) => {
    const a = randomValues(n * BATCH, random, 0.3);
    a.fill(padding, n * examples);
    return a;
  });
}

/** Params and per-example gradients on `t`, and the float64 reference's copy of the params. */
function problem(t: Tensors, seed: number) {
  const random = seededRandom(seed);
  const initial = EXAMPLE_LENGTHS.map((n) => randomValues(n, random));
  const params = t.make(initial);
  const grads = t.make(batchOf(random, BATCH, 0));
  return { random, params, grads, reference: initial.map((a) => Float64Array.from(a)) };
}

/** Noise of a step, as the reference draws it: the same Philox stream as the kernels. */
interface Privacy {
  batchSize: number;
  maxNorm: number;
  noiseMultiplier: number;
  seed: bigint;
  divisor: number;
}

/**
 * Eight DP steps of SGD with momentum and of AdamW, batches of varying size (0 and all 5
 * included), padding rows of NaN or 1e30, a learning-rate schedule, every other step recorded into
 * one encoder: the parameters equal the float64 reference (per-example clip at maxNorm / (‖g‖ +
 * 1e-6), sum, N(0, (σ·C)²) from Philox (seed, step n), ÷ divisor, PyTorch's update) within the
 * accuracy of the kernels' normals.
 */
export async function stepsMatchReference(t: Tensors): Promise<void> {
  const examplesPerStep = [5, 3, 0, 5, 4, 1, 2, 5];
  for (const kind of ['sgd', 'adamw'] as const) {
    const { random, params, grads, reference } = problem(t, kind === 'sgd' ? 11 : 12);
    const privacy: Privacy = { batchSize: BATCH, maxNorm: 0.5, noiseMultiplier: 1.3, seed: 2n ** 40n + 7n, divisor: 4 };
    const settings = {
      kind,
      lr: 0.05,
      momentum: kind === 'sgd' ? 0.9 : 0,
      dampening: 0,
      nesterov: false,
      betas: [0.9, 0.999] as [number, number],
      eps: 1e-8,
      weightDecay: kind === 'adamw' ? 0.01 : 0,
      clip: null,
    };
    const optimizer = createOptimizer(t.clipper, {
      params: params.set,
      grads: grads.set,
      kind,
      lr: 0.05,
      ...(kind === 'sgd' ? { momentum: 0.9 } : {}),
      privacy,
    });
    const oracle = new OptimizerReference(settings, EXAMPLE_LENGTHS);
    for (let n = 0; n < examplesPerStep.length; n++) {
      const examples = examplesPerStep[n];
      const batch = batchOf(random, examples, n % 2 ? Number.NaN : 1e30);
      grads.write(batch);
      const lr = 0.05 / (1 + n);
      const recording = n % 2 ? t.encoder() : null;
      optimizer.step({ examples, lr, ...(recording?.options ?? {}) });
      recording?.submit();
      const noise = { std: privacy.noiseMultiplier * privacy.maxNorm, seed: privacy.seed, step: n };
      const sums = perExampleReference(batch, BATCH, privacy.maxNorm, { examples, noise, divisor: privacy.divisor });
      oracle.apply(reference, sums.sums, lr);
    }
    const after = await params.read();
    after.forEach((a, v) =>
      expectClose(Array.from(a), Array.from(reference[v]), 2e-5, 2e-5, `${kind}: params view ${v}`),
    );
    if (!(await params.sentinelsKept()) || !(await grads.sentinelsKept()))
      fail(`${kind}: an element outside the views changed`);
    expectEqual((await optimizer.state()).step, examplesPerStep.length, `${kind}: steps counted`);
    optimizer.destroy();
  }
}

/**
 * Step n draws clipPerExample's noise of { seed, step: n }, bit for bit: SGD with lr 1 from zero
 * parameters leaves −(the noisy mean), which a clipPerExample call with the same options gives.
 */
export async function noiseOfStepN(t: Tensors): Promise<void> {
  const { params, grads } = problem(t, 21);
  const zero = EXAMPLE_LENGTHS.map((n) => new Float32Array(n));
  const seed = 987654321987n;
  const privacy = { batchSize: BATCH, maxNorm: 0.7, noiseMultiplier: 0.9, seed, divisor: 3 };
  const optimizer = createOptimizer(t.clipper, { params: params.set, grads: grads.set, kind: 'sgd', lr: 1, privacy });
  for (let n = 0; n < 3; n++) {
    params.write(zero);
    optimizer.step({ examples: 4 });
    const stepped = await params.read();
    const { sum } = t.clipper.clipPerExample(grads.set, {
      batchSize: BATCH,
      maxNorm: 0.7,
      examples: 4,
      noise: { multiplier: 0.9, seed, step: n },
      divisor: 3,
    });
    const direct = await t.readViews(sum);
    stepped.forEach((a, v) =>
      a.forEach((x, i) => {
        if (!Object.is(x, -direct[v][i]) && !(x === 0 && direct[v][i] === 0))
          fail(`step ${n}: view ${v}[${i}] ${x}, clipPerExample's noisy sum ${direct[v][i]}`);
      }),
    );
  }
  optimizer.destroy();
}

/**
 * state() carries the noise step; setState resumes from it, so a restored optimizer draws step
 * n's noise at its next step, not step 0's again: the restored run ends where the straight one does.
 */
export async function resumeNoise(t: Tensors): Promise<void> {
  const seed = 5n;
  const privacy = { batchSize: BATCH, maxNorm: 1, noiseMultiplier: 2, seed, divisor: 1 };
  const run = async (restore: boolean) => {
    const { params, grads } = problem(t, 31);
    const options: OptimizerOptions = { params: params.set, grads: grads.set, kind: 'adam', lr: 0.01, privacy };
    let optimizer = createOptimizer(t.clipper, options);
    for (let n = 0; n < 3; n++) {
      if (n === 2 && restore) {
        const state = await optimizer.state();
        expectEqual(state.noiseStep, 2, 'noiseStep after two steps');
        optimizer.destroy();
        optimizer = createOptimizer(t.clipper, options);
        optimizer.setState(state);
      }
      optimizer.step();
    }
    const values = await params.read();
    optimizer.destroy();
    return values;
  };
  const straight = await run(false);
  const restored = await run(true);
  // The moments travel as float32 (the CPU backend keeps float64 ones): equal within that rounding.
  straight.forEach((a, v) => expectClose(Array.from(restored[v]), Array.from(a), 1e-7, 1e-6, `restored view ${v}`));
}

/** noiseMultiplier 0: clipping only, the reference's noiseless mean (Opacus with σ = 0). */
export async function withoutNoise(t: Tensors): Promise<void> {
  const { params, grads, reference } = problem(t, 41);
  const batch = batchOf(seededRandom(42), BATCH, 0);
  grads.write(batch);
  const privacy = { batchSize: BATCH, maxNorm: 0.2, noiseMultiplier: 0, seed: 1 };
  const optimizer = createOptimizer(t.clipper, { params: params.set, grads: grads.set, kind: 'sgd', lr: 0.5, privacy });
  optimizer.step();
  const settings = {
    kind: 'sgd' as const,
    lr: 0.5,
    momentum: 0,
    dampening: 0,
    nesterov: false,
    betas: [0.9, 0.999] as [number, number],
    eps: 1e-8,
    weightDecay: 0,
    clip: null,
  };
  const sums = perExampleReference(batch, BATCH, 0.2, { divisor: BATCH });
  new OptimizerReference(settings, EXAMPLE_LENGTHS).apply(reference, sums.sums);
  (await params.read()).forEach((a, v) =>
    expectClose(Array.from(a), Array.from(reference[v]), 1e-6, 1e-6, `view ${v}`),
  );
  optimizer.destroy();
}

/** Bad settings and steps are GradclipErrors naming the option; a refused step changes nothing. */
export async function privacyErrors(t: Tensors): Promise<void> {
  const { params, grads } = problem(t, 51);
  const base = { params: params.set, grads: grads.set, kind: 'sgd' as const, lr: 0.1 };
  const privacy = { batchSize: BATCH, maxNorm: 1, noiseMultiplier: 1 };
  const refused: Array<[string, () => unknown, RegExp]> = [
    [
      'a negative multiplier',
      () => createOptimizer(t.clipper, { ...base, privacy: { ...privacy, noiseMultiplier: -1 } }),
      /privacy\.noiseMultiplier/,
    ],
    [
      'an unknown privacy key',
      () => createOptimizer(t.clipper, { ...base, privacy: { ...privacy, sigma: 1 } as never }),
      /privacy\.sigma is not an option/,
    ],
    [
      'maxNorm 0',
      () => createOptimizer(t.clipper, { ...base, privacy: { ...privacy, maxNorm: 0 } }),
      /privacy\.maxNorm/,
    ],
    [
      'a seed past 2^64',
      () => createOptimizer(t.clipper, { ...base, privacy: { ...privacy, seed: 2n ** 64n } }),
      /privacy\.seed/,
    ],
    [
      'a divisor of 0',
      () => createOptimizer(t.clipper, { ...base, privacy: { ...privacy, divisor: 0 } }),
      /privacy\.divisor/,
    ],
    [
      'clip with privacy',
      () => createOptimizer(t.clipper, { ...base, clip: { maxNorm: 1 }, privacy }),
      /clip does not combine with privacy/,
    ],
    [
      'a batchSize that does not divide',
      () => createOptimizer(t.clipper, { ...base, privacy: { ...privacy, batchSize: 4 } }),
      /batchSize 4 does not divide/,
    ],
    [
      'params of the batch’s lengths',
      () => createOptimizer(t.clipper, { ...base, params: grads.set, grads: grads.set, privacy }),
      /grads views\[0\] has 1 elements but params views\[0\] has 5/,
    ],
  ];
  for (const [what, body, pattern] of refused) expectGradclipError(body, 'invalid-argument', pattern, what);
  expectGradclipError(
    () => createOptimizer(t.clipper, { ...base, scaler: createGradScaler(t.clipper), privacy }),
    'invalid-argument',
    /scaler does not combine with privacy/,
    'a scaler with privacy',
  );
  const optimizer = createOptimizer(t.clipper, { ...base, privacy });
  const before = await params.read();
  const steps: Array<[string, () => unknown, RegExp]> = [
    ['examples > batchSize', () => optimizer.step({ examples: BATCH + 1 }), /examples must be an integer in \[0, 5\]/],
    [
      'an unknown step key',
      () => optimizer.step({ timestampWrites: undefined, clip: 1 } as never),
      /options\.\w+ is not an option/,
    ],
    ['a negative lr', () => optimizer.step({ lr: -1 }), /lr/],
  ];
  for (const [what, body, pattern] of steps) expectGradclipError(body, 'invalid-argument', pattern, what);
  const after = await params.read();
  after.forEach((a, v) =>
    expectClose(Array.from(a), Array.from(before[v]), 0, 0, `params after refused steps, view ${v}`),
  );
  expectEqual((await optimizer.state()).noiseStep, 0, 'a refused step draws no noise step');
  optimizer.destroy();
}

/** Every case, by name, for a runner to register. */
export const PRIVACY_CASES: Record<string, (t: Tensors) => Promise<void>> = {
  'DP-SGD steps (SGD momentum, AdamW) of varying batch size, padding NaN or 1e30, against the float64 reference':
    stepsMatchReference,
  "step n draws clipPerExample's noise of { seed, step: n }, bit for bit": noiseOfStepN,
  'state() and setState carry the noise step': resumeNoise,
  'noiseMultiplier 0 clips and averages as the reference': withoutNoise,
  'bad privacy settings and steps throw GradclipErrors and change nothing': privacyErrors,
};
