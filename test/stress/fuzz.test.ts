// The stress suite's fuzz (`npm run test:stress`): 2 000 seeded cases on real WebGPU against the
// float64 reference, on the generator of the regular suite (seeds of their own), under three
// workgroup caps. A failure names its seed and prints the case shrunk.
import { beforeAll, test } from 'vitest';
import { createClipper, type Clipper } from 'gradclip';
import { fuzzOnGpu } from '../browser/fuzz-gpu';
import { sharedDevice, withErrorScopes } from '../browser/gpu';

let device: GPUDevice;
let clippers: Clipper[];
beforeAll(async () => {
  device = await sharedDevice();
  clippers = await Promise.all([1, 4, 64].map((maxWorkgroups) => createClipper({ device, maxWorkgroups })));
});

test('2 000 random cases match the float64 reference', async () => {
  await withErrorScopes(device, () => fuzzOnGpu(device, clippers, 100_001, 102_000, 100_000));
});
