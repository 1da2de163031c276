// Helpers for the real-WebGPU suite: one device per file, buffers filled and read back, and a
// validation + out-of-memory error scope around each test that must come back empty.
import { expect } from 'vitest';
import { readBytes } from '../shared/read-bytes';

let devicePromise: Promise<GPUDevice> | null = null;

/** A device with `subgroups`, `timestamp-query` and `shader-f16` where the adapter offers them (as createClipper asks). */
export function sharedDevice(): Promise<GPUDevice> {
  devicePromise ??= (async () => {
    const adapter = await navigator.gpu.requestAdapter();
    if (!adapter) throw new Error('no WebGPU adapter: start Chromium with --enable-unsafe-webgpu');
    const wanted = ['subgroups', 'timestamp-query', 'shader-f16'] as GPUFeatureName[];
    return adapter.requestDevice({ requiredFeatures: wanted.filter((f) => adapter.features.has(f)) });
  })();
  return devicePromise;
}

/** Runs `body` inside validation and out-of-memory error scopes and fails on any error. */
export async function withErrorScopes<T>(device: GPUDevice, body: () => Promise<T>): Promise<T> {
  device.pushErrorScope('validation');
  device.pushErrorScope('out-of-memory');
  let result: T;
  try {
    result = await body();
  } finally {
    const outOfMemory = await device.popErrorScope();
    const validation = await device.popErrorScope();
    expect(validation?.message ?? null, 'validation error').toBeNull();
    expect(outOfMemory?.message ?? null, 'out-of-memory error').toBeNull();
  }
  return result;
}

export const GRAD_USAGE = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;

/** A new buffer holding `data` (size rounded up to 4 bytes). */
export function upload(device: GPUDevice, data: Float32Array, usage = GRAD_USAGE): GPUBuffer {
  const buffer = device.createBuffer({
    label: 'test gradients',
    size: Math.max(4, data.byteLength),
    usage,
    mappedAtCreation: true,
  });
  new Float32Array(buffer.getMappedRange()).set(data);
  buffer.unmap();
  return buffer;
}

/** The whole buffer's contents as float32. */
export async function readBack(device: GPUDevice, buffer: GPUBuffer): Promise<Float32Array> {
  return new Float32Array(await readBytes(device, buffer));
}
