// 10 000 steps on one set on a real device, counted by wrapping the device's create methods:
// nothing is created after the first step (reads every 1 000 steps reuse a pooled staging buffer).
// A small view at an odd offset, past one workgroup's reach (1 027 > 256 × 4): the count, not the size, is the claim.
import { expect, test } from 'vitest';
import { createClipper } from 'gradclip';
import { randomGradient, seededRandom } from '../shared/random';
import { sharedDevice, upload, withErrorScopes } from '../browser/gpu';

test('10 000 steps on one set create no GPU object after the first', async () => {
  const device = await sharedDevice();
  const clipper = await createClipper({ device, maxWorkgroups: 4 });
  const buffer = upload(device, randomGradient(1031, seededRandom(11)));
  const set = clipper.gradients([{ buffer, offset: 4, length: 1027 }]);
  await clipper.clipGradNorm(set, 1).read();
  const counts = { createBuffer: 0, createBindGroup: 0, createComputePipeline: 0, createShaderModule: 0 };
  const own = device as unknown as Record<string, unknown>;
  const proto = Object.getPrototypeOf(device) as Record<keyof typeof counts, (...args: unknown[]) => unknown>;
  for (const name of Object.keys(counts) as Array<keyof typeof counts>) {
    own[name] = (...args: unknown[]) => {
      counts[name]++;
      return proto[name].apply(device, args);
    };
  }
  try {
    // The wrapper counts: a probe buffer made through it shows up, then is taken off.
    device.createBuffer({ label: 'probe', size: 16, usage: GPUBufferUsage.STORAGE }).destroy();
    expect(counts.createBuffer).toBe(1);
    counts.createBuffer = 0;
    await withErrorScopes(device, async () => {
      for (let step = 1; step <= 10_000; step++) {
        const handle = clipper.clipGradNorm(set, 1);
        if (step % 1_000 === 0) expect(await handle.read()).toBeGreaterThan(0);
      }
    });
  } finally {
    for (const name of Object.keys(counts)) delete own[name];
  }
  expect(counts).toEqual({ createBuffer: 0, createBindGroup: 0, createComputePipeline: 0, createShaderModule: 0 });
  clipper.destroy();
  buffer.destroy();
});
