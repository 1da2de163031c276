// Seeded random cases on real WebGPU against the float64 reference: views at odd offsets in shared
// buffers and in separate buffers of odd sizes, p in {1, 2, 3, ∞}, magnitudes from 1e-30 to 1e30,
// injected NaN/±Inf, thresholds above and below the norm, clip by value. A failure names its seed.
import { beforeAll, expect, test } from 'vitest';
import { createClipper, totalNormReference, type Clipper, type GradView } from 'gradclip';
import { bits, relativeError, seededRandom } from '../shared/random';
import { readBack, sharedDevice, upload, withErrorScopes } from './gpu';

const SENTINEL = -7.654321e29;
/** The smallest normal float32. */
const FLT_MIN = 2 ** -126;
let device: GPUDevice;
let clippers: Clipper[];
beforeAll(async () => {
  device = await sharedDevice();
  clippers = await Promise.all([1, 3, 16].map((maxWorkgroups) => createClipper({ device, maxWorkgroups })));
});

interface Placed {
  buffer: GPUBuffer;
  contents: Float32Array<ArrayBuffer>;
  views: Array<{ offset: number; length: number }>;
}

function randomCase(seed: number) {
  const random = seededRandom(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));
  const scale = 10 ** int(-30, 30) * (random() < 0.5 ? 1 : 1e-3);
  const value = () => (random() * 2 - 1) * scale;
  const placed: Placed[] = [];
  for (let b = int(1, 9); b > 0; b--) {
    const views: Placed['views'] = [];
    let at = int(0, 5);
    for (let v = int(1, 5); v > 0; v--) {
      const length = int(1, random() < 0.2 ? 20_000 : 300);
      views.push({ offset: at, length });
      at += length + int(0, 3);
    }
    const contents = new Float32Array(at + int(0, 3)).fill(SENTINEL);
    for (const v of views) for (let i = 0; i < v.length; i++) contents[v.offset + i] = value();
    placed.push({ buffer: upload(device, contents), contents, views });
  }
  const grads = placed.flatMap((p) => p.views.map((v) => p.contents.subarray(v.offset, v.offset + v.length)));
  const special = random();
  if (special < 0.08) grads[int(0, grads.length - 1)][0] = NaN;
  else if (special < 0.16) grads[int(0, grads.length - 1)][0] = random() < 0.5 ? Infinity : -Infinity;
  for (const p of placed) device.queue.writeBuffer(p.buffer, 0, p.contents);
  const p = [1, 2, 3, Infinity][int(0, 3)];
  return { placed, grads, p, random, clipper: clippers[int(0, clippers.length - 1)], byValue: random() < 0.2 };
}

test('200 random cases match the float64 reference', async () => {
  await withErrorScopes(device, async () => {
    for (let seed = 1; seed <= 200; seed++) {
      const { placed, grads, p, random, clipper, byValue } = randomCase(seed);
      const before = placed.map((pl) => pl.contents.slice());
      const expectedGrads = grads.map((g) => g.slice());
      const views: GradView[] = placed.flatMap((pl) => pl.views.map((v) => ({ buffer: pl.buffer, offset: 4 * v.offset, length: v.length })));
      const set = clipper.gradients(views);
      const norm = totalNormReference(grads, p);
      let expectedNorm: number | null = null;
      if (byValue) {
        const bound = Math.abs(grads[0][0]) || 1;
        clipper.clipGradValue(set, bound);
        expectedGrads.forEach((g) => g.forEach((v, i) => (g[i] = Number.isNaN(v) ? v : Math.min(Math.max(v, -bound), bound))));
      } else {
        const maxNorm = Number.isFinite(norm) ? norm * (random() < 0.5 ? 0.3 : 3) : 1;
        expectedNorm = await clipper.clipGradNorm(set, maxNorm, { normType: p }).read();
        const coef = norm > maxNorm || !Number.isFinite(norm) ? maxNorm / (norm + 1e-6) : 1;
        if (coef !== 1) expectedGrads.forEach((g) => g.forEach((v, i) => (g[i] = v * coef)));
        const error = relativeError(expectedNorm, norm);
        expect(error, `seed ${seed}: p ${p}, norm ${expectedNorm} vs ${norm}`).toBeLessThan(1e-4);
      }
      // Every element: in a view, as the reference says; outside, bit for bit as before.
      let k = 0;
      for (let b = 0; b < placed.length; b++) {
        const after = await readBack(device, placed[b].buffer);
        const expected = before[b].slice();
        for (const v of placed[b].views) expected.set(expectedGrads[k++], v.offset);
        const inView = new Uint8Array(expected.length);
        for (const v of placed[b].views) inView.fill(1, v.offset, v.offset + v.length);
        for (let i = 0; i < expected.length; i++) {
          const [a, e] = [after[i], expected[i]];
          // Subnormal results may be flushed to zero (WGSL allows it).
          const ok = inView[i]
            ? (Number.isNaN(e) && Number.isNaN(a)) || a === e || Math.abs(a - e) <= 2e-6 * Math.abs(e) || (Math.abs(e) < FLT_MIN && Math.abs(a) < FLT_MIN)
            : bits(after.subarray(i, i + 1))[0] === bits(before[b].subarray(i, i + 1))[0];
          if (!ok) expect(`${a}`, `seed ${seed}: buffer ${b} element ${i}${inView[i] ? '' : ' (outside every view)'}`).toBe(`${e}`);
        }
        placed[b].buffer.destroy();
      }
    }
  });
});
