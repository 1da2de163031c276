// Every kernel on real WebGPU (Chromium) against the float64 CPU reference.
import { beforeAll, describe, expect, test } from 'vitest';
import { createClipper, createGradientArena, type Clipper, type GradView, type NormHandle } from '../../src/index';
import { totalNormReference } from '../../src/reference/index';
import { MIN_TUNE_ELEMENTS } from '../../src/gpu/autotune';
import { OP_CLAMP, OP_SCALE } from '../../src/kernels/registry';
import { bits, randomGradient, relativeError, seededRandom } from '../shared/random';
import { GRAD_USAGE, readBack, sharedDevice, upload, withErrorScopes } from './gpu';

/** Written around and between views: a large finite value, so reading it would spoil the norm, with odd bits to spot writes. */
const SENTINEL = 1.2345e30;

let device: GPUDevice;
beforeAll(async () => {
  device = await sharedDevice();
});

async function clipperWith(maxWorkgroups: number): Promise<Clipper> {
  const clipper = await createClipper({ device, maxWorkgroups });
  expect(clipper.backend).toBe('webgpu');
  return clipper;
}

/** A buffer of views laid out at `offsets` (elements) with sentinels everywhere else. */
function layout(device: GPUDevice, grads: Float32Array[], offsets: number[], totalLength: number) {
  const contents = new Float32Array(totalLength).fill(SENTINEL);
  grads.forEach((g, i) => contents.set(g, offsets[i]));
  const buffer = upload(device, contents);
  const views: GradView[] = grads.map((g, i) => ({ buffer, offset: offsets[i] * 4, length: g.length }));
  return { buffer, views, contents };
}

/** Checks the buffer: views hold `expected` (to float32 rounding of the coefficient), the rest is untouched. */
function expectLayout(
  actual: Float32Array,
  before: Float32Array,
  expected: Float32Array[],
  offsets: number[],
  tolerance = 2e-6,
) {
  const inView = new Uint8Array(actual.length);
  expected.forEach((e, v) => {
    for (let i = 0; i < e.length; i++) {
      const a = actual[offsets[v] + i];
      inView[offsets[v] + i] = 1;
      if (Number.isNaN(e[i])) expect(a, `view ${v} element ${i}`).toBeNaN();
      else if (Math.abs(a - e[i]) > tolerance * Math.abs(e[i]) + 1e-38) expect(a, `view ${v} element ${i}`).toBe(e[i]);
    }
  });
  const outside = (a: Float32Array) => bits(a).filter((_, i) => !inView[i]);
  expect(outside(actual)).toEqual(outside(before));
}

function referenceClip(grads: Float32Array[], maxNorm: number, p: number) {
  const norm = totalNormReference(grads, p);
  const coef = norm > maxNorm || !Number.isFinite(norm) ? maxNorm / (norm + 1e-6) : 1;
  return { norm, clipped: grads.map((g) => g.map((v) => v * coef)) };
}

describe.each([1, 64])('clipGradNorm with at most %i workgroups', (maxWorkgroups) => {
  test.each([1, 3, 257, 4097, 1_000_003])('%i elements at an odd offset, sentinels around', async (length) => {
    const clipper = await clipperWith(maxWorkgroups);
    await withErrorScopes(device, async () => {
      const grad = randomGradient(length, seededRandom(length), 2);
      const { buffer, views, contents } = layout(device, [grad], [3], length + 7);
      const set = clipper.gradients(views);
      const expected = referenceClip([grad], 0.5, 2);
      const norm = await clipper.clipGradNorm(set, 0.5).read();
      expect(relativeError(norm, expected.norm)).toBeLessThan(1e-5);
      expectLayout(await readBack(device, buffer), contents, expected.clipped, [3]);
    });
  });
});

