// The shared cases on Deno's WebGPU (wgpu + Naga; Mesa's lavapipe in CI, which offers shader-f16):
// the GradScaler's ported PyTorch and Keras cases (test/shared/amp-cases.ts), f16 gradients with
// f32 master weights in the fused optimizer with and without a scaler, and the private optimizer's
// DP-SGD cases (test/shared/privacy-cases.ts). Imports dist/ (through
// test/deno/import-map.json) as a user would. Run by `npm run test:deno` (after `npm run build`).
import { createClipper } from 'gradclip';
import { AMP_CASES, f16MasterWeights } from '../shared/amp-cases.ts';
import { PRIVACY_CASES } from '../shared/privacy-cases.ts';
import { gpuTensors } from '../shared/tensors.ts';

declare const Deno: { exit(code: number): never };

const adapter = await navigator.gpu?.requestAdapter();
if (!adapter) {
  console.error('deno cases: no WebGPU adapter (install a Vulkan driver, e.g. mesa-vulkan-drivers)');
  Deno.exit(1);
}
const wanted = ['shader-f16', 'timestamp-query'] as GPUFeatureName[];
const device = await adapter.requestDevice({ requiredFeatures: wanted.filter((f) => adapter.features.has(f)) });
const tensors = gpuTensors(device, await createClipper({ device, maxWorkgroups: 4 }));
type Case = [string, () => Promise<void>];
const cases: Case[] = [
  ...Object.entries(AMP_CASES).map(([name, run]): Case => [`GradScaler: ${name}`, () => run(tensors)]),
  [
    'GradScaler: f16 gradients with f32 master weights, with and without a scaler',
    () => f16MasterWeights(device, tensors.clipper),
  ],
  ...Object.entries(PRIVACY_CASES).map(([name, run]): Case => [`DP-SGD: ${name}`, () => run(tensors)]),
];
let failures = 0;
for (const [name, run] of cases) {
  device.pushErrorScope('validation');
  let problem = '';
  try {
    await run();
  } catch (error) {
    problem = String(error);
  }
  const validation = await device.popErrorScope();
  if (validation) problem += ` validation error: ${validation.message}`;
  if (problem) failures++;
  console.log(problem ? `FAIL ${name}: ${problem}` : `ok   ${name}`);
}
Deno.exit(failures ? 1 : 0);
