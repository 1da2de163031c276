// Zero chunks on real WebGPU: a p = 2 share that held only ±0 skips the norm's second read, so
// these check that nothing else skips it: tiny non-zero values (whose squares flush to zero) beside
// zeros, alone in a sea of zeros, or subnormal; NaN/Inf in zero chunks; and all-zero sets. Every
// layout runs with 1 and 64 workgroups (whole views in one lane's share, and shares of a few
// vec4s), through the total norm and the per-view norms, against the float64 reference.
import { beforeAll, describe, expect, test } from 'vitest';
import { createClipper, createGradientArena, type Clipper, type GradView } from '../../src/index';
import { totalNormReference } from '../../src/reference/index';
import { bits, randomGradient, relativeError, seededRandom } from '../shared/random';
import { readBack, sharedDevice, upload, withErrorScopes } from './gpu';

/** The smallest normal float32: below it a GPU may flush to zero. */
const MIN_NORMAL = 2 ** -126;

let device: GPUDevice;
beforeAll(async () => {
  device = await sharedDevice();
});

/** Rows of `width` floats, zero except every `every`-th row, which holds `fill(row)` values. */
function sparseRows(rows: number, width: number, every: number, fill: (row: number) => Float32Array) {
  const g = new Float32Array(rows * width);
  for (let r = 0; r < rows; r += every) g.set(fill(r).subarray(0, width), r * width);
  return g;
}

/** `length` zeros (some -0) with `values` at `at`. */
function zerosWith(length: number, at: number[], values: number[]) {
  const g = new Float32Array(length);
  for (let i = 0; i < length; i += 7) g[i] = -0;
  at.forEach((i, k) => (g[i] = values[k]));
  return g;
}

/** A view's byte offset (the arena's views are all `{ buffer, offset, length }`). */
function offsetOf(view: GradView): number {
  return 'offset' in view ? view.offset : 0;
}

/** One arena holding `grads`; its views and a clipper's set on them. */
function arenaSet(clipper: Clipper, grads: Float32Array<ArrayBuffer>[]) {
  const arena = createGradientArena(
    device,
    grads.map((g) => g.length),
  );
  grads.forEach((g, i) => device.queue.writeBuffer(arena.buffer, offsetOf(arena.views[i]), g));
  return { arena, set: clipper.gradients(arena.views) };
}

async function viewsOf(buffer: GPUBuffer, grads: Float32Array[], offsets: number[]) {
  const all = await readBack(device, buffer);
  return grads.map((g, i) => all.subarray(offsets[i] / 4, offsets[i] / 4 + g.length));
}

const random = seededRandom(4242);
const LAYOUTS: Array<[string, () => Float32Array<ArrayBuffer>[]]> = [
  // An embedding table zero but for every 50th row, beside dense layers.
  [
    'sparse embedding rows beside dense views',
    () => [
      sparseRows(2048, 160, 50, () => randomGradient(160, random, 1)),
      randomGradient(40_000, random, 0.5),
      new Float32Array(1_003),
    ],
  ],
  // Squares of 1e-25..1e-30 flush to zero: these shares sum to 0 yet are not zero.
  [
    'tiny non-zero rows between zero rows',
    () => [sparseRows(1024, 96, 3, (r) => randomGradient(96, random, r % 2 ? 1e-25 : 1e-30)), new Float32Array(4_097)],
  ],
  ['one tiny value in a sea of zeros', () => [zerosWith(70_001, [12_345], [3e-30]), new Float32Array(257)]],
  [
    'tiny values alone, no dense neighbour to set the scale',
    () => [zerosWith(131_072, [5, 65_536, 131_071], [1e-36, -2e-33, 7e-31])],
  ],
  ['dense values at both ends of a zero view', () => [zerosWith(100_000, [0, 99_999], [-1.5, 2.5])]],
];

