import { describe, expect, test } from 'vitest';
import { GradclipError, createClipper, type Clipper } from 'gradclip';
import { totalNormReference } from 'gradclip/reference';
import { bits, randomGradient, relativeError, seededRandom } from '../shared/random';

async function cpuClipper(): Promise<Clipper> {
  const clipper = await createClipper({ forceCpu: true });
  expect(clipper.backend).toBe('cpu');
  expect(clipper.device).toBeNull();
  return clipper;
}

test('createClipper falls back to the CPU where WebGPU is unavailable', async () => {
  const clipper = await createClipper();
  expect(clipper.backend).toBe('cpu');
});

describe('CPU backend against the float64 reference', () => {
  test.each([1, 2, 3, Infinity])('clipGradNorm p = %s clips to maxNorm', async (p) => {
    const clipper = await cpuClipper();
    const random = seededRandom(7);
    const grads = [randomGradient(1000, random, 3), randomGradient(3, random), randomGradient(257, random, 0.1)];
    const before = grads.map((g) => g.slice());
    const set = clipper.gradients(grads);
    // The norm as the GPU keeps it: float64, rounded once to float32.
    const expectedNorm = Math.fround(totalNormReference(before, p));
    const norm = await clipper.clipGradNorm(set, 1, { normType: p }).read();
    expect(norm).toBe(expectedNorm);
    const coef = 1 / (expectedNorm + 1e-6);
    grads.forEach((g, k) => g.forEach((v, i) => expect(v).toBe(Math.fround(before[k][i] * coef))));
    expect(relativeError(totalNormReference(grads, p), 1)).toBeLessThan(1e-5);
  });

  test('a norm at or below maxNorm leaves every bit unchanged', async () => {
    const clipper = await cpuClipper();
    const g = new Float32Array([3, 4]);
    const set = clipper.gradients([g]);
    expect(await clipper.clipGradNorm(set, 5).read()).toBe(5);
    expect(Array.from(g)).toEqual([3, 4]);
    expect(await clipper.clipGradNorm(set, 6).read()).toBe(5);
    expect(Array.from(g)).toEqual([3, 4]);
  });

  test('NaN propagates as in PyTorch; errorIfNonfinite rejects and changes nothing', async () => {
    const clipper = await cpuClipper();
    const g = new Float32Array([1, NaN, 2]);
    const set = clipper.gradients([g]);
    const snapshot = bits(g);
    const handle = clipper.clipGradNorm(set, 1, { errorIfNonfinite: true });
    await expect(handle.read()).rejects.toMatchObject({ code: 'nonfinite-norm' });
    expect(bits(g)).toEqual(snapshot);
    expect(await clipper.clipGradNorm(set, 1).read()).toBeNaN();
    expect(Array.from(g).every(Number.isNaN)).toBe(true);

    const h = new Float32Array([1, Infinity]);
    const infSet = clipper.gradients([h]);
    expect(await clipper.clipGradNorm(infSet, 1).read()).toBe(Infinity);
    expect(h[0]).toBe(0);
    expect(h[1]).toBeNaN();
  });

  test('onNonfinite "skip" leaves gradients unchanged and reports found-inf', async () => {
    const clipper = await cpuClipper();
    const g = new Float32Array([1, Infinity, 2]);
    const set = clipper.gradients([g]);
    const handle = clipper.clipGradNorm(set, 1, { onNonfinite: 'skip' });
    expect(await handle.read()).toBe(Infinity);
    expect(await handle.readFoundInf()).toBe(true);
    expect(Array.from(g)).toEqual([1, Infinity, 2]);
    const fine = clipper.clipGradNorm(clipper.gradients([new Float32Array([3, 4])]), 1, { onNonfinite: 'skip' });
    expect(await fine.readFoundInf()).toBe(false);
    expect(handle.foundInf).toBeNull();
  });

  test('getTotalNorm writes nothing; clipGradsWithNorm takes a handle or a number', async () => {
    const clipper = await cpuClipper();
    const a = new Float32Array([6, 8]);
    const b = new Float32Array([0, 0]);
    const all = clipper.gradients([a, b]);
    const norm = clipper.getTotalNorm(all);
    expect(await norm.read()).toBe(10);
    expect(Array.from(a)).toEqual([6, 8]);
    clipper.clipGradsWithNorm(clipper.gradients([a]), 5, norm);
    expect(a[0]).toBeCloseTo(3, 5);
    clipper.clipGradsWithNorm(clipper.gradients([b, a]), 100, 1000);
    expect(a[1]).toBeCloseTo(0.4, 5);
  });

  test('clipGradValue clamps to [-c, c] or [min, max] and keeps NaN', async () => {
    const clipper = await cpuClipper();
    const g = new Float32Array([-3, -0.5, 0.5, 3, NaN, Infinity, -Infinity]);
    const set = clipper.gradients([g]);
    clipper.clipGradValue(set, 1);
    expect(Array.from(g)).toEqual([-1, -0.5, 0.5, 1, NaN, 1, -1]);
    clipper.clipGradValue(set, { min: -0.25, max: 0.75 });
    expect(Array.from(g)).toEqual([-0.25, -0.25, 0.5, 0.75, NaN, 0.75, -0.25]);
  });

  test('overflowing and underflowing squares still give the true norm', async () => {
    const clipper = await cpuClipper();
    const big = new Float32Array(1000).fill(1e20);
    expect(await clipper.getTotalNorm(clipper.gradients([big])).read()).toBe(
      Math.fround(Math.fround(1e20) * Math.sqrt(1000)),
    );
    const small = new Float32Array(1000).fill(1e-25);
    expect(await clipper.getTotalNorm(clipper.gradients([small])).read()).toBe(
      Math.fround(Math.fround(1e-25) * Math.sqrt(1000)),
    );
  });
});

