// gradclip/tfjs's fusedOptimizer: gradclip's fused clip + SGD / Adam / AdamW (PyTorch's formulas)
// as a TF.js optimizer. 100 steps with known gradients (loss Σ w · g_t, so the gradient is g_t
// whatever w) equal the float64 reference, on the GPU (TF.js's variables updated in place) and on
// gradclip's CPU backend; getWeights / setWeights carry the state; model.fit trains with it.
import * as tfl from '@tensorflow/tfjs-layers';
import type * as TF from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from 'vitest';
import { createClipper, type Clipper } from 'gradclip';
import { OptimizerReference } from 'gradclip/reference';
import { fusedOptimizer, type FusedOptimizerOptions } from 'gradclip/tfjs';
import { tfjsOn } from '../../demo/tfjs-device';
import { randomGradient, relativeError, seededRandom } from '../shared/random';
import { sharedDevice, withErrorScopes } from './gpu';

let device: GPUDevice;
let tf: typeof TF;
let clipper: Clipper;
beforeAll(async () => {
  device = await sharedDevice();
  tf = await tfjsOn(device);
  await import('@tensorflow/tfjs-core/dist/register_all_gradients');
  await import('@tensorflow/tfjs-backend-cpu');
  clipper = await createClipper({ device, maxWorkgroups: 8 });
});

const SETTINGS: Array<[string, FusedOptimizerOptions]> = [
  ['adamw, globalClipnorm', { kind: 'adamw', lr: 0.01, betas: [0.9, 0.95], weightDecay: 0.1, globalClipnorm: 1 }],
  ['sgd with momentum, clipvalue', { kind: 'sgd', lr: 0.05, momentum: 0.9, clipvalue: 0.5 }],
];

/** 100 steps with gradient g_t at step t on variables of lengths 37 and 5; the float64 reference on the same. */
async function stepsAgainstReference(options: FusedOptimizerOptions, withClipper: Clipper | null, steps = 100) {
  const random = seededRandom(9);
  const initial = [randomGradient(37, random, 1), randomGradient(5, random, 1)];
  const variables = tf.tidy(() =>
    initial.map((w, i) => tf.variable(tf.tensor(w), true, `fused-${i}-${Math.random()}`)),
  );
  const optimizer = fusedOptimizer(withClipper, options);
  const { globalClipnorm, clipvalue, ...rest } = options;
  const reference = new OptimizerReference(
    {
      momentum: 0,
      dampening: 0,
      nesterov: false,
      betas: [0.9, 0.999],
      eps: 1e-8,
      weightDecay: options.kind === 'adamw' ? 0.01 : 0,
      ...rest,
      clip:
        globalClipnorm !== undefined
          ? { maxNorm: globalClipnorm, normType: 2 }
          : clipvalue !== undefined
            ? { value: clipvalue }
            : null,
    },
    initial.map((w) => w.length),
  );
  const params = initial.map((w) => Float64Array.from(w));
  for (let t = 0; t < steps; t++) {
    const g = initial.map((w) => randomGradient(w.length, random, t % 10 === 0 ? 30 : 1)); // spikes to clip
    const gTensors = g.map((values) => tf.tensor(values));
    optimizer.minimize(
      () => tf.addN(variables.map((v, i) => tf.sum(tf.mul(v, gTensors[i])))) as TF.Scalar,
      false,
      variables,
    );
    tf.dispose(gTensors);
    reference.apply(params, g);
  }
  for (let i = 0; i < variables.length; i++) {
    const got = await variables[i].data();
    params[i].forEach((want, k) =>
      expect(relativeError(got[k], want), `param ${i}[${k}]: ${got[k]} vs ${want}`).toBeLessThan(1e-4),
    );
  }
  return { optimizer, variables };
}

describe.each(SETTINGS)('fusedOptimizer (%s)', (_, options) => {
  test('on the GPU: 100 steps equal the float64 reference', async () => {
    await tfjsOn(device);
    await withErrorScopes(device, async () => {
      const { optimizer, variables } = await stepsAgainstReference(options, clipper);
      expect((await optimizer.getWeights())[0].name).toBe('iter');
      tf.dispose(variables);
      optimizer.dispose();
    });
  });

  test("on TF.js's CPU backend (gradclip's CPU backend): 100 steps equal the float64 reference", async () => {
    await tf.setBackend('cpu');
    try {
      const tensorsBefore = tf.memory().numTensors;
      const { optimizer, variables } = await stepsAgainstReference(options, clipper);
      tf.dispose(variables);
      optimizer.dispose();
      expect(tf.memory().numTensors).toBe(tensorsBefore); // no tensor left behind by 100 steps
    } finally {
      await tfjsOn(device);
    }
  });
});

test('getWeights / setWeights: a fresh optimizer given the state continues as the original', async () => {
  await tfjsOn(device);
  const make = (values: number[]) => tf.variable(tf.tensor1d(values), true, `resume-${Math.random()}`);
  const a = make([1, -2, 3, 0.5]);
  const b = make([1, -2, 3, 0.5]);
  const g = tf.tensor1d([0.3, -0.1, 0.7, 2]);
  const loss = (v: TF.Variable) => () => tf.sum(tf.mul(v, g)) as TF.Scalar;
  const first = fusedOptimizer(clipper, { kind: 'adam', lr: 0.1, globalClipnorm: 1 });
  const second = fusedOptimizer(clipper, { kind: 'adam', lr: 0.1, globalClipnorm: 1 });
  for (let i = 0; i < 3; i++) {
    first.minimize(loss(a), false, [a]);
    second.minimize(loss(b), false, [b]);
  }
  // A third optimizer on `b`, given `second`'s state, must continue exactly as `first` does on `a`.
  const resumed = fusedOptimizer(clipper, { kind: 'adam', lr: 0.1, globalClipnorm: 1 });
  const weights = await second.getWeights();
  expect(weights.map((w) => w.name).slice(0, 1)).toEqual(['iter']);
  await resumed.setWeights(weights);
  first.minimize(loss(a), false, [a]);
  resumed.minimize(loss(b), false, [b]);
  const [x, y] = [await a.data(), await b.data()];
  y.forEach((v, k) => expect(relativeError(x[k], v), `${x[k]} vs ${v}`).toBeLessThan(1e-6));
  tf.dispose([a, b, g]);
});

test('model.fit trains with the fused AdamW (clipped on the GPU)', async () => {
  await tfjsOn(device);
  const x = tf.randomNormal([32, 4], 0, 1, 'float32', 11);
  const y = tf.sum(x, 1, true);
  const m = tfl.sequential({
    layers: [tfl.layers.dense({ units: 8, inputShape: [4], activation: 'tanh' }), tfl.layers.dense({ units: 1 })],
  });
  m.compile({
    optimizer: fusedOptimizer(clipper, { kind: 'adamw', lr: 0.01, globalClipnorm: 1 }),
    loss: 'meanSquaredError',
  });
  const history = await m.fit(x, y, { epochs: 30, batchSize: 32, shuffle: false, verbose: 0 });
  const losses = history.history.loss as number[];
  expect(losses.every(Number.isFinite)).toBe(true);
  expect(losses[29]).toBeLessThan(0.7 * losses[0]);
  tf.dispose([x, y]);
});
