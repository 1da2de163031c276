// The GradScaler's ported PyTorch and Keras cases (test/shared/amp-cases.ts) on WebGPU (views at
// odd offsets in one buffer, sentinels between) and on the CPU backend in the browser, each case
// inside validation and out-of-memory error scopes; and f16 gradients with f32 master weights in
// the fused optimizer, with and without a scaler, where the device has shader-f16.
import { describe, test } from 'vitest';
import { expect } from 'vitest';
import { createClipper, createGradScaler, createOptimizer } from '../../src/index';
import { AMP_CASES, f16MasterWeights } from '../shared/amp-cases';
import { cpuTensors, gpuTensors } from '../shared/tensors';
import { sharedDevice, withErrorScopes } from './gpu';

describe('GradScaler on WebGPU', async () => {
  const device = await sharedDevice();
  const tensors = gpuTensors(device, await createClipper({ device, maxWorkgroups: 4 }));
  for (const [name, run] of Object.entries(AMP_CASES)) test(name, () => withErrorScopes(device, () => run(tensors)));
});

describe('GradScaler on the CPU backend (browser)', async () => {
  const tensors = cpuTensors(await createClipper({ backend: 'cpu' }), () => createClipper({ backend: 'cpu' }));
  for (const [name, run] of Object.entries(AMP_CASES)) test(name, () => run(tensors));
});

test('f16 gradients with f32 master weights in the fused optimizer, with and without a scaler (where shader-f16)', async () => {
  const device = await sharedDevice();
  await withErrorScopes(device, async () =>
    f16MasterWeights(device, await createClipper({ device, maxWorkgroups: 4 })),
  );
});

test('the CPU backend: Float16Array gradients, Float32Array master weights, a scaler', async () => {
  const clipper = await createClipper({ backend: 'cpu' });
  const Float16 = (globalThis as unknown as { Float16Array: new (values: ArrayLike<number>) => Float32Array })
    .Float16Array;
  const grads = [new Float16([0.5, -2, 3]), new Float16([1024, -8])];
  const params = [Float32Array.of(1, 2, 3), Float32Array.of(-1, 0.5)];
  const scaler = createGradScaler(clipper, { initScale: 256 });
  const optimizer = createOptimizer(clipper, {
    params: clipper.gradients(params),
    grads: clipper.gradients(grads as never),
    kind: 'sgd',
    lr: 0.5,
    scaler,
  });
  optimizer.step();
  // SGD on the halves × 1/256: p - 0.5 · g / 256.
  expect(Array.from(params[0])).toEqual([1, 2, 3].map((p, i) => Math.fround(p - (0.5 * [0.5, -2, 3][i]) / 256)));
  expect(Array.from(params[1])).toEqual([-1, 0.5].map((p, i) => Math.fround(p - (0.5 * [1024, -8][i]) / 256)));
  grads[1][0] = Number.POSITIVE_INFINITY;
  const before = params.map((p) => p.slice());
  scaler.update();
  optimizer.step();
  expect(params).toEqual(before);
  expect(await scaler.readFoundInf()).toBe(true);
});
