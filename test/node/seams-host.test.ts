// Week-one defects at the host layer, on the fake device (which flags what WebGPU would reject):
// a handle fed back to its own set, parameter slots that a long encoder would have overwritten,
// per-example sums into alternating targets, and sets built every step.
import { describe, expect, test } from 'vitest';
import {
  createAutoClip,
  createClipper,
  createGradientArena,
  createOptimizer,
  createZClip,
  type Clipper,
} from '../../src/index';
import { POOLED_SHAPES } from '../../src/gpu/set-pool';
import { PARAMS_SLOTS } from '../../src/gpu/params-ring';
import { createFakeDevice, fakeBuffer, type FakeDevice } from '../shared/fake-device';

async function gpuClipper(fake: FakeDevice): Promise<Clipper> {
  return createClipper({ device: fake.device, maxWorkgroups: 16 });
}

describe('a handle fed back to its own set', () => {
  test.each([
    'getTotalNorm',
    'clipGradNorm',
    'perTensorNorms().total',
    'AutoClip step',
    'ZClip step',
    'optimizer.step',
  ])('%s → clipGradsWithNorm on the same set records no copy within one buffer', async (producer) => {
    const fake = createFakeDevice();
    const clipper = await gpuClipper(fake);
    const { views } = createGradientArena(fake.device, [10, 300]);
    const set = clipper.gradients(views);
    const params = clipper.gradients(createGradientArena(fake.device, [10, 300]).views);
    const handles = {
      getTotalNorm: () => clipper.getTotalNorm(set),
      clipGradNorm: () => clipper.clipGradNorm(set, 1),
      'perTensorNorms().total': () => clipper.perTensorNorms(set).total,
      'AutoClip step': () => createAutoClip(clipper, set).step(),
      'ZClip step': () => createZClip(clipper, set).step(),
      'optimizer.step': () => createOptimizer(clipper, { params, grads: set, kind: 'sgd', lr: 0.1 }).step(),
    };
    for (const encoder of [undefined, fake.device.createCommandEncoder({ label: 'caller' })]) {
      const handle = handles[producer as keyof typeof handles]();
      clipper.clipGradsWithNorm(set, 1, handle, { encoder });
    }
    expect(fake.invalidCommands).toEqual([]);
  });
});

describe('many calls in one encoder', () => {
  test('1 000 distinct maxNorm in one encoder use 1 000 parameter slots, none written twice', async () => {
    const fake = createFakeDevice();
    const clipper = await gpuClipper(fake);
    const set = clipper.gradients([fakeBuffer(64)]);
    const encoder = fake.device.createCommandEncoder({ label: 'caller' });
    const writesBefore = fake.counts.writeBuffer;
    for (let i = 0; i < 1000; i++) clipper.clipGradNorm(set, 1 + i, { encoder });
    expect(fake.counts.writeBuffer - writesBefore).toBe(1000);
    expect(fake.counts.submit).toBe(0);
  });

  test(`an encoder that needs more than ${PARAMS_SLOTS} distinct records gets a GradclipError at record time, after recording nothing`, async () => {
    const fake = createFakeDevice();
    const clipper = await gpuClipper(fake);
    const set = clipper.gradients([fakeBuffer(64)]);
    const encoder = fake.device.createCommandEncoder({ label: 'caller' });
    for (let i = 0; i < PARAMS_SLOTS; i++) clipper.clipGradNorm(set, 1 + i, { encoder });
    const passes = fake.counts.computePasses;
    expect(() => clipper.clipGradNorm(set, 0.5, { encoder })).toThrow(
      expect.objectContaining({ code: 'out-of-range' }),
    );
    expect(fake.counts.computePasses).toBe(passes);
    // A value the encoder already holds costs no slot; a new encoder starts afresh.
    expect(() => clipper.clipGradNorm(set, 1, { encoder })).not.toThrow();
    expect(() =>
      clipper.clipGradNorm(set, 0.5, { encoder: fake.device.createCommandEncoder({ label: 'next' }) }),
    ).not.toThrow();
  });

  test('1 000 scheduled optimizer steps in one encoder keep 1 000 learning-rate records', async () => {
    const fake = createFakeDevice();
    const clipper = await gpuClipper(fake);
    const params = clipper.gradients([fakeBuffer(64)]);
    const grads = clipper.gradients([fakeBuffer(64)]);
    const optimizer = createOptimizer(clipper, { params, grads, kind: 'sgd', lr: 0.1 });
    const encoder = fake.device.createCommandEncoder({ label: 'caller' });
    optimizer.step({ encoder, lr: 0 });
    const writesBefore = fake.counts.writeBuffer;
    for (let i = 1; i <= 1000; i++) optimizer.step({ encoder, lr: 0.001 * i });
    expect(fake.counts.writeBuffer - writesBefore).toBe(1000);
  });

  test('per-example sums into alternating targets, in one encoder and across submits, build each target once', async () => {
    const fake = createFakeDevice();
    const clipper = await gpuClipper(fake);
    const set = clipper.gradients([{ buffer: fakeBuffer(4096), offset: 0, length: 64 }]);
    const targets = [fakeBuffer(4096), fakeBuffer(4096)];
    const encoder = fake.device.createCommandEncoder({ label: 'caller' });
    const sums = targets.map(
      (buffer) => clipper.clipPerExample(set, { batchSize: 4, maxNorm: 1, out: { buffer }, encoder }).sum,
    );
    const after = { ...fake.counts };
    const destroyedBefore = fake.buffers.filter((b) => b.destroyed).length;
    for (let i = 0; i < 50; i++) {
      const again = clipper.clipPerExample(set, {
        batchSize: 4,
        maxNorm: 1,
        out: { buffer: targets[i % 2] },
        encoder: i < 10 ? encoder : undefined,
      });
      expect(again.sum).toBe(sums[i % 2]);
    }
    expect(fake.counts.createBuffer).toBe(after.createBuffer);
    expect(fake.counts.createBindGroup).toBe(after.createBindGroup);
    expect(fake.buffers.filter((b) => b.destroyed).length).toBe(destroyedBefore);
  });
});

