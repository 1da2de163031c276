// The README's browser examples, run as written (test/node/readme-examples.test.ts keeps each equal
// to its README block): the Vite app's main.ts, the Quick start's raw WebGPU loop against the
// float64 reference, and the documented TF.js per-step pattern for 1 000 steps with every GPU
// buffer anyone creates counted, so a set built each step cannot leak unnoticed. Then the guides'
// loops: mixed precision (amp-loop.ts) and DP-SGD (dp-loop.ts), each against the float64 reference.
import { afterEach, expect, test, vi } from 'vitest';
import { OptimizerReference, perExampleReference, totalNormReference } from '../../src/reference/index';
import { knownGradients, run as runWebGPULoop } from '../../examples/webgpu-loop';
import { knownGradient, OVERFLOW_STEP, run as runAmpLoop } from '../../examples/amp-loop';
import {
  CAPACITY,
  DATASET_SIZE,
  DELTA,
  dataset,
  EXPECTED_BATCH,
  FEATURES,
  LR,
  MAX_NORM,
  run as runDpLoop,
  runCustom as runDpCustom,
  TARGET_EPSILON,
} from '../../examples/dp-loop';
import { createRdpAccountant, getNoiseMultiplier } from '../../src/index';
import { run as runTfjsFit } from '../../examples/tfjs-fit';
import { load as loadWithStoredTuning } from '../../examples/stored-tuning';
import { run as runTfjsLoop, type TfjsLoopRead } from '../../examples/tfjs-loop';
import { tfjsOn } from '../../demo/tfjs-device';
import { countLiveBytes } from '../shared/live-bytes';
import { sharedDevice, withErrorScopes } from './gpu';

afterEach(() => {
  vi.restoreAllMocks();
});

test('examples/vite-main.ts (the Vite app) prints 5', async () => {
  const log = vi.spyOn(console, 'log');
  await import('../../examples/vite-main');
  expect(log).toHaveBeenCalledWith(5);
});

test('examples/webgpu-loop.ts (Quick start): 300 steps, each norm read matches float64, the last step clipped to norm 1', async () => {
  const device = await sharedDevice();
  const steps = 300;
  const { norms, lastClipped } = await withErrorScopes(device, () => runWebGPULoop(device, { steps }));
  // The loop reads at steps 0, 100 and 200: the stand-in backward's three scales in turn.
  const readSteps = [0, 100, 200];
  expect(norms.length).toBe(readSteps.length);
  readSteps.forEach((step, i) => {
    const expected = totalNormReference(knownGradients(step), 2);
    expect(Math.abs(norms[i] - expected) / expected, `norm at step ${step}: ${norms[i]} vs ${expected}`).toBeLessThan(
      1e-5,
    );
  });
  expect(norms[0]).toBeLessThan(1); // the no-clip scale is there too
  // The optimizer stand-in saw the last step's gradients scaled by maxNorm / (norm + 1e-6).
  const last = knownGradients(steps - 1);
  const norm = totalNormReference(last, 2);
  expect(norm).toBeGreaterThan(1);
  const coefficient = 1 / (norm + 1e-6);
  expect(lastClipped.length).toBe(last.length);
  last.forEach((values, t) =>
    values.forEach((g, k) =>
      expect(Math.abs(lastClipped[t][k] - g * coefficient), `tensor ${t} element ${k}`).toBeLessThanOrEqual(
        2e-6 * Math.abs(g * coefficient) + 1e-12,
      ),
    ),
  );
  expect(totalNormReference(lastClipped, 2)).toBeCloseTo(1, 5);
});

test('examples/tfjs-loop.ts (a set per step over TF.js gradients): 1 000 steps, live GPU bytes flat after step 100', async () => {
  const device = await sharedDevice();
  const counter = countLiveBytes(device);
  const MiB = 1024 * 1024;
  let liveAt100 = NaN;
  let liveAt1000 = NaN;
  let createdAt100 = new Map<string, number>();
  let createdAt1000 = new Map<string, number>();
  let reads: TfjsLoopRead[];
  try {
    reads = await withErrorScopes(device, () =>
      runTfjsLoop(device, {
        steps: 1000,
        onStep: (done) => {
          if (done === 100) [liveAt100, createdAt100] = [counter.liveBytes, counter.createdByLabel()];
          if (done === 1000) [liveAt1000, createdAt1000] = [counter.liveBytes, counter.createdByLabel()];
        },
      }),
    );
  } finally {
    counter.restore();
  }
  const createdAfter100 = [...createdAt1000]
    .map(([label, n]) => [label, n - (createdAt100.get(label) ?? 0)] as const)
    .filter(([, n]) => n > 0);
  console.log(
    `tfjs-loop live GPU bytes: ${liveAt100} after step 100, ${liveAt1000} after step 1000 ` +
      `(growth ${liveAt1000 - liveAt100} B, ${((liveAt1000 - liveAt100) / 900).toFixed(1)} B/step); ` +
      `buffers created in steps 101-1000: ${createdAfter100.length ? createdAfter100.map(([l, n]) => `${l} ×${n}`).join(', ') : 'none'}`,
  );
  expect(liveAt1000 - liveAt100, 'live GPU bytes added between step 100 and step 1000').toBeLessThan(MiB);

  // The loop trained: the first gradients were clipped (norm above 1) and the loss came down.
  expect(reads.every((r) => Number.isFinite(r.loss) && Number.isFinite(r.norm))).toBe(true);
  expect(reads[0].norm).toBeGreaterThan(1);
  expect(reads[reads.length - 1].loss).toBeLessThan(reads[0].loss);
});

