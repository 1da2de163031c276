// Week one as a user, on real WebGPU: each test reproduces a defect found by following the README
// and crossing features (each failed before its fix). Any number of calls recorded into one
// encoder must behave as if each were submitted alone, a handle must read its own call's value,
// and nothing may invalidate the caller's command buffer.
import { beforeAll, expect, test } from 'vitest';
import { createClipper, createOptimizer, type Clipper, type GradSet } from 'gradclip';
import { randomGradient, relativeError, seededRandom } from '../shared/random';
import { readBack, sharedDevice, upload, withErrorScopes } from './gpu';

let device: GPUDevice;
let gpu: Clipper;
let cpu: Clipper;
beforeAll(async () => {
  device = await sharedDevice();
  gpu = await createClipper({ device, maxWorkgroups: 4 });
  cpu = await createClipper({ backend: 'cpu' });
});

/** A marker the caller copies in the same encoder: if the command buffer is dropped, it is not copied. */
function callerWork(encoder: GPUCommandEncoder) {
  const source = upload(device, new Float32Array([42]));
  const target = upload(device, new Float32Array([0]));
  encoder.copyBufferToBuffer(source, 0, target, 0, 4);
  return async () => (await readBack(device, target))[0];
}

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance = 2e-6, what = '') {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    if (!(relativeError(actual[i], expected[i]) <= tolerance)) expect(actual[i], `${what}[${i}]`).toBe(expected[i]);
  }
}

test.each([
  ['own submit, read awaited first', false, true],
  ['own submit, not awaited', false, false],
  ["caller's encoder", true, false],
])(
  "getTotalNorm then clipGradsWithNorm on the same set (%s) clips, and the caller's other work runs",
  async (_, useEncoder, awaitFirst) => {
    await withErrorScopes(device, async () => {
      const buffer = upload(device, new Float32Array([3, 0, 4, 0]));
      const set = gpu.gradients([buffer]);
      const encoder = useEncoder ? device.createCommandEncoder() : undefined;
      const marker = encoder ? callerWork(encoder) : null;
      const norm = gpu.getTotalNorm(set, { encoder });
      if (awaitFirst) expect(await norm.read()).toBe(5);
      gpu.clipGradsWithNorm(set, 1, norm, { encoder });
      if (encoder) device.queue.submit([encoder.finish()]);
      expectClose(await readBack(device, buffer), [3 / (5 + 1e-6), 0, 4 / (5 + 1e-6), 0]);
      if (marker) expect(await marker()).toBe(42);
    });
  },
);

test('a read() resolves with its own value even when 300 later norms of the set are recorded before it settles', async () => {
  await withErrorScopes(device, async () => {
    const set = gpu.gradients([upload(device, new Float32Array([3, 4]))]);
    const first = gpu.getTotalNorm(set);
    const pending = first.read(); // the fire-and-forget logging pattern: h.read().then(log)
    const scratch = gpu.gradients([upload(device, new Float32Array([6, 8]))]);
    for (let i = 0; i < 300; i++) gpu.clipGradsWithNorm(set, 1e9, 10 + i); // each claims a slot of the set's ring
    gpu.getTotalNorm(scratch);
    expect(await pending).toBe(5);
    // Read only now, after 300 later norms: rejected, never another call's value.
    await expect(first.read()).rejects.toMatchObject({ code: 'stale-handle' });
    await expect(first.readFoundInf()).rejects.toMatchObject({ code: 'stale-handle' });
  });
});

/** A set on each backend over the same values. */
function twins(seed: number, lengths: number[]) {
  const random = seededRandom(seed);
  const arrays = lengths.map((n) => randomGradient(n, random, 2));
  const buffers = arrays.map((a) => upload(device, a));
  return {
    arrays,
    buffers,
    gpuSet: gpu.gradients(buffers.map((buffer, i) => ({ buffer, offset: 0, length: arrays[i].length }))) as GradSet,
    cpuSet: cpu.gradients(arrays),
  };
}

