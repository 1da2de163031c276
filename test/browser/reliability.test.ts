// Reliability on real WebGPU: views in more buffers than a dispatch can bind (50 and 500), two
// clippers and two sets on one device with interleaved encoders, and a set reused while an
// earlier read() is still pending. Each against the CPU backend running the same calls.
import { beforeAll, expect, test } from 'vitest';
import { createAutoClip, createClipper, createOptimizer, type Clipper } from 'gradclip';
import { randomGradient, relativeError, seededRandom } from '../shared/random';
import { readBack, sharedDevice, upload, withErrorScopes } from './gpu';

let device: GPUDevice;
let gpu: Clipper;
let gpu2: Clipper;
let cpu: Clipper;
beforeAll(async () => {
  device = await sharedDevice();
  gpu = await createClipper({ device, maxWorkgroups: 8 });
  gpu2 = await createClipper({ device, maxWorkgroups: 3 });
  cpu = await createClipper({ forceCpu: true });
});

/** `count` gradients of odd lengths, each in a buffer of its own, with CPU twins (a set per backend). */
function separate(clipper: Clipper, count: number, seed: number) {
  const random = seededRandom(seed);
  const twins = Array.from({ length: count }, () =>
    randomGradient(1 + Math.floor(random() * 300), random, 1 + random() * 3),
  );
  const buffers = twins.map((a) => upload(device, a));
  return {
    twins,
    buffers,
    gpuSet: clipper.gradients(buffers.map((buffer, i) => ({ buffer, offset: 0, length: twins[i].length }))),
    cpuSet: cpu.gradients(twins),
  };
}

/** Every GPU element equals its CPU twin (within float32 rounding of the coefficient). */
async function expectTwins(buffers: GPUBuffer[], twins: Float32Array[]) {
  for (let i = 0; i < buffers.length; i++) {
    const after = await readBack(device, buffers[i]);
    for (let k = 0; k < twins[i].length; k++) {
      if (!(relativeError(after[k], twins[i][k]) <= 2e-6))
        expect(after[k], `buffer ${i} element ${k}`).toBe(twins[i][k]);
    }
  }
}

test.each([50, 500])('%i separate buffers: clip by norm, then by value, match the CPU backend', async (count) => {
  await withErrorScopes(device, async () => {
    const s = separate(gpu, count, count);
    const norms = [await gpu.clipGradNorm(s.gpuSet, 10).read(), await cpu.clipGradNorm(s.cpuSet, 10).read()];
    expect(relativeError(norms[0], norms[1])).toBeLessThan(1e-6);
    gpu.clipGradValue(s.gpuSet, 0.01);
    cpu.clipGradValue(s.cpuSet, 0.01);
    await expectTwins(s.buffers, s.twins);
    for (const b of s.buffers) b.destroy();
  });
});

test('two clippers, two sets, interleaved encoders submitted out of recording order', async () => {
  await withErrorScopes(device, async () => {
    const a = separate(gpu, 9, 1);
    const b = separate(gpu2, 14, 2);
    const first = device.createCommandEncoder({ label: 'test first' });
    const second = device.createCommandEncoder({ label: 'test second' });
    const normA = gpu.clipGradNorm(a.gpuSet, 5, { encoder: first });
    const normB = gpu2.clipGradNorm(b.gpuSet, 7, { encoder: second });
    gpu2.clipGradValue(b.gpuSet, 0.05, { encoder: first });
    const totalA = gpu.getTotalNorm(a.gpuSet, { encoder: second });
    // `second` runs first: B's norm clip, then A's total (before A is clipped); then `first`.
    device.queue.submit([second.finish(), first.finish()]);
    const cpuNormB = await cpu.clipGradNorm(b.cpuSet, 7).read();
    const cpuTotalA = await cpu.getTotalNorm(a.cpuSet).read();
    const cpuNormA = await cpu.clipGradNorm(a.cpuSet, 5).read();
    cpu.clipGradValue(b.cpuSet, 0.05);
    expect(relativeError(await normB.read(), cpuNormB)).toBeLessThan(1e-6);
    expect(relativeError(await totalA.read(), cpuTotalA)).toBeLessThan(1e-6);
    expect(relativeError(await normA.read(), cpuNormA)).toBeLessThan(1e-6);
    await expectTwins(a.buffers, a.twins);
    await expectTwins(b.buffers, b.twins);
  });
});

