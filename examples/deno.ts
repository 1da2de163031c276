// @ts-nocheck: Deno runs this beside node_modules/gradclip (scripts/test-deno.sh links it to this checkout).
// The install guide's Deno block (docs/guide/install.md): the `main` region below, run as written by
// `npm run test:deno`, which copies this file to main.ts in a scratch folder beside
// node_modules/gradclip and checks that it prints 5 (it needs shader-f16: lavapipe has it).
// #region main
// main.ts, beside node_modules/ (or import from a checkout's dist/index.js)
import { createClipper } from './node_modules/gradclip/dist/index.js';
const adapter = await navigator.gpu.requestAdapter();
const device = await adapter!.requestDevice({
  requiredFeatures: adapter!.features.has('shader-f16') ? ['shader-f16'] : [],
});
const clipper = await createClipper({ device });
const halves = device.createBuffer({ size: 8, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
device.queue.writeBuffer(halves, 0, new Float16Array([3, 0, 4, 0]).buffer);
const grads = clipper.gradients([{ buffer: halves, offset: 0, length: 4, dtype: 'f16' }]); // needs shader-f16
console.log(await clipper.clipGradNorm(grads, 1).read()); // 5
// #endregion main
