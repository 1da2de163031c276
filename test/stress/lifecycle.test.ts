// Sets built every step need no lifetime management: 10 000 steps of the README's TF.js pattern
// (examples/tfjs-loop.ts: a set over each step's new gradient tensors) and of gradients() called
// every step over the same buffers, with the live bytes of every GPU buffer on the device
// counted. Before the set pool each step's set kept its result ring, partials, tables and
// dispatch arguments: ~66 KB a step, 660 MB over 10 000 steps.
import { expect, test } from 'vitest';
import { createClipper, createGradScaler, createOptimizer } from 'gradclip';
import { run as runTfjsLoop } from '../../examples/tfjs-loop';
import { countLiveBytes, type LiveBytes } from '../shared/live-bytes';
import { randomGradient, seededRandom } from '../shared/random';
import { sharedDevice, upload, withErrorScopes } from '../browser/gpu';

const STEPS = 10_000;
const MIB = 1024 * 1024;

/** Runs `body` with live bytes counted; `mark(step)` notes them after step 100 and the last. */
async function liveBytesOver(device: GPUDevice, body: (mark: (step: number) => void) => Promise<unknown>) {
  const live: LiveBytes = countLiveBytes(device);
  let early = NaN;
  let late = NaN;
  try {
    await withErrorScopes(device, () =>
      body((step) => {
        if (step === 100) early = live.liveBytes;
        if (step === STEPS) late = live.liveBytes;
      }),
    );
  } finally {
    live.restore();
  }
  const labels = [...live.createdByLabel()].map(([label, n]) => `${label} ×${n}`).join(', ');
  return { early, late, labels };
}

test(`${STEPS} steps of the README's TF.js pattern: live GPU bytes grow by under 1 MiB`, async () => {
  const device = await sharedDevice();
  const { early, late, labels } = await liveBytesOver(device, (mark) =>
    runTfjsLoop(device, { steps: STEPS, logEvery: 2_000, onStep: mark }),
  );
  console.log(`TF.js pattern: live bytes after step 100 ${early}, after step ${STEPS} ${late} (created: ${labels})`);
  expect(late - early).toBeLessThan(MIB);
}, 900_000);

test(`${STEPS} steps that call gradients() every step over the same buffers: live GPU bytes grow by under 1 MiB`, async () => {
  const device = await sharedDevice();
  const clipper = await createClipper({ device, maxWorkgroups: 4 });
  const random = seededRandom(3);
  const buffers = [randomGradient(300, random), randomGradient(17, random), randomGradient(4096, random)].map((a) =>
    upload(device, a),
  );
  const { early, late, labels } = await liveBytesOver(device, async (mark) => {
    for (let step = 1; step <= STEPS; step++) {
      const set = clipper.gradients(buffers.map((buffer) => ({ buffer, offset: 0, length: buffer.size / 4 })));
      const norm = clipper.clipGradNorm(set, 1e9);
      if (step % 2_000 === 0) expect(await norm.read()).toBeGreaterThan(0);
      mark(step);
    }
  });
  console.log(
    `per-step gradients(): live bytes after step 100 ${early}, after step ${STEPS} ${late} (created: ${labels})`,
  );
  expect(late - early).toBeLessThan(MIB);
  clipper.destroy();
}, 900_000);

test(`${STEPS} mixed-precision steps (a GradScaler: scaled clip, fused Adam, update; an overflow every 97 steps): live GPU bytes grow by under 1 MiB`, async () => {
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
  const { early, late, labels } = await liveBytesOver(device, async (mark) => {
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
  console.log(`GradScaler loop: live bytes after step 100 ${early}, after step ${STEPS} ${late} (created: ${labels})`);
  expect(late - early).toBeLessThan(MIB);
  // Each overflow skipped its own step, and only it.
  expect((await optimizer.state()).step).toBe(STEPS - Math.floor(STEPS / 97));
  clipper.destroy();
}, 900_000);
