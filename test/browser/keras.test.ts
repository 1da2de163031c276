// gradclip/tfjs in model.fit: a small tf.sequential model trained 50 steps with each Keras clipping
// option through clippedOptimizer ends with the same weights (1e-5 relative) as the same model
// stepped by hand with the clip written in TF.js ops (Keras 3's formulas, written out here) and
// the same TF.js optimizer: on the WebGPU backend (the clip in place on the GPU) and on TF.js's
// CPU backend (the clip in TF.js ops).
import * as tfl from '@tensorflow/tfjs-layers';
import type * as TF from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from 'vitest';
import { createClipper, type Clipper } from 'gradclip';
import { type ClippedOptimizer, clippedOptimizer, type KerasClipOptions } from 'gradclip/tfjs';
import { tfjsOn } from '../../demo/tfjs-device';
import { sharedDevice, withErrorScopes } from './gpu';

const STEPS = 50;
let device: GPUDevice;
let tf: typeof TF;
let clipper: Clipper;
beforeAll(async () => {
  device = await sharedDevice();
  tf = await tfjsOn(device);
  await import('@tensorflow/tfjs-core/dist/register_all_gradients');
  await import('@tensorflow/tfjs-backend-cpu'); // registers TF.js's 'cpu' backend
  clipper = await createClipper({ device, maxWorkgroups: 8 });
});

function model(): tfl.Sequential {
  const m = tfl.sequential({
    layers: [
      tfl.layers.dense({
        units: 8,
        inputShape: [6],
        activation: 'tanh',
        kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }),
      }),
      tfl.layers.dense({ units: 2, kernelInitializer: tfl.initializers.glorotUniform({ seed: 2 }) }),
    ],
  });
  return m;
}

/** Keras 3's clipping, written out in TF.js ops (independently of gradclip/tfjs). */
function kerasClip(grads: TF.Tensor[], options: KerasClipOptions): TF.Tensor[] {
  return tf.tidy(() => {
    if (options.clipvalue !== undefined)
      return grads.map((g) => tf.clipByValue(g, -options.clipvalue!, options.clipvalue!));
    if (options.clipnorm !== undefined) {
      const c = options.clipnorm;
      return grads.map((g) => tf.div(tf.mul(g, c), tf.maximum(tf.norm(g), c)));
    }
    const c = options.globalClipnorm!;
    const norm = tf.sqrt(tf.addN(grads.map((g) => tf.sum(tf.square(g)))));
    return grads.map((g) => tf.mul(g, tf.mul(c, tf.minimum(tf.div(1, norm), 1 / c))));
  });
}

async function expectSameWeights(a: tfl.Sequential, b: tfl.Sequential) {
  const [wa, wb] = [a.getWeights(), b.getWeights()];
  expect(wa.length).toBe(wb.length);
  for (let i = 0; i < wa.length; i++) {
    const [x, y] = [await wa[i].data(), await wb[i].data()];
    y.forEach((v, k) =>
      expect(Math.abs(x[k] - v), `weight ${i}[${k}]: ${x[k]} vs ${v}`).toBeLessThanOrEqual(1e-5 * Math.abs(v) + 1e-7),
    );
  }
}

/** Trains one model with model.fit + clippedOptimizer and a twin by hand; both with plain SGD at lr 0.2. */
async function fitAndReference(options: KerasClipOptions, withClipper: Clipper | null) {
  const x = tf.randomNormal([32, 6], 0, 2, 'float32', 3);
  const y = tf.randomNormal([32, 2], 0, 1, 'float32', 4);
  const fitted = model();
  const optimizer = clippedOptimizer(withClipper, tf.train.sgd(0.2), options);
  fitted.compile({ optimizer, loss: 'meanSquaredError' });
  const twin = model();
  twin.setWeights(fitted.getWeights());
  await fitted.fit(x, y, { epochs: STEPS, batchSize: 32, shuffle: false, verbose: 0 });

  const reference = tf.train.sgd(0.2);
  const variables = twin.trainableWeights.map((w) => w.read() as TF.Variable);
  let firstNorm = NaN;
  for (let step = 0; step < STEPS; step++) {
    const { value, grads } = tf.variableGrads(
      () => tf.losses.meanSquaredError(y, twin.apply(x) as TF.Tensor) as TF.Scalar,
      variables,
    );
    const names = variables.map((v) => v.name);
    if (step === 0) firstNorm = (await tf.sqrt(tf.addN(names.map((n) => tf.sum(tf.square(grads[n]))))).data())[0];
    const clipped = kerasClip(
      names.map((n) => grads[n]),
      options,
    );
    reference.applyGradients(names.map((name, i) => ({ name, tensor: clipped[i] })));
    tf.dispose([value, ...Object.values(grads), ...clipped]);
  }
  await expectSameWeights(fitted, twin);
  tf.dispose([x, y]);
  return { firstNorm, optimizer };
}