test('300 views packed in one buffer at odd offsets, and in an arena', async () => {
  const clipper = await clipperWith(16);
  await withErrorScopes(device, async () => {
    const random = seededRandom(300);
    const grads = Array.from({ length: 300 }, () => randomGradient(1 + Math.floor(random() * 700), random, 0.05));
    const offsets: number[] = [];
    let at = 1;
    for (const g of grads) {
      offsets.push(at);
      at += g.length + 1 + Math.floor(random() * 3);
    }
    const { buffer, views, contents } = layout(device, grads, offsets, at + 2);
    const set = clipper.gradients(views);
    expect(set.dispatchGroups).toBe(1);
    const expected = referenceClip(grads, 1, 2);
    expect(relativeError(await clipper.clipGradNorm(set, 1).read(), expected.norm)).toBeLessThan(1e-5);
    expectLayout(await readBack(device, buffer), contents, expected.clipped, offsets);

    const arena = createGradientArena(
      device,
      grads.map((g) => g.length),
    );
    grads.forEach((g, i) => device.queue.writeBuffer(arena.buffer, (arena.views[i] as { offset: number }).offset, g));
    const arenaSet = clipper.gradients(arena.views);
    expect(relativeError(await clipper.clipGradNorm(arenaSet, 1).read(), expected.norm)).toBeLessThan(1e-5);
    const arenaContents = await readBack(device, arena.buffer);
    expected.clipped.forEach((e, i) => {
      const start = (arena.views[i] as { offset: number }).offset / 4;
      expect(relativeError(arenaContents[start], e[0])).toBeLessThan(2e-6);
      expect(relativeError(arenaContents[start + e.length - 1], e[e.length - 1])).toBeLessThan(2e-6);
    });
    arena.buffer.destroy();
  });
});

test('views in 20 separate buffers (several dispatch groups) and shared buffers', async () => {
  const clipper = await clipperWith(8);
  await withErrorScopes(device, async () => {
    const random = seededRandom(20);
    const grads = Array.from({ length: 20 }, (_, i) => randomGradient(100 + i * 37, random));
    const buffers = grads.map((g) => upload(device, g));
    const shared = layout(device, [randomGradient(50, random), randomGradient(9, random)], [0, 64], 80);
    const views: GradView[] = [...buffers, ...shared.views];
    const set = clipper.gradients(views);
    expect(set.dispatchGroups).toBeGreaterThan(1);
    const all = [...grads, shared.contents.slice(0, 50), shared.contents.slice(64, 73)];
    const expected = referenceClip(all, 2, 2);
    expect(relativeError(await clipper.clipGradNorm(set, 2).read(), expected.norm)).toBeLessThan(1e-5);
    for (let i = 0; i < 20; i++) expectLayout(await readBack(device, buffers[i]), grads[i], [expected.clipped[i]], [0]);
    expectLayout(await readBack(device, shared.buffer), shared.contents, expected.clipped.slice(20), [0, 64]);
  });
});

test.each([1, 2, 3, 0.5, Infinity])('normType %s against the reference', async (p) => {
  const clipper = await clipperWith(32);
  await withErrorScopes(device, async () => {
    const random = seededRandom(11);
    const grads = [randomGradient(50_000, random), randomGradient(333, random, 5), randomGradient(1, random)];
    const { buffer, views, contents } = layout(device, grads, [0, 50_001, 50_400], 50_500);
    const set = clipper.gradients(views);
    const expectedNorm = totalNormReference(grads, p);
    expect(relativeError(await clipper.getTotalNorm(set, { normType: p }).read(), expectedNorm)).toBeLessThan(1e-5);
    const expected = referenceClip(grads, expectedNorm / 3, p);
    const norm = await clipper.clipGradNorm(set, expectedNorm / 3, { normType: p }).read();
    expect(relativeError(norm, expectedNorm)).toBeLessThan(1e-5);
    expectLayout(await readBack(device, buffer), contents, expected.clipped, [0, 50_001, 50_400], 1e-5);
  });
});

test('a norm at or below maxNorm leaves every bit unchanged', async () => {
  const clipper = await clipperWith(4);
  await withErrorScopes(device, async () => {
    const exact = upload(device, new Float32Array([3, 4, -0, 1e-30]));
    const set = clipper.gradients([exact]);
    const before = await readBack(device, exact);
    expect(await clipper.clipGradNorm(set, 5).read()).toBe(5);
    expect(bits(await readBack(device, exact))).toEqual(bits(before));
    const grad = randomGradient(10_000, seededRandom(5));
    const buffer = upload(device, grad);
    const norm = totalNormReference([grad], 2);
    await clipper.clipGradNorm(clipper.gradients([buffer]), norm * 1.001).read();
    expect(bits(await readBack(device, buffer))).toEqual(bits(grad));
  });
});

