// Sets built every step need no lifetime management: steps of the README's TF.js pattern
// (examples/tfjs-loop.ts: a set over each step's new gradient tensors), 10 000 steps of
// gradients() called every step over the same buffers, 10 000 mixed-precision steps and 10 000
// DP-SGD steps, with the live bytes of every GPU buffer on the device counted from step 100 on. Before
// the set pool each step's set kept its result ring, partials, tables and dispatch arguments: ~66 KB
// a step, 660 MB over 10 000 steps. Each loop fails on a leak of one 16-byte buffer a step (growthLimit).
import { expect, test } from 'vitest';
import { createClipper, createGradScaler, createOptimizer } from 'gradclip';
import { run as runTfjsLoop } from '../../examples/tfjs-loop';
import { countLiveBytes, counted, growthLimit, WARMUP_STEPS, type LiveBytes } from '../shared/live-bytes';
import { randomGradient, seededRandom } from '../shared/random';
import { sharedDevice, upload, withErrorScopes } from '../browser/gpu';

const STEPS = 10_000;
/**
 * The TF.js pattern's steps: each is TF.js's own backward and update (~8 ms on SwiftShader), and
 * 2 000 are enough for its limit to catch a 16-byte leak a step; `npm test` runs it 1 000 steps.
 */
const TFJS_STEPS = 2_000;

/** Runs `body` with live bytes counted; `mark(step)` notes them after step WARMUP_STEPS and step `steps`. */
async function liveBytesOver(
  device: GPUDevice,
  steps: number,
  body: (mark: (step: number) => void) => Promise<unknown>,
) {
  const live: LiveBytes = countLiveBytes(device);
  let early = NaN;
  let late = NaN;
  try {
    await withErrorScopes(device, () =>
      body((step) => {
        if (step === WARMUP_STEPS) early = live.liveBytes;
        if (step === steps) late = live.liveBytes;
      }),
    );
  } finally {
    live.restore();
  }
  const labels = [...live.createdByLabel()].map(([label, n]) => `${label} ×${n}`).join(', ');
  return { early, late, labels };
}

test(`${counted(TFJS_STEPS)} steps of the README's TF.js pattern: live GPU bytes grow by under ${growthLimit(TFJS_STEPS)} B`, async () => {
  const device = await sharedDevice();
  const { early, late, labels } = await liveBytesOver(device, TFJS_STEPS, (mark) =>
    runTfjsLoop(device, { steps: TFJS_STEPS, logEvery: 500, onStep: mark }),
  );
  console.log(
    `TF.js pattern: live bytes after step ${WARMUP_STEPS} ${early}, after step ${TFJS_STEPS} ${late} (created: ${labels})`,
  );
  expect(late - early).toBeLessThan(growthLimit(TFJS_STEPS));
}, 900_000);

test(`${counted(STEPS)} steps that call gradients() every step over the same buffers: live GPU bytes grow by under ${growthLimit(STEPS)} B`, async () => {
  const device = await sharedDevice();
  const clipper = await createClipper({ device, maxWorkgroups: 4 });
  const random = seededRandom(3);
  const buffers = [randomGradient(300, random), randomGradient(17, random), randomGradient(4096, random)].map((a) =>
    upload(device, a),
  );
  const { early, late, labels } = await liveBytesOver(device, STEPS, async (mark) => {
    for (let step = 1; step <= STEPS; step++) {
      const set = clipper.gradients(buffers.map((buffer) => ({ buffer, offset: 0, length: buffer.size / 4 })));
      const norm = clipper.clipGradNorm(set, 1e9);
      if (step % 2_000 === 0) expect(await norm.read()).toBeGreaterThan(0);
      mark(step);
    }
  });
  console.log(
    `per-step gradients(): live bytes after step ${WARMUP_STEPS} ${early}, after step ${STEPS} ${late} (created: ${labels})`,
  );
  expect(late - early).toBeLessThan(growthLimit(STEPS));
  clipper.destroy();
}, 900_000);