describe.each([1, 64])('zero chunks with at most %i workgroups', (maxWorkgroups) => {
  test.each(LAYOUTS)('%s: total and per-view norms, then clipping', async (_, make) => {
    const grads = make();
    const clipper = await createClipper({ device, maxWorkgroups });
    await withErrorScopes(device, async () => {
      const { arena, set } = arenaSet(clipper, grads);
      for (const p of [2, 1, 3, Infinity]) {
        const expected = totalNormReference(grads, p);
        expect(expected).toBeGreaterThan(0);
        expect(relativeError(await clipper.getTotalNorm(set, { normType: p }).read(), expected), `p ${p}`).toBeLessThan(
          1e-5,
        );
        const perView = await clipper.perTensorNorms(set, { normType: p }).read();
        grads.forEach((g, i) =>
          expect(relativeError(perView[i], totalNormReference([g], p)), `p ${p} view ${i}`).toBeLessThan(1e-5),
        );
      }
      // Clipped to half the norm: every element scaled, tiny ones included (a coefficient of
      // maxNorm / (norm + 1e-6) takes them below float32's normal range, where a GPU may flush to
      // zero); zeros keep their sign bit.
      const norm = totalNormReference(grads, 2);
      await clipper.clipGradNorm(set, norm / 2).read();
      const coef = norm / 2 / (norm + 1e-6);
      const after = await viewsOf(arena.buffer, grads, arena.views.map(offsetOf));
      grads.forEach((g, i) => {
        for (let k = 0; k < g.length; k++) {
          const at = `view ${i} element ${k}`;
          const want = Math.fround(g[k] * coef);
          if (g[k] === 0) expect(bits(after[i].subarray(k, k + 1))[0], at).toBe(bits(g.subarray(k, k + 1))[0]);
          else if (Math.abs(want) < MIN_NORMAL) expect(Math.abs(after[i][k]), at).toBeLessThan(MIN_NORMAL);
          else if (Math.abs(after[i][k] - want) > 2e-6 * Math.abs(want)) expect(after[i][k], at).toBe(want);
        }
      });
    });
    clipper.destroy();
  });

  test('all-zero views (with -0): norm 0 for every p, nothing written even with maxNorm 0', async () => {
    const clipper = await createClipper({ device, maxWorkgroups });
    await withErrorScopes(device, async () => {
      const grads = [zerosWith(300_001, [], []), new Float32Array(5), zerosWith(4_096, [], [])];
      const { arena, set } = arenaSet(clipper, grads);
      const before = bits(await readBack(device, arena.buffer));
      for (const p of [2, 1, 3, Infinity]) {
        expect(await clipper.getTotalNorm(set, { normType: p }).read()).toBe(0);
        expect(Array.from(await clipper.perTensorNorms(set, { normType: p }).read())).toEqual([0, 0, 0]);
      }
      expect(await clipper.clipGradNorm(set, 0).read()).toBe(0);
      expect(await clipper.clipGradNorm(set, 1).read()).toBe(0);
      expect(bits(await readBack(device, arena.buffer))).toEqual(before);
    });
    clipper.destroy();
  });

  test('NaN and ±Inf inside zero chunks are still found', async () => {
    const clipper = await createClipper({ device, maxWorkgroups });
    await withErrorScopes(device, async () => {
      for (const [value, expected] of [
        [Number.NaN, Number.NaN],
        [-Infinity, Infinity],
      ]) {
        const grad = zerosWith(65_537, [40_000], [value]);
        const set = clipper.gradients([upload(device, grad)]);
        for (const p of [2, 1, Infinity]) {
          const norm = await clipper.getTotalNorm(set, { normType: p }).read();
          expect(relativeError(norm, expected), `${value} p ${p}`).toBe(0);
        }
      }
    });
    clipper.destroy();
  });
});

test('a share of only subnormals counts as its true norm or, where the GPU flushes them, as zero', async () => {
  const clipper = await createClipper({ device, maxWorkgroups: 4 });
  await withErrorScopes(device, async () => {
    // Subnormals alone: WGSL lets an implementation flush them, so either answer is allowed, and
    // nothing else (no NaN, no scale by 0, no value from a neighbour's scale).
    const grad = zerosWith(50_000, [10, 20_000, 49_999], [1e-40, -3e-41, 5e-39]);
    const set = clipper.gradients([upload(device, grad)]);
    for (const p of [2, 1]) {
      const norm = await clipper.getTotalNorm(set, { normType: p }).read();
      const expected = totalNormReference([grad], p);
      if (norm !== 0) expect(relativeError(norm, expected), `p ${p}`).toBeLessThan(1e-3);
    }
  });
  clipper.destroy();
});
