// src/main.ts of `npm create vite@latest` (vanilla-ts), after `npm install ./gradclip-0.1.0.tgz`
import { createClipper } from 'gradclip';
const adapter = await navigator.gpu.requestAdapter();
const device = await adapter!.requestDevice();
const clipper = await createClipper({ device });
const buffer = device.createBuffer({ size: 16, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
device.queue.writeBuffer(buffer, 0, new Float32Array([3, 0, 4, 0]));
console.log(await clipper.clipGradNorm(clipper.gradients([buffer]), 1).read()); // 5, clipped on the GPU