describe('non-finite gradients', () => {
  test('NaN gives a NaN norm and NaN gradients, as PyTorch does', async () => {
    const clipper = await clipperWith(4);
    await withErrorScopes(device, async () => {
      const grad = randomGradient(5000, seededRandom(1));
      grad[4321] = NaN;
      grad[17] = Infinity;
      const buffer = upload(device, grad);
      const set = clipper.gradients([buffer]);
      expect(await clipper.getTotalNorm(set).read()).toBeNaN();
      expect(await clipper.clipGradNorm(set, 1).read()).toBeNaN();
      expect((await readBack(device, buffer)).every(Number.isNaN)).toBe(true);
    });
  });

  test('±Inf gives an Inf norm: finite gradients become 0, infinite ones NaN', async () => {
    const clipper = await clipperWith(4);
    await withErrorScopes(device, async () => {
      const buffer = upload(device, new Float32Array([1, -Infinity, 2, 1e38, 1e38]));
      const set = clipper.gradients([buffer]);
      expect(await clipper.clipGradNorm(set, 1, { normType: Infinity }).read()).toBe(Infinity);
      const after = await readBack(device, buffer);
      expect([after[0], after[2], after[3]]).toEqual([0, 0, 0]);
      expect(after[1]).toBeNaN();
    });
  });

  test('errorIfNonfinite: read() rejects and no gradient changes', async () => {
    const clipper = await clipperWith(4);
    await withErrorScopes(device, async () => {
      for (const bad of [NaN, Infinity, -Infinity]) {
        const grad = randomGradient(3000, seededRandom(3), 10);
        grad[2999] = bad;
        const buffer = upload(device, grad);
        const set = clipper.gradients([{ buffer, offset: 0, length: 3000 }]);
        await expect(clipper.clipGradNorm(set, 0.1, { errorIfNonfinite: true }).read()).rejects.toMatchObject({
          code: 'nonfinite-norm',
          message: expect.stringMatching(/errorIfNonfinite/),
        });
        await expect(clipper.getTotalNorm(set, { errorIfNonfinite: true }).read()).rejects.toMatchObject({
          code: 'nonfinite-norm',
        });
        expect(bits(await readBack(device, buffer))).toEqual(bits(grad));
      }
    });
  });
});

test('squares that overflow or underflow float32 still give the true norm', async () => {
  const clipper = await clipperWith(16);
  await withErrorScopes(device, async () => {
    const random = seededRandom(99);
    // Magnitudes in [scale/2, scale], none subnormal: WGSL lets implementations flush float32
    // subnormals (< 1.2e-38) to zero, so they are outside what any WebGPU kernel can promise.
    // 1e15: squares in range, but sums past 2^100 (the rescaled second read).
    for (const scale of [1e20, 1e-25, 3e38, 1e-36, 1e15]) {
      const grad = randomGradient(100_000, random, scale / 2).map((v) => v + Math.sign(v) * (scale / 2));
      const buffer = upload(device, grad);
      const set = clipper.gradients([buffer]);
      for (const p of [2, 1, 3]) {
        const expected = totalNormReference([grad], p);
        const norm = await clipper.getTotalNorm(set, { normType: p }).read();
        if (!Number.isFinite(Math.fround(expected))) expect(norm).toBe(Infinity);
        else expect(relativeError(norm, expected), `scale ${scale} p ${p}`).toBeLessThan(1e-4);
      }
    }
    // Tiny values in a chunk most lanes have no share of: idle lanes must not flush the others'
    // scaled sums (found by the fuzzer).
    const tiny = randomGradient(70, random, 1e-20);
    expect(
      relativeError(
        await clipper.getTotalNorm(clipper.gradients([upload(device, tiny)])).read(),
        totalNormReference([tiny], 2),
      ),
    ).toBeLessThan(1e-4);
    // All zeros: a zero norm (the p = 2 sweep skips their second read, and must not scale by 0).
    const zeros = clipper.gradients([upload(device, new Float32Array(10_000))]);
    for (const p of [1, 2, 3, Infinity]) expect(await clipper.getTotalNorm(zeros, { normType: p }).read()).toBe(0);
    // Mixed magnitudes in one set: the huge values dominate, the tiny ones must not poison the sum.
    const mixed = [
      randomGradient(1000, random, 1e-30),
      randomGradient(1000, random, 1e19),
      randomGradient(1000, random, 1),
    ];
    const set = clipper.gradients(mixed.map((g) => upload(device, g)));
    expect(relativeError(await clipper.getTotalNorm(set).read(), totalNormReference(mixed, 2))).toBeLessThan(1e-4);
  });
});