describe('bad input throws before anything changes', () => {
  async function setup() {
    const clipper = await cpuClipper();
    const g = new Float32Array([3, 4]);
    return { clipper, g, set: clipper.gradients([g]) };
  }

  test.each([
    [
      'negative maxNorm',
      (c: Clipper, s: ReturnType<Clipper['gradients']>) => c.clipGradNorm(s, -1),
      /maxNorm must be a number >= 0, got -1/,
    ],
    ['NaN maxNorm', (c: Clipper, s: ReturnType<Clipper['gradients']>) => c.clipGradNorm(s, NaN), /maxNorm/],
    [
      'normType 0',
      (c: Clipper, s: ReturnType<Clipper['gradients']>) => c.clipGradNorm(s, 1, { normType: 0 }),
      /normType must be a number > 0/,
    ],
    [
      'normType NaN',
      (c: Clipper, s: ReturnType<Clipper['gradients']>) => c.getTotalNorm(s, { normType: NaN }),
      /normType/,
    ],
    [
      'negative clip',
      (c: Clipper, s: ReturnType<Clipper['gradients']>) => c.clipGradValue(s, -1),
      /clip must be a number >= 0/,
    ],
    ['NaN clip', (c: Clipper, s: ReturnType<Clipper['gradients']>) => c.clipGradValue(s, NaN), /clip must be/],
    [
      'min > max',
      (c: Clipper, s: ReturnType<Clipper['gradients']>) => c.clipGradValue(s, { min: 1, max: 0 }),
      /clip.min \(1\) must be <= clip.max \(0\)/,
    ],
    [
      'maxNorm with a given norm',
      (c: Clipper, s: ReturnType<Clipper['gradients']>) => c.clipGradsWithNorm(s, -2, 1),
      /maxNorm/,
    ],
    [
      'an unknown onNonfinite',
      (c: Clipper, s: ReturnType<Clipper['gradients']>) => c.clipGradNorm(s, 1, { onNonfinite: 'ignore' as never }),
      /onNonfinite must be 'propagate' or 'skip', got "ignore"/,
    ],
  ])('%s', async (_, call, message) => {
    const { clipper, g, set } = await setup();
    expect(() => call(clipper, set)).toThrow(message);
    try {
      call(clipper, set);
    } catch (error) {
      expect(error).toBeInstanceOf(GradclipError);
      expect((error as GradclipError).code).toBe('invalid-argument');
    }
    expect(Array.from(g)).toEqual([3, 4]);
  });

  test('views: empty set, GPU buffers, overlap', async () => {
    const clipper = await cpuClipper();
    expect(() => clipper.gradients([])).toThrow(/views must be a non-empty array/);
    const fakeBuffer = { size: 16, usage: 0x80, mapAsync() {} } as unknown as GPUBuffer;
    expect(() => clipper.gradients([fakeBuffer])).toThrow(
      /views\[0\] is a GPU buffer; the CPU backend takes Float32Array/,
    );
    const storage = new Float32Array(10);
    expect(() => clipper.gradients([storage.subarray(0, 5), storage.subarray(4, 10)])).toThrow(
      /views\[1\] overlaps views\[0\]/,
    );
    expect(() => clipper.gradients([storage.subarray(0, 5), storage.subarray(5, 10)])).not.toThrow();
  });

  test('a set from another clipper, a destroyed clipper, an encoder on the CPU', async () => {
    const { clipper, set } = await setup();
    const other = await cpuClipper();
    expect(() => other.clipGradNorm(set, 1)).toThrow(/set must come from this clipper/);
    expect(() => clipper.clipGradNorm(set, 1, { encoder: {} as GPUCommandEncoder })).toThrow(
      /encoder applies to the WebGPU backend/,
    );
    clipper.destroy();
    expect(set.destroyed).toBe(true);
    expect(() => clipper.clipGradNorm(set, 1)).toThrow(expect.objectContaining({ code: 'destroyed' }));
  });
});