test('a set reused while an earlier read() is still pending: each handle reads its own step', async () => {
  await withErrorScopes(device, async () => {
    const s = separate(gpu, 5, 3);
    const pending = gpu.clipGradNorm(s.gpuSet, 4).read(); // not awaited
    const next = gpu.clipGradNorm(s.gpuSet, 1);
    const laterPending = next.read();
    gpu.clipGradValue(s.gpuSet, 0.1);
    const cpuFirst = await cpu.clipGradNorm(s.cpuSet, 4).read();
    const cpuSecond = await cpu.clipGradNorm(s.cpuSet, 1).read();
    cpu.clipGradValue(s.cpuSet, 0.1);
    const [firstNorm, secondNorm] = await Promise.all([pending, laterPending]);
    expect(relativeError(firstNorm, cpuFirst)).toBeLessThan(1e-6);
    expect(relativeError(secondNorm, cpuSecond)).toBeLessThan(1e-6);
    expect(secondNorm).toBeLessThan(firstNorm); // the second step saw the first one's clip
    await expectTwins(s.buffers, s.twins);
  });
});

/** Runs `step`; it must either throw `invalid-buffer` at once or return a handle whose read rejects with it. */
async function expectInvalidBuffer(step: () => { read(): Promise<number> }, pattern: RegExp) {
  let handle: { read(): Promise<number> } | null = null;
  try {
    handle = step();
  } catch (error) {
    expect(error).toMatchObject({ code: 'invalid-buffer' });
    expect(String(error)).toMatch(pattern);
    return;
  }
  await expect(handle.read()).rejects.toMatchObject({
    code: 'invalid-buffer',
    message: expect.stringMatching(pattern),
  });
}

test('a destroyed buffer: the read rejects with invalid-buffer, later calls throw it, other sets are unaffected', async () => {
  await withErrorScopes(device, async () => {
    const s = separate(gpu, 3, 4);
    const other = separate(gpu, 2, 5);
    s.buffers[1].destroy();
    await expectInvalidBuffer(() => gpu.clipGradNorm(s.gpuSet, 1), /destroyed/);
    expect(() => gpu.getTotalNorm(s.gpuSet)).toThrow(expect.objectContaining({ code: 'invalid-buffer' }));
    expect(
      relativeError(await gpu.getTotalNorm(other.gpuSet).read(), await cpu.getTotalNorm(other.cpuSet).read()),
    ).toBeLessThan(1e-6);
  });
});

test('a buffer of another device: invalid-buffer, not an uncaptured validation error', async () => {
  const stranger = await (await navigator.gpu.requestAdapter())!.requestDevice();
  await withErrorScopes(device, async () => {
    const foreign = stranger.createBuffer({ label: 'foreign', size: 64, usage: GPUBufferUsage.STORAGE });
    const set = gpu.gradients([{ buffer: foreign, offset: 0, length: 16 }]);
    await expectInvalidBuffer(() => gpu.clipGradNorm(set, 1), /another device|cannot be used|cannot be bound/);
    expect(() => gpu.clipGradValue(set, 1)).toThrow(expect.objectContaining({ code: 'invalid-buffer' }));
  });
  stranger.destroy();
});

test("onDeviceLost: 'cpu' — after a loss the GPU's sets throw device-lost and new sets run on the CPU backend", async () => {
  const own = await (await navigator.gpu.requestAdapter())!.requestDevice();
  const clipper = await createClipper({ device: own, maxWorkgroups: 4, onDeviceLost: 'cpu' });
  expect(clipper.backend).toBe('webgpu');
  const data = randomGradient(1000, seededRandom(6), 2);
  const gpuSet = clipper.gradients([upload(own, data)]);
  const before = await clipper.clipGradNorm(gpuSet, 1e9).read();
  // The rules and the optimizer take the switching clipper like any other.
  expect(relativeError(await createAutoClip(clipper, gpuSet).step().read(), before)).toBeLessThan(1e-6);
  own.destroy();
  await own.lost;
  await Promise.resolve();
  expect(clipper.backend).toBe('cpu');
  expect(() => clipper.clipGradNorm(gpuSet, 1)).toThrow(expect.objectContaining({ code: 'device-lost' }));
  const copy = data.slice();
  const cpuSet = clipper.gradients([copy]);
  expect(relativeError(await clipper.clipGradNorm(cpuSet, 1).read(), before)).toBeLessThan(1e-6);
  expect(relativeError(await clipper.getTotalNorm(cpuSet).read(), 1)).toBeLessThan(1e-5);
  const params = new Float32Array(copy.length);
  const optimizer = createOptimizer(clipper, {
    params: clipper.gradients([params]),
    grads: cpuSet,
    kind: 'sgd',
    lr: 1,
  });
  optimizer.step();
  expect(params[1]).toBeCloseTo(-copy[1], 6);
  expect(await createAutoClip(clipper, cpuSet).step().read()).toBeGreaterThan(0);
  await expect(createClipper({ onDeviceLost: 'never' as never })).rejects.toMatchObject({ code: 'invalid-argument' });
  clipper.destroy();
});