test("the encoder option records into the caller's encoder; nothing runs before submit", async () => {
  const clipper = await clipperWith(8);
  await withErrorScopes(device, async () => {
    const grad = randomGradient(10_000, seededRandom(8), 4);
    const buffer = upload(device, grad);
    const set = clipper.gradients([buffer]);
    const encoder = device.createCommandEncoder();
    const handle = clipper.clipGradNorm(set, 1, { encoder });
    clipper.clipGradValue(set, 0.001, { encoder });
    expect(bits(await readBack(device, buffer))).toEqual(bits(grad));
    device.queue.submit([encoder.finish()]);
    expect(relativeError(await handle.read(), totalNormReference([grad], 2))).toBeLessThan(1e-5);
    const after = await readBack(device, buffer);
    expect(after.every((v) => Math.abs(v) <= Math.fround(0.001))).toBe(true);
  });
});

test('a set reused over many steps; handles read after later steps', async () => {
  const clipper = await clipperWith(8);
  await withErrorScopes(device, async () => {
    const random = seededRandom(2024);
    const { views, buffer } = createGradientArena(device, [1000, 17, 4096, 3]);
    const set = clipper.gradients(views);
    const handles: NormHandle[] = [];
    const expectedNorms: number[] = [];
    for (let step = 0; step < 40; step++) {
      const data = randomGradient(buffer.size / 4, random, step % 3 === 0 ? 0.001 : 1);
      device.queue.writeBuffer(buffer, 0, data);
      const grads = views.map((v) => {
        const { offset, length } = v as { offset: number; length: number };
        return data.subarray(offset / 4, offset / 4 + length);
      });
      expectedNorms.push(totalNormReference(grads, 2));
      handles.push(clipper.clipGradNorm(set, 1));
    }
    const norms = await Promise.all(handles.map((h) => h.read()));
    norms.forEach((n, i) => expect(relativeError(n, expectedNorms[i]), `step ${i}`).toBeLessThan(1e-5));
    buffer.destroy();
  });
});

test('a handle is rejected as stale once its result slot was reused', async () => {
  const clipper = await clipperWith(1);
  await withErrorScopes(device, async () => {
    const set = clipper.gradients([upload(device, new Float32Array([1, 2]))]);
    const first = clipper.getTotalNorm(set);
    for (let i = 0; i < 256; i++) clipper.getTotalNorm(set);
    await expect(first.read()).rejects.toMatchObject({ code: 'stale-handle' });
  });
});

test('getTotalNorm writes nothing; clipGradsWithNorm takes a GPU handle or a number', async () => {
  const clipper = await clipperWith(8);
  await withErrorScopes(device, async () => {
    const random = seededRandom(77);
    const a = randomGradient(2000, random, 3);
    const b = randomGradient(500, random, 3);
    const [bufA, bufB] = [upload(device, a), upload(device, b)];
    const everything = clipper.gradients([bufA, bufB]);
    const total = clipper.getTotalNorm(everything);
    const expected = totalNormReference([a, b], 2);
    expect(relativeError(await total.read(), expected)).toBeLessThan(1e-5);
    expect(bits(await readBack(device, bufA))).toEqual(bits(a));
    // Clip each group by the norm of all: the norm never leaves the GPU.
    clipper.clipGradsWithNorm(clipper.gradients([bufA]), 1, total);
    clipper.clipGradsWithNorm(clipper.gradients([bufB]), 1, total);
    const coef = 1 / (expected + 1e-6);
    const [afterA, afterB] = [await readBack(device, bufA), await readBack(device, bufB)];
    expect(relativeError(afterA[5], a[5] * coef)).toBeLessThan(2e-6);
    expect(relativeError(afterB[7], b[7] * coef)).toBeLessThan(2e-6);
    expect(relativeError(totalNormReference([afterA, afterB], 2), 1)).toBeLessThan(1e-5);
    // A number: below maxNorm changes nothing, above it scales.
    const setA = clipper.gradients([bufA]);
    clipper.clipGradsWithNorm(setA, 10, 9);
    expect(bits(await readBack(device, bufA))).toEqual(bits(afterA));
    clipper.clipGradsWithNorm(setA, 1, 4);
    expect(relativeError((await readBack(device, bufA))[5], afterA[5] * (1 / (4 + 1e-6)))).toBeLessThan(2e-6);
  });
});