test('examples/tfjs-fit.ts (Quick start, model.fit with globalClipnorm): the loss falls and the last norm is read', async () => {
  const device = await sharedDevice();
  await tfjsOn(device); // TF.js on the clipper's device, so the clip runs in place on the GPU
  const { losses, lastNorm } = await withErrorScopes(device, () => runTfjsFit(device, { epochs: 20 }));
  expect(losses).toHaveLength(20);
  expect(losses[19]).toBeLessThan(losses[0]);
  expect(lastNorm).toBeGreaterThan(0);
});

test('examples/stored-tuning.ts (the clipping guide): the first load tunes and stores, a reload on a new device reuses it', async () => {
  localStorage.removeItem('gradclip-tuning');
  const devices: GPUDevice[] = [];
  try {
    for (const expected of ['autotune', 'stored'] as const) {
      const adapter = (await navigator.gpu.requestAdapter())!;
      const device = await adapter.requestDevice({
        requiredFeatures: adapter.features.has('timestamp-query') ? ['timestamp-query'] : [],
      });
      devices.push(device);
      const clipper = await loadWithStoredTuning(device);
      expect(clipper.tuning?.source).toBe(expected);
      expect(JSON.parse(localStorage.getItem('gradclip-tuning')!)).toMatchObject({
        maxWorkgroups: clipper.tuning!.maxWorkgroups,
        adapterKey: clipper.tuning!.adapterKey,
      });
      clipper.destroy();
    }
  } finally {
    localStorage.removeItem('gradclip-tuning');
    for (const device of devices) device.destroy();
  }
});

test('examples/amp-loop.ts (the mixed-precision guide): 8 scaled AdamW steps, the overflow step skipped and the scale backed off, parameters as the float64 reference', async () => {
  const device = await sharedDevice();
  const steps = 8;
  const { params, scale, stepsTaken } = await withErrorScopes(device, () => runAmpLoop(device, { steps }));
  expect(stepsTaken).toBe(steps - 1);
  expect(scale).toBe(2 ** 15);
  const settings = {
    kind: 'adamw' as const,
    lr: 3e-4,
    momentum: 0,
    dampening: 0,
    nesterov: false,
    betas: [0.9, 0.999] as [number, number],
    eps: 1e-8,
    weightDecay: 0.01,
    clip: { maxNorm: 1, normType: 2 },
  };
  const reference = new OptimizerReference(settings, [params.length]);
  const expected = [new Float64Array(params.length)];
  for (let step = 0; step < steps; step++) if (step !== OVERFLOW_STEP) reference.apply(expected, [knownGradient()]);
  expected[0].forEach((e, i) =>
    expect(Math.abs(params[i] - e), `params[${i}]`).toBeLessThanOrEqual(1e-5 * Math.abs(e) + 1e-9),
  );
});

/**
 * Checks a run of the privacy guide's loop (examples/dp-loop.ts): its seed (the one two-word
 * getRandomValues draw), its Poisson batches, σ and ε, and its parameters against the float64
 * reference of the same model with the same batches and the same noise.
 */
