// A buffer's bytes through a staging copy: for the browser suite (test/browser/gpu.ts) and the
// Deno scripts (test/deno/), which run without Vitest, so this module imports nothing. The map is
// nudged as gradclip's own reads are (src/gpu/nudge.ts): in Firefox each read would wait ~100 ms.
export async function readBytes(device: GPUDevice, buffer: GPUBuffer): Promise<ArrayBuffer> {
  const staging = device.createBuffer({
    label: 'test readback',
    size: buffer.size,
    usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
  });
  const encoder = device.createCommandEncoder();
  encoder.copyBufferToBuffer(buffer, 0, staging, 0, buffer.size);
  device.queue.submit([encoder.finish()]);
  const nudge = setInterval(() => device.queue.submit([]), 4);
  await staging.mapAsync(GPUMapMode.READ).finally(() => clearInterval(nudge));
  const bytes = staging.getMappedRange().slice(0);
  staging.unmap();
  staging.destroy();
  return bytes;
}