test('clipGradValue clamps to [-c, c] and [min, max]; NaN stays NaN, ±Inf go to the bounds', async () => {
  const clipper = await clipperWith(8);
  await withErrorScopes(device, async () => {
    const grad = randomGradient(4099, seededRandom(4), 3);
    grad.set([NaN, Infinity, -Infinity, -0], 100);
    const { buffer, views, contents } = layout(device, [grad], [1], 4101);
    const set = clipper.gradients(views);
    clipper.clipGradValue(set, 1);
    const clamp = (lo: number, hi: number) => grad.map((v) => (Number.isNaN(v) ? v : Math.min(Math.max(v, lo), hi)));
    expectLayout(await readBack(device, buffer), contents, [clamp(-1, 1)], [1], 0);
    clipper.clipGradValue(set, { min: -0.25, max: 0.5 });
    expectLayout(await readBack(device, buffer), contents, [clamp(-0.25, 0.5)], [1], 0);
  });
});

test('bad input throws before any GPU work and leaves data as it was', async () => {
  const clipper = await clipperWith(8);
  await withErrorScopes(device, async () => {
    const grad = randomGradient(100, seededRandom(6), 5);
    const buffer = upload(device, grad);
    expect(() =>
      clipper.gradients([
        { buffer, offset: 0, length: 60 },
        { buffer, offset: 200, length: 10 },
      ]),
    ).toThrow(/overlaps/);
    const set = clipper.gradients([buffer]);
    expect(() => clipper.clipGradNorm(set, -1)).toThrow(/maxNorm/);
    expect(() => clipper.clipGradValue(set, { min: 1, max: -1 })).toThrow(/clip.min/);
    expect(() => clipper.gradients([new Float32Array(4)])).toThrow(/Float32Array/);
    const noStorage = device.createBuffer({ size: 16, usage: GPUBufferUsage.COPY_DST });
    expect(() => clipper.gradients([noStorage])).toThrow(/STORAGE/);
    expect(bits(await readBack(device, buffer))).toEqual(bits(grad));
    clipper.destroy();
    expect(() => clipper.clipGradNorm(set, 1)).toThrow(expect.objectContaining({ code: 'destroyed' }));
  });
});