async function checkDpRun(name: string, runLoop: typeof runDpLoop) {
  const device = await sharedDevice();
  const random = vi.spyOn(crypto, 'getRandomValues');
  const steps = 200;
  const result = await withErrorScopes(device, () => runLoop(device, { steps }));
  // No seed given: one was drawn as two words (low, high) from getRandomValues, the only
  // two-word draw (the sampler draws DATASET_SIZE words a step).
  const draws = random.mock.results.map((r) => r.value as Uint32Array);
  const seedDraws = draws.filter((words) => words.length === 2);
  expect(seedDraws).toHaveLength(1);
  expect(draws.filter((words) => words.length === DATASET_SIZE)).toHaveLength(steps);
  const seed = (BigInt(seedDraws[0][1]) << 32n) | BigInt(seedDraws[0][0]);

  // Poisson batches: sizes vary around the expected batch, never above the capacity.
  const sizes = result.batches.map((b) => b.length);
  expect(sizes).toHaveLength(steps);
  expect(new Set(sizes).size).toBeGreaterThan(5);
  expect(Math.max(...sizes)).toBeLessThanOrEqual(CAPACITY);
  expect(Math.abs(sizes.reduce((a, b) => a + b, 0) / steps - EXPECTED_BATCH)).toBeLessThan(3);

  // σ is Opacus's get_noise_multiplier for the target; the accountant's ε is that of the steps taken.
  const sampleRate = EXPECTED_BATCH / DATASET_SIZE;
  expect(result.noiseMultiplier).toBe(
    getNoiseMultiplier({ targetEpsilon: TARGET_EPSILON, delta: DELTA, sampleRate, steps }),
  );
  const whole = createRdpAccountant();
  whole.step({ noiseMultiplier: result.noiseMultiplier, sampleRate, steps });
  expect(result.epsilon).toBe(whole.getEpsilon(DELTA).epsilon);
  expect(result.epsilon).toBeLessThanOrEqual(TARGET_EPSILON);
  expect(result.epsilon).toBeGreaterThan(TARGET_EPSILON - 0.01);

  // The float64 reference: the same model's per-example gradients at the reference's parameters,
  // clipped, summed, the noise of (seed, step n), divided, and SGD's update.
  const { features, targets } = dataset();
  const residual = (weights: ArrayLike<number>, bias: number, i: number) => {
    let r = bias - targets[i];
    for (let k = 0; k < FEATURES; k++) r += weights[k] * features[i * FEATURES + k];
    return r;
  };
  const settings = {
    kind: 'sgd' as const,
    lr: LR,
    momentum: 0,
    dampening: 0,
    nesterov: false,
    betas: [0.9, 0.999] as [number, number],
    eps: 1e-8,
    weightDecay: 0,
    clip: null,
  };
  const oracle = new OptimizerReference(settings, [FEATURES, 1]);
  const expected = [new Float64Array(FEATURES), new Float64Array(1)];
  result.batches.forEach((batch, n) => {
    const weightGrads = new Float64Array(CAPACITY * FEATURES);
    const biasGrads = new Float64Array(CAPACITY);
    batch.forEach((i, e) => {
      const r = residual(expected[0], expected[1][0], i);
      for (let k = 0; k < FEATURES; k++) weightGrads[e * FEATURES + k] = r * features[i * FEATURES + k];
      biasGrads[e] = r;
    });
    const noise = { std: result.noiseMultiplier * MAX_NORM, seed, step: n };
    const { sums } = perExampleReference([weightGrads, biasGrads], CAPACITY, MAX_NORM, {
      examples: batch.length,
      noise,
      divisor: EXPECTED_BATCH,
    });
    oracle.apply(expected, sums);
  });
  let worst = 0;
  [...expected[0], expected[1][0]].forEach((e, j) => {
    worst = Math.max(worst, Math.abs(result.params[j] - e));
    expect(Math.abs(result.params[j] - e), `params[${j}]`).toBeLessThanOrEqual(1e-5 * (1 + Math.abs(e)));
  });

  const loss = (params: ArrayLike<number>) => {
    let sum = 0;
    for (let i = 0; i < DATASET_SIZE; i++) sum += residual(params, params[FEATURES], i) ** 2 / 2;
    return sum / DATASET_SIZE;
  };
  const [before, after] = [loss(new Float64Array(FEATURES + 1)), loss(result.params)];
  console.log(
    `${name}: σ ${result.noiseMultiplier}, ε ${result.epsilon.toFixed(4)} at δ ${DELTA}, batch sizes ${Math.min(...sizes)}–${Math.max(...sizes)}, ` +
      `loss ${before.toFixed(4)} → ${after.toFixed(4)}, largest difference from float64 ${worst.toExponential(2)}`,
  );
  expect(after).toBeLessThan(0.1 * before);
  return result;
}

test('examples/dp-loop.ts (the privacy guide): 200 DP-SGD steps on Poisson batches, parameters as the float64 reference with the same noise, ε within the target, the loss down', async () => {
  const result = await checkDpRun('dp-loop', runDpLoop);
  expect(result.noiseStep).toBe(200);
});

test("examples/dp-loop.ts's custom loop (clipPerExample with the caller's seed and step, into the caller's buffer): the same checks", async () => {
  await checkDpRun('dp-loop custom', runDpCustom);
});