describe.each<[string, KerasClipOptions]>([
  ['globalClipnorm', { globalClipnorm: 0.05 }],
  ['clipnorm', { clipnorm: 0.02 }],
  ['clipvalue', { clipvalue: 0.01 }],
])('clippedOptimizer with %s in model.fit', (_, options) => {
  test('WebGPU backend, clipped in place on the GPU: the weights equal the TF.js-ops reference', async () => {
    await tfjsOn(device);
    await withErrorScopes(device, async () => {
      const { firstNorm, optimizer } = await fitAndReference(options, clipper);
      expect(firstNorm).toBeGreaterThan(0.1); // every option clips on the first steps
      if (options.clipvalue === undefined) expect(await optimizer.lastNorm!.read()).toBeGreaterThan(0);
      await submitted();
    });
  });

  test("TF.js's CPU backend, clipped with TF.js ops: the same weights", async () => {
    await tf.setBackend('cpu');
    try {
      await fitAndReference(options, clipper);
    } finally {
      await tfjsOn(device);
    }
  });
});

async function submitted() {
  await device.queue.onSubmittedWorkDone();
}

test('onNorm reads the gradient norm once every logEvery steps, and lastNorm without a stall', async () => {
  await tfjsOn(device);
  const calls: Array<[number, number]> = [];
  const x = tf.randomNormal([16, 6], 0, 2, 'float32', 5);
  const y = tf.randomNormal([16, 2], 0, 1, 'float32', 6);
  const m = model();
  const optimizer = clippedOptimizer(clipper, tf.train.sgd(0.1), {
    globalClipnorm: 0.5,
    logEvery: 10,
    onNorm: (norm, step) => calls.push([norm, step]),
  });
  m.compile({ optimizer, loss: 'meanSquaredError' });
  await m.fit(x, y, { epochs: 30, batchSize: 16, shuffle: false, verbose: 0 });
  const last = await optimizer.lastNorm!.read();
  await new Promise((settle) => setTimeout(settle, 50)); // the last onNorm read settles
  expect(calls.map(([, step]) => step)).toEqual([10, 20, 30]);
  expect(calls.every(([norm]) => norm > 0)).toBe(true);
  expect(calls[2][0]).toBe(last);
  tf.dispose([x, y]);
});

test('model.save with the optimizer, then loadLayersModel: training resumes as if never interrupted', async () => {
  await tfjsOn(device);
  const x = tf.randomNormal([32, 6], 0, 2, 'float32', 7);
  const y = tf.randomNormal([32, 2], 0, 1, 'float32', 8);
  const trained = model();
  trained.compile({
    optimizer: clippedOptimizer(clipper, tf.train.adam(0.05), { globalClipnorm: 0.05 }),
    loss: 'meanSquaredError',
  });
  const train10 = (m: tfl.LayersModel) => m.fit(x, y, { epochs: 10, batchSize: 32, shuffle: false, verbose: 0 });
  await train10(trained);
  let saved: TF.io.ModelArtifacts | null = null;
  await trained.save(
    tf.io.withSaveHandler(async (artifacts) => {
      saved = artifacts;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
    { includeOptimizer: true },
  );
  const restored = await tfl.loadLayersModel(tf.io.fromMemory(saved!));
  expect(restored.optimizer.getClassName()).toBe('GradclipClippedOptimizer');
  expect(restored.optimizer.getConfig()).toMatchObject({ globalClipnorm: 0.05, inner: { className: 'Adam' } });
  (restored.optimizer as ClippedOptimizer).clipper = clipper; // restored without one: clip on the GPU again
  // TF.js's Adam recomputes its bias-correction powers with pow() on setWeights, where training
  // keeps a running product: put the uninterrupted model's optimizer through the same step, so
  // what remains to compare is what saving and loading carried.
  await trained.optimizer.setWeights(await trained.optimizer.getWeights());
  await train10(trained);
  await train10(restored); // Adam's moments and step came back with the weights
  await expectSameWeights(trained as tfl.Sequential, restored as tfl.Sequential);
  tf.dispose([x, y]);
});

test('the TF.js-ops global clip on WebGPU over more gradients than a shader can bind (24): no validation error, the float64 norm', async () => {
  const { clipWithOps } = await import('gradclip/tfjs');
  const lengths = Array.from({ length: 24 }, (_, i) => 3 + 5 * i);
  const values = lengths.map((n, t) => Float32Array.from({ length: n }, (_, i) => Math.sin(t * 7 + i)));
  const named = values.map((v, i) => ({ name: `g${i}`, tensor: tf.tensor1d(v) }));
  const clipped = await withErrorScopes(device, async () => {
    const out = clipWithOps(named, { kind: 'global', limit: 1 });
    return Promise.all(out.map(async ({ tensor }) => (await tensor.data()) as Float32Array));
  });
  const norm = Math.sqrt(values.reduce((sum, v) => sum + v.reduce((s, x) => s + x * x, 0), 0));
  expect(norm).toBeGreaterThan(1);
  clipped.forEach((v, t) => v.forEach((x, i) => expect(x).toBeCloseTo(values[t][i] / norm, 6)));
  tf.dispose(named.map((n) => n.tensor));
});
