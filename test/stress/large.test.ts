// Sizes beyond one binding (`npm run test:stress`): on a default device (128 MiB per storage
// binding, 256 MiB per buffer) a single 200 MiB view, and sets whose views total more than one
// binding, clip correctly: the planner splits a buffer's range into several windows.
import { beforeAll, expect, test } from 'vitest';
import { createClipper, type Clipper, type GradView } from 'gradclip';
import { totalNormReference } from 'gradclip/reference';
import { normErrorBound } from '../shared/fuzz-check';
import { readBack, sharedDevice, withErrorScopes } from '../browser/gpu';

const MIB = 1024 * 1024;
const SENTINEL = -7.5e29;
let device: GPUDevice;
let clipper: Clipper;
beforeAll(async () => {
  device = await sharedDevice();
  clipper = await createClipper({ device, maxWorkgroups: 64 });
});

/** A buffer of `bytes` filled with a cheap deterministic pattern, sentinels outside [first, first + length). */
function filled(bytes: number, first: number, length: number, seed: number) {
  const contents = new Float32Array(bytes / 4).fill(SENTINEL);
  let state = seed >>> 0;
  for (let i = first; i < first + length; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    contents[i] = state / 2 ** 31 - 1;
  }
  const buffer = device.createBuffer({
    label: 'stress gradients',
    size: bytes,
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
  });
  device.queue.writeBuffer(buffer, 0, contents);
  return { buffer, contents };
}

/** Clips at half the norm and checks the norm, every element of every view and the sentinels. */
async function clipAndCheck(
  parts: Array<{ buffer: GPUBuffer; contents: Float32Array; views: Array<{ offset: number; length: number }> }>,
) {
  const arrays = parts.flatMap((p) => p.views.map((v) => p.contents.subarray(v.offset, v.offset + v.length)));
  const n = arrays.reduce((k, a) => k + a.length, 0);
  const norm = totalNormReference(arrays, 2);
  const views: GradView[] = parts.flatMap((p) =>
    p.views.map((v) => ({ buffer: p.buffer, offset: 4 * v.offset, length: v.length })),
  );
  const set = clipper.gradients(views);
  const gpuNorm = await clipper.clipGradNorm(set, norm / 2).read();
  expect(Math.abs(gpuNorm - norm) / norm).toBeLessThanOrEqual(normErrorBound(n));
  const coef = norm / 2 / (norm + 1e-6);
  for (const p of parts) {
    const after = await readBack(device, p.buffer);
    const inView = new Uint8Array(p.contents.length);
    for (const v of p.views) inView.fill(1, v.offset, v.offset + v.length);
    let bad = -1;
    for (let i = 0; i < p.contents.length && bad < 0; i++) {
      const want = inView[i] ? p.contents[i] * coef : p.contents[i];
      if (
        !(after[i] === want || (inView[i] && Math.abs(after[i] - want) <= (normErrorBound(n) + 2e-7) * Math.abs(want)))
      )
        bad = i;
    }
    expect(bad, bad >= 0 ? `element ${bad}: ${after[bad]}` : '').toBe(-1);
    p.buffer.destroy();
  }
}

test('one 200 MiB view, above the 128 MiB binding limit', async () => {
  expect(device.limits.maxStorageBufferBindingSize).toBeLessThan(200 * MIB);
  await withErrorScopes(device, async () => {
    const length = (200 * MIB) / 4 - 8;
    const part = filled(200 * MIB, 3, length, 1);
    await clipAndCheck([{ ...part, views: [{ offset: 3, length }] }]);
  });
}, 600_000);

test('sets totalling more than one binding: three 60 MiB buffers, and a 150 MiB arena of odd views', async () => {
  await withErrorScopes(device, async () => {
    const floats = (60 * MIB) / 4;
    const separate = [1, 2, 3].map((seed) => ({
      ...filled(60 * MIB, 1, floats - 2, seed),
      views: [{ offset: 1, length: floats - 2 }],
    }));
    await clipAndCheck(separate);
    const arenaFloats = (150 * MIB) / 4;
    const views = [
      { offset: 5, length: 7 },
      { offset: 13, length: arenaFloats / 2 },
      { offset: 17 + arenaFloats / 2, length: arenaFloats / 2 - 40 },
    ];
    const arena = filled(150 * MIB, 0, arenaFloats, 9);
    // Gaps between the views keep sentinels.
    arena.contents.fill(SENTINEL, 0, 5);
    arena.contents.fill(SENTINEL, 12, 13);
    arena.contents.fill(SENTINEL, 13 + arenaFloats / 2, 17 + arenaFloats / 2);
    arena.contents.fill(SENTINEL, 17 + arenaFloats - 40);
    device.queue.writeBuffer(arena.buffer, 0, arena.contents);
    await clipAndCheck([{ ...arena, views }]);
  });
}, 600_000);