test('createClipper requests its own device and autotunes when given nothing; tuning reports the choice', async () => {
  const clipper = await createClipper();
  expect(clipper.backend).toBe('webgpu');
  const own = clipper.device!;
  const tuning = clipper.tuning!;
  expect(tuning).toMatchObject({ source: 'autotune', timer: 'timestamps' });
  expect(tuning.elements).toBeGreaterThanOrEqual(MIN_TUNE_ELEMENTS);
  // The prior: the core count on a CPU (fallback) adapter such as SwiftShader, else 256.
  const cores = 2 ** Math.round(Math.log2(navigator.hardwareConcurrency));
  expect(tuning.prior).toBe(own.adapterInfo.isFallbackAdapter ? cores : 256);
  const caps = tuning.candidates.map((c) => c.maxWorkgroups);
  expect(caps).toContain(tuning.prior);
  expect(caps).toEqual([...caps].sort((a, b) => a - b));
  for (const c of tuning.candidates) {
    expect(c.samplesMs.length).toBeGreaterThan(0);
    expect(c.samplesMs.every((ms) => ms > 0 && Number.isFinite(ms))).toBe(true);
  }
  // The choice: the final candidate of smallest median, and the cap the clipper's passes use.
  const final = tuning.candidates.filter((c) => c.final);
  const fastest = final.reduce((a, b) => (b.medianMs < a.medianMs ? b : a));
  expect(tuning.chosen).toBe(fastest.maxWorkgroups);
  const largest = 2 ** Math.floor(Math.log2(tuning.elements / 4096));
  const limit = own.limits.maxComputeWorkgroupsPerDimension;
  expect(tuning.maxWorkgroups).toBe(tuning.chosen === largest ? limit : tuning.chosen);
  expect((clipper as unknown as { maxWorkgroups: number }).maxWorkgroups).toBe(tuning.maxWorkgroups);
  await withErrorScopes(own, async () => {
    const grad = randomGradient(70_000, seededRandom(70), 1);
    const buffer = upload(own, grad);
    const norm = await clipper.clipGradNorm(clipper.gradients([buffer]), 1).read();
    expect(relativeError(norm, totalNormReference([grad], 2))).toBeLessThan(1e-5);
  });
  // A reload: the tuning kept as JSON, a new device on the same adapter, no autotune.
  const stored = JSON.parse(JSON.stringify(tuning));
  const adapter = await navigator.gpu.requestAdapter();
  const again = await adapter!.requestDevice({ requiredFeatures: [...own.features] as GPUFeatureName[] });
  const started = performance.now();
  const reloaded = await createClipper({ device: again, tuning: stored });
  expect(reloaded.tuning).toEqual({ ...tuning, source: 'stored' });
  console.log(
    `a stored tuning: createClipper took ${(performance.now() - started).toFixed(1)} ms, the autotune ${tuning.elapsedMs.toFixed(0)} ms`,
  );
  reloaded.destroy();
  again.destroy();
  clipper.destroy();
  own.destroy();
});

test('the autotune builds its pipelines side by side, its timed steps build none, and they are clipGradNorm’s', async () => {
  const first = await sharedDevice();
  const adapter = await navigator.gpu.requestAdapter();
  const fresh = await adapter!.requestDevice({ requiredFeatures: [...first.features] as GPUFeatureName[] });
  const built = { sync: [] as string[], async: [] as string[] };
  const sync = fresh.createComputePipeline.bind(fresh);
  const async = fresh.createComputePipelineAsync.bind(fresh);
  fresh.createComputePipeline = (d) => {
    built.sync.push(d.label ?? '');
    return sync(d);
  };
  fresh.createComputePipelineAsync = (d) => {
    built.async.push(d.label ?? '');
    return async(d);
  };
  const clipper = await createClipper({ device: fresh });
  expect(clipper.tuning!.source).toBe('autotune');
  // A norm's partials and finalize and the scale, all asked for at once; a mismatch between what
  // the autotune asks for and what its steps record would build the latter again, one by one.
  expect(built.async).toHaveLength(3);
  expect(built.async.some((label) => label.includes('norm_partials'))).toBe(true);
  expect(built.async.some((label) => label.includes('norm_finalize'))).toBe(true);
  expect(built.async.some((label) => label.includes('elementwise') && label.includes(`op=${OP_SCALE}`))).toBe(true);
  expect(built.sync).toEqual([]);
  // So a set's first clipGradNorm (the same slot layout: one vec4 window) builds nothing; a
  // clipGradValue builds its clamp.
  const data = Float32Array.from({ length: 4096 }, (_, i) => Math.sin(i));
  const buffer = fresh.createBuffer({ size: data.byteLength, usage: GRAD_USAGE });
  fresh.queue.writeBuffer(buffer, 0, data);
  const set = clipper.gradients([{ buffer, offset: 0, length: data.length }]);
  const norm = Math.hypot(...data);
  expect(await clipper.clipGradNorm(set, norm / 2).read()).toBeCloseTo(norm, 2);
  expect(built.sync).toEqual([]);
  clipper.clipGradValue(set, 0.1);
  expect(built.sync.some((label) => label.includes('elementwise') && label.includes(`op=${OP_CLAMP}`))).toBe(true);
  const clipped = await readBack(fresh, buffer);
  expect(Math.max(...clipped.map(Math.abs))).toBeLessThanOrEqual(Math.fround(0.1));
  buffer.destroy();
  clipper.destroy();
  fresh.destroy();
});

