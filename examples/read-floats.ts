// The examples' own readback of a buffer's floats, for the tests that check them (not part of any
// documented block). The empty submits while the map waits keep Firefox from resolving it on its
// ~100 ms poll (docs/platform-notes.md#firefox).
export async function readFloats(device: GPUDevice, buffer: GPUBuffer): Promise<Float32Array> {
  const staging = device.createBuffer({ size: buffer.size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const encoder = device.createCommandEncoder();
  encoder.copyBufferToBuffer(buffer, 0, staging, 0, buffer.size);
  device.queue.submit([encoder.finish()]);
  const nudge = setInterval(() => device.queue.submit([]), 4);
  await staging.mapAsync(GPUMapMode.READ).finally(() => clearInterval(nudge));
  const values = new Float32Array(staging.getMappedRange().slice(0));
  staging.unmap();
  staging.destroy();
  return values;
}
