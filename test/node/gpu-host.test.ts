// The WebGPU host layer on a fake device: what it creates once, what a step records, and that bad
// input throws before anything is recorded. The real kernels run in test/browser.
import { describe, expect, test } from 'vitest';
import {
  GradclipError,
  createAutoClip,
  createClipper,
  createGradientArena,
  createOptimizer,
  createZClip,
  type Clipper,
  type GradView,
} from '../../src/index';
import { createFakeDevice, fakeBuffer, type FakeDevice } from '../shared/fake-device';

async function gpuClipper(fake: FakeDevice = createFakeDevice()): Promise<Clipper> {
  const clipper = await createClipper({ device: fake.device, maxWorkgroups: 16 });
  expect(clipper.backend).toBe('webgpu');
  return clipper;
}

describe('build once, encode many', () => {
  test('pipelines and layouts are built once per device', async () => {
    const fake = createFakeDevice();
    const a = await gpuClipper(fake);
    a.clipGradNorm(a.gradients([fakeBuffer(64)]), 1);
    const modules = fake.counts.createShaderModule;
    const pipelines = fake.counts.createComputePipeline;
    expect(modules).toBe(3);
    const b = await gpuClipper(fake);
    b.clipGradNorm(b.gradients([fakeBuffer(64)]), 1);
    expect(fake.counts.createShaderModule).toBe(modules);
    expect(fake.counts.createComputePipeline).toBe(pipelines);
  });

  test('10 000 steps after the first create no buffers, bind groups or pipelines and write no parameters', async () => {
    const fake = createFakeDevice();
    const clipper = await gpuClipper(fake);
    const { views } = createGradientArena(fake.device, [10, 300, 7]);
    const set = clipper.gradients(views);
    await clipper.clipGradNorm(set, 1).read();
    const after = { ...fake.counts };
    // A loop that logs the norm each step reuses one pooled staging buffer.
    for (let step = 0; step < 10_000; step++) await clipper.clipGradNorm(set, 1).read();
    expect(fake.counts.createBuffer).toBe(after.createBuffer);
    expect(fake.counts.createBindGroup).toBe(after.createBindGroup);
    expect(fake.counts.createComputePipeline).toBe(after.createComputePipeline);
    expect(fake.counts.writeBuffer).toBe(after.writeBuffer);
  });

  test('every clipping mode and the fused optimizer: steps after the first create and write nothing', async () => {
    const fake = createFakeDevice();
    const clipper = await gpuClipper(fake);
    const lengths = [12, 300, 8];
    const grads = clipper.gradients(
      createGradientArena(fake.device, lengths).views.map(
        (v, i) => ({ ...(v as object), shape: i === 1 ? [30, 10] : undefined }) as GradView,
      ),
    );
    const params = clipper.gradients(
      createGradientArena(fake.device, lengths).views.map(
        (v, i) => ({ ...(v as object), shape: i === 1 ? [30, 10] : undefined }) as GradView,
      ),
    );
    const auto = createAutoClip(clipper, grads);
    const zclip = createZClip(clipper, grads);
    const optimizer = createOptimizer(clipper, { params, grads, kind: 'adamw', lr: 1e-3, clip: { maxNorm: 1 } });
    const step = (t: number) => {
      clipper.clipByNorm(grads, 1);
      clipper.perTensorNorms(grads);
      clipper.adaptiveGradClip(grads, params);
      clipper.clipPerExample(grads, { batchSize: 2, maxNorm: 1 });
      auto.step();
      zclip.step();
      optimizer.step({ lr: t % 2 ? 1e-3 : 5e-4 }); // a schedule of two rates: one settings record each
    };
    step(0);
    step(1);
    const after = { ...fake.counts };
    for (let t = 0; t < 100; t++) step(t);
    expect(fake.counts.createBuffer).toBe(after.createBuffer);
    expect(fake.counts.createBindGroup).toBe(after.createBindGroup);
    expect(fake.counts.createComputePipeline).toBe(after.createComputePipeline);
    expect(fake.counts.writeBuffer).toBe(after.writeBuffer);
    expect(fake.counts.submit - after.submit).toBe(7 * 100); // one submit per call
    // Every object made along the way carries a label (they name themselves in validation errors).
    expect(fake.unlabeled).toEqual([]);
    // destroy() releases every buffer the clipper and its rules made, and none of the caller's
    // (the two arenas).
    const bufferOf = (set: typeof grads) => (set as unknown as { views: Array<{ buffer: GPUBuffer }> }).views[0].buffer;
    const callers = new Set([bufferOf(grads), bufferOf(params)]);
    auto.destroy();
    zclip.destroy();
    optimizer.destroy();
    clipper.destroy();
    expect(callers.size).toBe(2);
    for (const record of fake.buffers) {
      expect(record.destroyed, `${record.buffer.label} destroyed`).toBe(!callers.has(record.buffer));
    }
  });

  test('dispatches per step depend on buffer groups, not on views', async () => {
    const fake = createFakeDevice();
    const clipper = await gpuClipper(fake);
    for (const count of [3, 1000]) {
      const { views } = createGradientArena(
        fake.device,
        Array.from({ length: count }, (_, i) => 64 + i),
      );
      const set = clipper.gradients(views);
      expect(set.dispatchGroups).toBe(1);
      const before = { ...fake.counts };
      clipper.clipGradNorm(set, 1);
      expect(fake.counts.dispatches - before.dispatches).toBe(2); // norm partials + finalize
      expect(fake.counts.indirectDispatches - before.indirectDispatches).toBe(1); // scale
      expect(fake.counts.computePasses - before.computePasses).toBe(1);
      expect(fake.counts.submit - before.submit).toBe(1);
    }
    // Separate buffers: 6 data bindings per dispatch on a device with 8 storage buffers per stage,
    // so the dispatches grow with the groups of 6 buffers only (a norm partials and a scale per
    // group, one finalize), all in one pass.
    for (const [count, groups] of [
      [50, 9],
      [500, 84],
    ]) {
      const separate = clipper.gradients(Array.from({ length: count }, () => fakeBuffer(400)));
      expect(separate.dispatchGroups).toBe(groups);
      const before = { ...fake.counts };
      clipper.clipGradNorm(separate, 1);
      expect(fake.counts.dispatches - before.dispatches).toBe(groups + 1);
      expect(fake.counts.indirectDispatches - before.indirectDispatches).toBe(groups);
      expect(fake.counts.computePasses - before.computePasses).toBe(1);
    }
  });

  test('an encoder option records without submitting', async () => {
    const fake = createFakeDevice();
    const clipper = await gpuClipper(fake);
    const set = clipper.gradients([fakeBuffer(64)]);
    const encoder = fake.device.createCommandEncoder();
    const submits = fake.counts.submit;
    clipper.clipGradNorm(set, 1, { encoder });
    clipper.getTotalNorm(set, { encoder });
    clipper.clipGradsWithNorm(set, 1, 3, { encoder });
    clipper.clipGradValue(set, 1, { encoder });
    expect(fake.counts.submit).toBe(submits);
  });

  test('destroy releases every buffer the clipper made and none of the caller', async () => {
    const fake = createFakeDevice();
    const userBuffer = fake.device.createBuffer({ size: 64, usage: 0x80 });
    const firstOwn = fake.buffers.length;
    const clipper = await gpuClipper(fake);
    const set = clipper.gradients([userBuffer]);
    clipper.clipGradNorm(set, 1);
    clipper.destroy();
    expect(fake.buffers.slice(firstOwn).every((b) => b.destroyed)).toBe(true);
    expect(fake.buffers[0].destroyed).toBe(false);
    expect(set.destroyed).toBe(true);
    expect(() => clipper.clipGradNorm(set, 1)).toThrow(expect.objectContaining({ code: 'destroyed' }));
  });

  test('a lost device makes every later call throw device-lost', async () => {
    const fake = createFakeDevice();
    const clipper = await gpuClipper(fake);
    const set = clipper.gradients([fakeBuffer(64)]);
    fake.loseDevice('unknown', 'GPU process crashed');
    await Promise.resolve();
    expect(() => clipper.clipGradNorm(set, 1)).toThrow(/device was lost \(unknown\): GPU process crashed/);
    expect(() => clipper.gradients([fakeBuffer(64)])).toThrow(expect.objectContaining({ code: 'device-lost' }));
  });
});