test('buffers whose size is not a multiple of 16, with only STORAGE | COPY_SRC usage', async () => {
  const clipper = await clipperWith(8);
  await withErrorScopes(device, async () => {
    const random = seededRandom(16);
    // Whole small buffers (no whole vec4 at all) and large ones whose last elements need the scalar window.
    const grads = [1, 3, 5, 255, 1025, 70_001].map((n) => randomGradient(n, random, 2));
    const buffers = grads.map((g) => upload(device, g, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC));
    // And views ending inside a buffer's last partial vec4, sentinels after them.
    const shared = layout(device, [randomGradient(7, random), randomGradient(2, random)], [1, 65], 69);
    const set = clipper.gradients([...buffers, ...shared.views]);
    const all = [...grads, shared.contents.slice(1, 8), shared.contents.slice(65, 67)];
    const expected = referenceClip(all, 1, 2);
    expect(relativeError(await clipper.clipGradNorm(set, 1).read(), expected.norm)).toBeLessThan(1e-5);
    for (let i = 0; i < grads.length; i++)
      expectLayout(await readBack(device, buffers[i]), grads[i], [expected.clipped[i]], [0]);
    expectLayout(await readBack(device, shared.buffer), shared.contents, expected.clipped.slice(grads.length), [1, 65]);
    clipper.clipGradValue(set, 0.01);
    const small = await readBack(device, buffers[1]);
    expect(Array.from(small).every((v) => Math.abs(v) <= Math.fround(0.01))).toBe(true);
  });
});

test('found-inf flag on the GPU; onNonfinite "skip" leaves every bit unchanged', async () => {
  const clipper = await clipperWith(8);
  await withErrorScopes(device, async () => {
    const finite = randomGradient(5000, seededRandom(21), 3);
    const finiteSet = clipper.gradients([upload(device, finite)]);
    const ok = clipper.clipGradNorm(finiteSet, 1, { onNonfinite: 'skip' });
    expect(await ok.readFoundInf()).toBe(false);
    expect(relativeError(await ok.read(), totalNormReference([finite], 2))).toBeLessThan(1e-5);
    for (const bad of [NaN, Infinity, -Infinity]) {
      const grad = randomGradient(5000, seededRandom(22), 3);
      grad[1234] = bad;
      const buffer = upload(device, grad);
      const set = clipper.gradients([buffer]);
      const handle = clipper.clipGradNorm(set, 1, { onNonfinite: 'skip' });
      expect(await handle.readFoundInf()).toBe(true);
      const norm = await handle.read();
      if (Number.isNaN(bad)) expect(norm).toBeNaN();
      else expect(norm).toBe(Infinity);
      expect(bits(await readBack(device, buffer))).toEqual(bits(grad));
      // The flag is a u32 an optimizer kernel can read where the handle says.
      const flag = new Uint32Array((await readBack(device, handle.foundInf!)).buffer, handle.foundInfOffset, 1)[0];
      expect(flag).toBe(1);
    }
  });
});

test('a lost device: a pending read settles, later calls throw device-lost, a new clipper works', async () => {
  const adapter = await navigator.gpu.requestAdapter();
  const lostDevice = await adapter!.requestDevice();
  const clipper = await createClipper({ device: lostDevice, maxWorkgroups: 4 });
  const set = clipper.gradients([upload(lostDevice, randomGradient(100_000, seededRandom(31)))]);
  const pending = clipper.clipGradNorm(set, 1).read();
  lostDevice.destroy();
  const settled = await Promise.race([
    pending.then(
      () => 'resolved',
      (error: Error) => error.message,
    ),
    new Promise<string>((done) => setTimeout(() => done('hung'), 10_000)),
  ]);
  expect(settled).not.toBe('hung');
  const info = await lostDevice.lost;
  expect(info.reason).toBe('destroyed');
  expect(() => clipper.clipGradNorm(set, 1)).toThrow(expect.objectContaining({ code: 'device-lost' }));
  expect(() => clipper.gradients([upload(device, new Float32Array(4))])).toThrow(/device was lost \(destroyed\)/);
  // createClipper can be called again, on a live device.
  const again = await createClipper({ device, maxWorkgroups: 4 });
  const grad = randomGradient(1000, seededRandom(32));
  expect(
    relativeError(
      await again.getTotalNorm(again.gradients([upload(device, grad)])).read(),
      totalNormReference([grad], 2),
    ),
  ).toBeLessThan(1e-5);
});