test(`${counted(STEPS)} mixed-precision steps (a GradScaler: scaled clip, fused Adam, update; an overflow every 97 steps): live GPU bytes grow by under ${growthLimit(STEPS)} B`, async () => {
  const device = await sharedDevice();
  const clipper = await createClipper({ device, maxWorkgroups: 4 });
  const random = seededRandom(5);
  const normal = randomGradient(4096, random);
  const poisoned = normal.slice();
  poisoned[7] = Number.POSITIVE_INFINITY;
  const grads = upload(device, normal);
  const params = upload(device, randomGradient(4096, random));
  const gradSet = clipper.gradients([grads]);
  const scaler = createGradScaler(clipper, { initScale: 2 ** 16, growthInterval: 50 });
  const optimizer = createOptimizer(clipper, {
    params: clipper.gradients([params]),
    grads: gradSet,
    kind: 'adam',
    lr: 1e-4,
    scaler,
  });
  const { early, late, labels } = await liveBytesOver(device, STEPS, async (mark) => {
    for (let step = 1; step <= STEPS; step++) {
      device.queue.writeBuffer(grads, 0, step % 97 === 0 ? poisoned : normal); // backward's fresh gradients
      const encoder = device.createCommandEncoder();
      const norm = clipper.clipGradNorm(gradSet, 1, { scaler, encoder });
      optimizer.step({ encoder });
      scaler.update({ encoder });
      device.queue.submit([encoder.finish()]);
      if (step % 2_000 === 0) expect(Number.isFinite(await norm.read())).toBe(true);
      mark(step);
    }
  });
  console.log(
    `GradScaler loop: live bytes after step ${WARMUP_STEPS} ${early}, after step ${STEPS} ${late} (created: ${labels})`,
  );
  expect(late - early).toBeLessThan(growthLimit(STEPS));
  // Each overflow skipped its own step, and only it.
  expect((await optimizer.state()).step).toBe(STEPS - Math.floor(STEPS / 97));
  clipper.destroy();
}, 900_000);

test(`${counted(STEPS)} DP-SGD steps (a private optimizer: per-example clip, sum, noise, SGD; batches of 0 to 8 examples): live GPU bytes grow by under ${growthLimit(STEPS)} B`, async () => {
  const device = await sharedDevice();
  const clipper = await createClipper({ device, maxWorkgroups: 4 });
  const random = seededRandom(7);
  const batchSize = 8;
  // One example's lengths: a small model, a view past one workgroup's reach and an odd one.
  const lengths = [300, 17];
  const perExample = lengths.map((n) => randomGradient(n * batchSize, random));
  const grads = perExample.map((a) => upload(device, a));
  const params = lengths.map((n) => upload(device, randomGradient(n, random)));
  const optimizer = createOptimizer(clipper, {
    params: clipper.gradients(params),
    grads: clipper.gradients(grads),
    kind: 'sgd',
    lr: 1e-3,
    momentum: 0.9,
    privacy: { batchSize, maxNorm: 1, noiseMultiplier: 1.1, seed: 2n ** 40n + 3n },
  });
  const { early, late, labels } = await liveBytesOver(device, STEPS, async (mark) => {
    for (let step = 1; step <= STEPS; step++) {
      grads.forEach((buffer, v) => device.queue.writeBuffer(buffer, 0, perExample[v])); // backward's fresh gradients
      const encoder = device.createCommandEncoder();
      // Poisson sampling's varying batch, empty ones included.
      const norm = optimizer.step({ encoder, examples: step % (batchSize + 1) });
      device.queue.submit([encoder.finish()]);
      if (step % 2_000 === 0) expect(Number.isFinite(await norm.read())).toBe(true);
      mark(step);
    }
  });
  console.log(
    `DP-SGD loop: live bytes after step ${WARMUP_STEPS} ${early}, after step ${STEPS} ${late} (created: ${labels})`,
  );
  expect(late - early).toBeLessThan(growthLimit(STEPS));
  // Every step was taken and drew its own noise step.
  expect(await optimizer.state()).toMatchObject({ step: STEPS, noiseStep: STEPS });
  optimizer.destroy();
  clipper.destroy();
}, 900_000);
