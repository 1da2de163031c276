// Seeded random cases on real WebGPU against the float64 reference (test/shared/fuzz-cases.ts):
// 1-300 views of 1-100 000 floats at odd offsets in shared arenas and in buffers of their own,
// p in {1, 2, 3, ∞}, magnitudes 1e-30 … 1e30, injected NaN / ±Inf, thresholds above and below
// the norm, clip by value, under three workgroup caps. A failure names its seed and prints the
// case shrunk. `npm run test:stress` runs 2 000 of them.
import { beforeAll, test } from 'vitest';
import { createClipper, type Clipper } from 'gradclip';
import { fuzzOnGpu } from './fuzz-gpu';
import { sharedDevice, withErrorScopes } from './gpu';

let device: GPUDevice;
let clippers: Clipper[];
beforeAll(async () => {
  device = await sharedDevice();
  clippers = await Promise.all([1, 3, 16].map((maxWorkgroups) => createClipper({ device, maxWorkgroups })));
});

test('200 random cases match the float64 reference', async () => {
  await withErrorScopes(device, () => fuzzOnGpu(device, clippers, 1, 200, 200_000));
});