describe('bad GPU views throw before anything is recorded', () => {
  const buffer = fakeBuffer(1024);
  test.each<[string, GradView[], RegExp]>([
    ['a Float32Array', [new Float32Array(4)], /views\[0\] is a Float32Array/],
    [
      'an offset that is not a multiple of 4',
      [{ buffer, offset: 6, length: 2 }],
      /views\[0\]\.offset must be a non-negative multiple of 4 bytes, got 6/,
    ],
    [
      'an end past the buffer',
      [{ buffer, offset: 1020, length: 2 }],
      /views\[0\] ends at byte 1028, past the end of its 1024-byte buffer/,
    ],
    ['a buffer without STORAGE', [fakeBuffer(64, 0x8)], /views\[0\]'s buffer lacks GPUBufferUsage.STORAGE/],
    [
      'overlapping views',
      [
        { buffer, offset: 0, length: 10 },
        { buffer, offset: 36, length: 1 },
      ],
      /views\[1\] overlaps views\[0\]/,
    ],
    ['an empty set', [], /views must be a non-empty array/],
    ['a fractional length', [{ buffer, offset: 0, length: 1.5 }], /views\[0\]\.length must be a non-negative integer/],
  ])('%s', async (_, views, message) => {
    const fake = createFakeDevice();
    const clipper = await gpuClipper(fake);
    const before = { ...fake.counts };
    expect(() => clipper.gradients(views)).toThrow(message);
    expect(() => clipper.gradients(views)).toThrow(GradclipError);
    expect(fake.counts).toEqual(before);
  });

  test.each<[string, GradView[], RegExp]>([
    [
      'an f16 offset that is odd',
      [{ buffer, offset: 3, length: 2, dtype: 'f16' }],
      /views\[0\]\.offset must be a non-negative multiple of 2 bytes \(f16\), got 3/,
    ],
    [
      'an unknown dtype',
      [{ buffer, offset: 0, length: 2, dtype: 'bf16' as 'f16' }],
      /views\[0\]\.dtype must be 'f32' or 'f16', got "bf16"/,
    ],
    [
      'f16 and f32 views in one buffer',
      [
        { buffer, offset: 0, length: 8 },
        { buffer, offset: 512, length: 8, dtype: 'f16' },
      ],
      /views\[1\] is f16 but its buffer also holds views\[0\], which is f32/,
    ],
    [
      'an f16 view whose last word is past the buffer',
      [{ buffer: fakeBuffer(6), offset: 0, length: 3, dtype: 'f16' }],
      /ends at byte 6 of a 6-byte buffer: WebGPU binds storage in 4-byte words/,
    ],
    [
      'an f16 view past the buffer',
      [{ buffer, offset: 1020, length: 3, dtype: 'f16' }],
      /views\[0\] ends at byte 1026, past the end of its 1024-byte buffer/,
    ],
  ])('%s (on a device with shader-f16)', async (_, views, message) => {
    const fake = createFakeDevice({}, ['shader-f16']);
    const clipper = await gpuClipper(fake);
    const before = { ...fake.counts };
    expect(() => clipper.gradients(views)).toThrow(message);
    expect(fake.counts).toEqual(before);
  });

  test('f16 views on a device without shader-f16: an unsupported error that names the feature', async () => {
    const fake = createFakeDevice();
    const clipper = await gpuClipper(fake);
    const before = { ...fake.counts };
    const views: GradView[] = [
      { buffer, offset: 0, length: 4 },
      { buffer: fakeBuffer(64), offset: 0, length: 32, dtype: 'f16' },
    ];
    expect(() => clipper.gradients(views)).toThrow(
      /views\[1\]\.dtype is 'f16', which needs the device feature 'shader-f16'; this device lacks it/,
    );
    expect(() => clipper.gradients(views)).toThrow(expect.objectContaining({ code: 'unsupported' }));
    expect(fake.counts).toEqual(before);
  });

  test('f16 sets: norm, value and per-tensor modes record f16 kernels; per-example and f16 optimizer parameters are refused', async () => {
    const fake = createFakeDevice({}, ['shader-f16']);
    const clipper = await gpuClipper(fake);
    const halves = fakeBuffer(2 * 1001 + 2);
    const set = clipper.gradients([
      { buffer: fakeBuffer(4 * 100), offset: 0, length: 100 },
      { buffer: halves, offset: 2, length: 1000, dtype: 'f16' },
    ]);
    expect(set.elementCount).toBe(1100);
    clipper.clipGradNorm(set, 1);
    clipper.clipGradValue(set, 0.5);
    clipper.clipByNorm(set, 1);
    const halfModules = fake.modules.filter((m) => m.code.startsWith('enable f16;'));
    expect(halfModules.map((m) => m.label).sort()).toEqual(
      ['norm_partials', 'elementwise', 'segment_norm', 'segment_scale']
        .map((k) => `gradclip ${k} slots=3 vec4Slots=2 f16Slots=1-3`)
        .sort(),
    );
    const before = { ...fake.counts };
    expect(() => clipper.clipPerExample(set, { batchSize: 2, maxNorm: 1 })).toThrow(
      /clipPerExample takes f32 gradients only, and views\[1\] of the set is f16/,
    );
    // f16 gradients update f32 master weights; f16 parameters are refused.
    const f32 = clipper.gradients([
      { buffer: fakeBuffer(4 * 100), offset: 0, length: 100 },
      { buffer: fakeBuffer(4 * 1000), offset: 0, length: 1000 },
    ]);
    expect(() => createOptimizer(clipper, { params: set, grads: f32, kind: 'sgd', lr: 0.1 })).toThrow(
      expect.objectContaining({ code: 'unsupported' }),
    );
    expect(fake.counts.submit).toBe(before.submit);
    expect(fake.counts.dispatches).toBe(before.dispatches);
  });

  test('bad numbers record nothing', async () => {
    const fake = createFakeDevice();
    const clipper = await gpuClipper(fake);
    const set = clipper.gradients([fakeBuffer(64)]);
    const before = { ...fake.counts };
    expect(() => clipper.clipGradNorm(set, -1)).toThrow(/maxNorm must be a number >= 0/);
    expect(() => clipper.clipGradNorm(set, 1, { normType: -2 })).toThrow(/normType/);
    expect(() => clipper.clipGradValue(set, { min: 2, max: 1 })).toThrow(/clip.min/);
    expect(() => clipper.clipGradsWithNorm(set, 1, -3)).toThrow(/totalNorm must be >= 0/);
    expect(() => clipper.clipGradsWithNorm(set, 1, {} as never)).toThrow(/totalNorm must be a number or a NormHandle/);
    expect(fake.counts).toEqual(before);
  });

  test('createGradientArena validates lengths and the device limit', () => {
    const fake = createFakeDevice({ maxBufferSize: 1024 });
    expect(() => createGradientArena(fake.device, [])).toThrow(/lengths must be a non-empty array/);
    expect(() => createGradientArena(fake.device, [3, -1])).toThrow(/lengths\[1\] must be a non-negative integer/);
    expect(() => createGradientArena(fake.device, [300])).toThrow(/above this device's maxBufferSize of 1024 bytes/);
    const { views, buffer } = createGradientArena(fake.device, [1, 5, 4, 0, 3]);
    expect(views.map((v) => (v as { offset: number }).offset)).toEqual([0, 16, 48, 64, 64]);
    expect(buffer.size).toBe(80);
    // f16: half the bytes per element, the same 16-byte starts; the views carry their dtype.
    const halves = createGradientArena(fake.device, [1, 5, 9, 0, 3], { dtype: 'f16' });
    expect(halves.views).toEqual(
      [0, 16, 32, 64, 64].map((offset, i) => ({
        buffer: halves.buffer,
        offset,
        length: [1, 5, 9, 0, 3][i],
        dtype: 'f16',
      })),
    );
    expect(halves.buffer.size).toBe(80);
    expect(() => createGradientArena(fake.device, [3], { dtype: 'bf16' as 'f16' })).toThrow(
      /options\.dtype must be 'f32' or 'f16', got "bf16"/,
    );
  });
});