test('clipGradsWithNorm takes a handle of another clipper on the device, and one whose slot comes round again', async () => {
  const [a, b] = [await clipperWith(4), await clipperWith(8)];
  await withErrorScopes(device, async () => {
    const grad = randomGradient(3000, seededRandom(41), 2);
    const bufferA = upload(device, grad);
    const norm = totalNormReference([grad], 2);
    const handle = a.getTotalNorm(a.gradients([bufferA]));
    const copy = upload(device, grad);
    b.clipGradsWithNorm(b.gradients([copy]), 1, handle);
    expect(relativeError((await readBack(device, copy))[7], grad[7] / (norm + 1e-6))).toBeLessThan(2e-6);
    // The same set: 255 more norms, then the next slot is the handle's own.
    const set = a.gradients([bufferA]);
    const old = a.getTotalNorm(set);
    for (let i = 0; i < 255; i++) a.getTotalNorm(set);
    a.clipGradsWithNorm(set, 1, old);
    expect(relativeError((await readBack(device, bufferA))[7], grad[7] / (norm + 1e-6))).toBeLessThan(2e-6);
  });
});

test("f16 views: 'unsupported', naming shader-f16, where the device lacks it (SwiftShader); clipped in f16 where it has it", async () => {
  const device = await sharedDevice();
  const clipper = await createClipper({ device, maxWorkgroups: 8 });
  // Halves 3, 0, 4, 0 by their bits (Float16Array is not everywhere yet).
  const buffer = device.createBuffer({
    label: 'f16 gradients',
    size: 8,
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
  });
  device.queue.writeBuffer(buffer, 0, new Uint16Array([0x4200, 0, 0x4400, 0]));
  const views: GradView[] = [{ buffer, offset: 0, length: 4, dtype: 'f16' }];
  if (!device.features.has('shader-f16')) {
    expect(() => clipper.gradients(views)).toThrow(
      /views\[0\]\.dtype is 'f16', which needs the device feature 'shader-f16'; this device lacks it/,
    );
    expect(() => clipper.gradients(views)).toThrow(expect.objectContaining({ code: 'unsupported' }));
  } else {
    await withErrorScopes(device, async () => {
      expect(await clipper.clipGradNorm(clipper.gradients(views), 1).read()).toBe(5);
    });
    // 0.6 and 0.8 rounded to f16 (either neighbour): 0x38cc/0x38cd and 0x3a66/0x3a67.
    const halves = new Uint16Array((await readBack(device, buffer)).buffer);
    expect([0x38cc, 0x38cd]).toContain(halves[0]);
    expect([0x3a66, 0x3a67]).toContain(halves[2]);
  }
  buffer.destroy();
});

test('the CPU backend clips Float16Arrays in place, rounding each store to nearest (Chromium has Float16Array)', async () => {
  const Float16 = (globalThis as { Float16Array?: new (values: number[]) => { [i: number]: number; length: number } })
    .Float16Array;
  expect(Float16, 'Chromium 135+ has Float16Array').toBeDefined();
  const cpu = await createClipper({ forceCpu: true });
  const a = new Float16!([3, 0, 0.1]);
  const b = new Float16!([4]);
  const set = cpu.gradients([a as unknown as GradView, b as unknown as GradView]);
  const before = [a[0], a[2], b[0]]; // 3, 0.1 as f16 (0.0999755859375), 4
  const exact = Math.fround(totalNormReference([[3, 0, a[2]], [4]], 2)); // the norm as the GPU keeps it
  expect(await cpu.clipGradNorm(set, 1).read()).toBe(exact);
  const coef = 1 / (exact + 1e-6);
  expect([a[0], a[2], b[0]]).toEqual(before.map((x) => new Float16!([x * coef])[0]));
  expect(a[0]).not.toBe(3 * coef); // rounded to f16, not kept at float64
  cpu.clipGradValue(set, 0.3);
  expect(a[0]).toBe(new Float16!([0.3])[0]); // the bound rounded to f16
});
