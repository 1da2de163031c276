// TF.js interop on one device: gradclip clips TF.js's own gradient tensors in place (no copy, no
// readback), equal to the same clip written with TF.js ops, and the clipped gradients go straight
// into a TF.js optimizer.
import { beforeAll, expect, test } from 'vitest';
import type * as TF from '@tensorflow/tfjs-core';
import { createClipper, gradientsFromTfjs, submitTfjsWork, type Clipper } from '../../src/index';
import { tfjsOn } from '../../demo/tfjs-device';
import { readBack, sharedDevice, withErrorScopes } from './gpu';

let device: GPUDevice;
let tf: typeof TF;
let clipper: Clipper;
beforeAll(async () => {
  device = await sharedDevice();
  tf = await tfjsOn(device);
  // tfjs-core alone has no gradients registered (the tfjs umbrella package imports these).
  await import('@tensorflow/tfjs-core/dist/register_all_gradients');
  clipper = await createClipper({ device, maxWorkgroups: 16 });
});

/** A small model's variables and the gradients of a loss, as tf.variableGrads gives them. */
function modelGradients(seed: number) {
  const w1 = tf.variable(tf.randomNormal([7, 5], 0, 1, 'float32', seed), true, `w1-${seed}`);
  const b1 = tf.variable(tf.randomNormal([5], 0, 1, 'float32', seed + 1), true, `b1-${seed}`);
  const w2 = tf.variable(tf.randomNormal([5, 3], 0, 1, 'float32', seed + 2), true, `w2-${seed}`);
  const x = tf.randomNormal([11, 7], 0, 3, 'float32', seed + 3);
  const { value, grads } = tf.variableGrads(
    () => tf.sum(tf.square(tf.matMul(tf.tanh(tf.add(tf.matMul(x, w1), b1)), w2))),
    [w1, b1, w2],
  );
  value.dispose();
  x.dispose();
  return { variables: [w1, b1, w2], grads };
}

/** The global-norm clip as a TF.js user writes it (PyTorch's coefficient). */
function tfjsClipByGlobalNorm(grads: TF.Tensor[], maxNorm: number): TF.Tensor[] {
  return tf.tidy(() => {
    const norm = tf.sqrt(tf.addN(grads.map((g) => tf.sum(tf.square(g)))));
    const coef = tf.where(tf.greater(norm, maxNorm), tf.div(maxNorm, tf.add(norm, 1e-6)), tf.scalar(1));
    return grads.map((g) => tf.mul(g, coef));
  });
}

async function expectClose(actual: TF.Tensor[], expected: TF.Tensor[], tolerance: number) {
  for (let i = 0; i < expected.length; i++) {
    const [a, e] = [await actual[i].data(), await expected[i].data()];
    expect(a.length).toBe(e.length);
    e.forEach((v, k) =>
      expect(Math.abs(a[k] - v), `tensor ${i} element ${k}`).toBeLessThanOrEqual(tolerance * Math.abs(v) + 1e-30),
    );
  }
}

test('clipGradNorm on tf.variableGrads gradients equals the TF.js global-norm clip, then applyGradients', async () => {
  await withErrorScopes(device, async () => {
    const { variables, grads } = modelGradients(3);
    const names = Object.keys(grads);
    const tensors = names.map((n) => grads[n]);
    const expected = tfjsClipByGlobalNorm(tensors, 1);
    const set = gradientsFromTfjs(clipper, grads);
    expect(set.viewCount).toBe(3);
    const norm = await clipper.clipGradNorm(set, 1).read();
    expect(norm).toBeGreaterThan(1); // the clip acted
    await expectClose(tensors, expected, 2e-6);

    // The clipped tensors are TF.js's own: an optimizer applies them like any gradients.
    const twins = variables.map((v, i) => tf.variable(v.clone(), true, `twin-${i}`));
    tf.train.sgd(0.1).applyGradients(grads);
    tf.train.sgd(0.1).applyGradients(Object.fromEntries(twins.map((twin, i) => [twin.name, expected[i]])));
    await expectClose(variables, twins, 1e-6);
    tf.dispose([...tensors, ...expected, ...variables, ...twins]);
  });
});

test('clipGradValue equals tf.clipByValue, bit for bit', async () => {
  await withErrorScopes(device, async () => {
    const { variables, grads } = modelGradients(8);
    const tensors = Object.values(grads);
    const expected = tf.tidy(() => tensors.map((g) => tf.clipByValue(g, -0.5, 0.5)));
    clipper.clipGradValue(gradientsFromTfjs(clipper, tensors), 0.5);
    await expectClose(tensors, expected, 0);
    tf.dispose([...tensors, ...expected, ...variables]);
  });
});

test("submitTfjsWork submits TF.js's queued ops (its open pass ended): our own commands then see their results", async () => {
  await withErrorScopes(device, async () => {
    const a = tf.tensor1d(Float32Array.from({ length: 1000 }, (_, i) => i));
    const b = tf.tensor1d(Float32Array.from({ length: 1000 }, (_, i) => 2 * i));
    const sum = tf.add(a, b); // queued in TF.js's open pass, not submitted
    submitTfjsWork(tf.backend());
    const buffer = (
      tf.backend() as unknown as { tensorMap: { get(id: object): { resource: GPUBuffer } } }
    ).tensorMap.get(sum.dataId).resource;
    const values = await readBack(device, buffer);
    for (let i = 0; i < 1000; i++) expect(values[i]).toBe(3 * i);
    tf.dispose([a, b, sum]);
  });
  expect(() => submitTfjsWork({})).toThrow(/WebGPU backend/);
});

test('the wrong device, dtype or backend is refused before anything is recorded', async () => {
  const other = await (await navigator.gpu.requestAdapter())!.requestDevice();
  const stranger = await createClipper({ device: other, maxWorkgroups: 4 });
  const t = tf.tensor1d([1, 2, 3]);
  expect(() => gradientsFromTfjs(stranger, [t])).toThrow(/runs on another GPUDevice/);
  expect(() => gradientsFromTfjs(clipper, [tf.tensor1d([1, 2], 'int32')])).toThrow(/dtype int32/);
  expect(() => gradientsFromTfjs(clipper, [t], {})).toThrow(/WebGPU backend/);
  const cpu = await createClipper({ forceCpu: true });
  expect(() => gradientsFromTfjs(cpu, [t])).toThrow(/clipper on the WebGPU backend/);
  t.dispose();
  expect(() => gradientsFromTfjs(clipper, [t])).toThrow(/disposed/);
  stranger.destroy();
  other.destroy();
});
