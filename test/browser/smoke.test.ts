import { expect, test } from 'vitest';
import { createClipper } from '../../src/index';

test('smoke', async () => {
  const clipper = await createClipper({ maxWorkgroups: 8 });
  expect(clipper.backend).toBe('webgpu');
  const device = clipper.device!;
  device.pushErrorScope('validation');
  const buf = device.createBuffer({ size: 16, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC });
  device.queue.writeBuffer(buf, 0, new Float32Array([3, 4, 0, 0]));
  const set = clipper.gradients([buf]);
  const h = clipper.clipGradNorm(set, 1);
  const n = await h.read();
  const err = await device.popErrorScope();
  console.log('norm', n, err?.message);
  expect(err).toBeNull();
  expect(n).toBeCloseTo(5, 5);
});