test('1 000 clipGradNorm calls with distinct maxNorm in one encoder equal the same calls each submitted alone (CPU backend in order)', async () => {
  await withErrorScopes(device, async () => {
    const a = twins(1, [5, 33]);
    const b = twins(2, [7]);
    const encoder = device.createCommandEncoder();
    const marker = callerWork(encoder);
    const aNorm = gpu.clipGradNorm(a.gpuSet, 0.5, { encoder });
    const aExpected = await cpu.clipGradNorm(a.cpuSet, 0.5).read();
    for (let i = 0; i < 1000; i++) {
      gpu.clipGradNorm(b.gpuSet, 100 - i * 0.0999, { encoder });
      cpu.clipGradNorm(b.cpuSet, 100 - i * 0.0999);
    }
    device.queue.submit([encoder.finish()]);
    expect(await marker()).toBe(42);
    expect(relativeError(await aNorm.read(), aExpected)).toBeLessThan(1e-6);
    for (const set of [a, b]) {
      for (let i = 0; i < set.buffers.length; i++)
        expectClose(await readBack(device, set.buffers[i]), set.arrays[i], 1e-5, `view ${i}`);
    }
  });
});

test('1 000 scheduled SGD steps in one encoder equal the float64 reference stepped in order', async () => {
  await withErrorScopes(device, async () => {
    const g = new Float32Array([0.5, -1, 2]);
    const w = new Float32Array([1, 2, 3]);
    const wBuffer = upload(device, w);
    const optimizer = createOptimizer(gpu, {
      params: gpu.gradients([wBuffer]),
      grads: gpu.gradients([upload(device, g)]),
      kind: 'sgd',
      lr: 0.01,
    });
    const cpuParams = Float32Array.from(w);
    const cpuOptimizer = createOptimizer(cpu, {
      params: cpu.gradients([cpuParams]),
      grads: cpu.gradients([Float32Array.from(g)]),
      kind: 'sgd',
      lr: 0.01,
    });
    const encoder = device.createCommandEncoder();
    for (let step = 0; step < 1000; step++) {
      const lr = 0.001 + step * 1e-5;
      optimizer.step({ encoder, lr });
      cpuOptimizer.step({ lr });
    }
    device.queue.submit([encoder.finish()]);
    expectClose(await readBack(device, wBuffer), cpuParams, 1e-5, 'params');
    expect((await optimizer.state()).step).toBe(1000);
  });
});

test('per-example sums into two out buffers in one encoder, then alternating across submits, match the CPU backend', async () => {
  await withErrorScopes(device, async () => {
    const random = seededRandom(5);
    const values = randomGradient(24, random, 3);
    const set = gpu.gradients([{ buffer: upload(device, values), offset: 0, length: 24 }]);
    const expected = cpu.clipPerExample(cpu.gradients([Float32Array.from(values)]), { batchSize: 4, maxNorm: 1 });
    const expectedSum = Array.from(expected.sum[0] as Float32Array);
    const outs = [0, 1].map(() =>
      device.createBuffer({ size: 256, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC }),
    );
    const encoder = device.createCommandEncoder();
    const counts = outs.map(
      (buffer) => gpu.clipPerExample(set, { batchSize: 4, maxNorm: 1, out: { buffer }, encoder }).numClipped,
    );
    device.queue.submit([encoder.finish()]);
    for (const [i, buffer] of outs.entries()) {
      expectClose((await readBack(device, buffer)).slice(0, 6), expectedSum, 1e-5, `out ${i}`);
      expect(await counts[i].read()).toBe(await expected.numClipped.read());
    }
    for (let k = 0; k < 4; k++) {
      const result = gpu.clipPerExample(set, { batchSize: 4, maxNorm: 1, out: { buffer: outs[k % 2] } });
      expect(await result.numClipped.read()).toBe(await expected.numClipped.read());
    }
  });
});

test.each([
  ['errorIfNonfinite rejects and changes nothing', { errorIfNonfinite: true }],
  ["'skip' changes nothing and sets found-inf", { onNonfinite: 'skip' as const }],
  ["'propagate' gives PyTorch's zeros", {}],
])('a norm of finite elements that overflows float32 (two of 3e38): %s, as on the CPU backend', async (_, options) => {
  await withErrorScopes(device, async () => {
    const values = new Float32Array([3e38, 3e38]);
    const buffer = upload(device, values);
    const handle = gpu.clipGradNorm(gpu.gradients([buffer]), 1, options);
    const twin = Float32Array.from(values);
    const cpuHandle = cpu.clipGradNorm(cpu.gradients([twin]), 1, options);
    const [gpuRead, cpuRead] = await Promise.all([
      handle.read().catch((e: { code: string }) => e.code),
      cpuHandle.read().catch((e: { code: string }) => e.code),
    ]);
    expect(gpuRead).toBe(cpuRead);
    expect(await handle.readFoundInf()).toBe(true);
    expect(Array.from(await readBack(device, buffer))).toEqual(Array.from(twin));
  });
});