describe('sets built every step', () => {
  test('a set per step over new buffers of the same shape creates no buffer after the first step', async () => {
    const fake = createFakeDevice();
    const clipper = await gpuClipper(fake);
    const lengths = [12, 300, 8];
    const step = () => {
      // Each step's gradients are new buffers (as TF.js's are new tensors).
      const set = clipper.gradients(lengths.map((n) => fakeBuffer(n * 4)));
      clipper.clipGradNorm(set, 1);
    };
    step();
    const buffersAfterFirst = fake.counts.createBuffer;
    for (let i = 0; i < 2000; i++) step();
    expect(fake.counts.createBuffer).toBe(buffersAfterFirst);
  });

  test('per-view clipping (Keras clipnorm) and AGC on a set per step create no buffer after the first step', async () => {
    const fake = createFakeDevice();
    const clipper = await gpuClipper(fake);
    const lengths = [12, 300, 8];
    const step = () => {
      const grads = clipper.gradients(lengths.map((n) => fakeBuffer(n * 4)));
      const params = clipper.gradients(lengths.map((n) => fakeBuffer(n * 4)));
      clipper.clipByNorm(grads, 1);
      clipper.adaptiveGradClip(grads, params);
    };
    step();
    const buffersAfterFirst = fake.counts.createBuffer;
    for (let i = 0; i < 500; i++) step();
    expect(fake.counts.createBuffer).toBe(buffersAfterFirst);
  });

  test(`the pool keeps ${POOLED_SHAPES} shapes; an evicted shape's resources go with its last set`, async () => {
    const fake = createFakeDevice();
    const clipper = await gpuClipper(fake);
    const sets = Array.from({ length: POOLED_SHAPES + 1 }, (_, i) => clipper.gradients([fakeBuffer(16 * (i + 1))]));
    const live = () => fake.buffers.filter((b) => !b.destroyed).length;
    const before = live();
    sets[0].destroy(); // its shape was evicted by the last set: its resources go now
    expect(live()).toBeLessThan(before);
    const afterFirst = live();
    sets[POOLED_SHAPES].destroy(); // a pooled shape stays for the next set of that shape
    expect(live()).toBe(afterFirst);
    const created = fake.counts.createBuffer;
    clipper.gradients([fakeBuffer(16 * (POOLED_SHAPES + 1))]);
    expect(fake.counts.createBuffer).toBe(created);
  });

  test('GradSet.destroy(): its handles and later calls throw destroyed; sets sharing its resources go on', async () => {
    const fake = createFakeDevice();
    const clipper = await gpuClipper(fake);
    const a = clipper.gradients([fakeBuffer(64)]);
    const b = clipper.gradients([fakeBuffer(64)]);
    const handle = clipper.getTotalNorm(a);
    a.destroy();
    expect(a.destroyed).toBe(true);
    expect(b.destroyed).toBe(false);
    await expect(handle.read()).rejects.toMatchObject({ code: 'destroyed' });
    expect(() => clipper.clipGradNorm(a, 1)).toThrow(expect.objectContaining({ code: 'destroyed' }));
    expect(() => clipper.clipGradNorm(b, 1)).not.toThrow();
    clipper.destroy();
    expect(fake.buffers.filter((x) => !x.destroyed && x.buffer.label.startsWith('gradclip'))).toEqual([]);
  });
});
