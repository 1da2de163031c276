// TF.js on a given WebGPU device, for the benchmark's TF.js lines, the demo pages and the tests:
// its WebGPU backend registered on that device, and sums that fit the device's binding limit.
import type * as TF from '@tensorflow/tfjs-core';

let tfBackendDevice: GPUDevice | null = null;

/**
 * Imports TF.js core. Deno looks like Node to it (a `process` global), and its Node platform needs
 * require('util'): there, `process` is hidden during the import and the web platform set after.
 */
async function importTfjs(): Promise<typeof TF> {
  if (!('Deno' in globalThis)) return import('@tensorflow/tfjs-core');
  const descriptor = Object.getOwnPropertyDescriptor(globalThis, 'process');
  Object.defineProperty(globalThis, 'process', { value: undefined, configurable: true, writable: true });
  let tf: typeof TF;
  try {
    tf = await import('@tensorflow/tfjs-core');
  } finally {
    if (descriptor) Object.defineProperty(globalThis, 'process', descriptor);
  }
  if (!tf.env().platform) {
    tf.setPlatform('web', {
      fetch: (path: string, init?: RequestInit) => fetch(path, init),
      now: () => performance.now(),
      encode: (text: string) => new TextEncoder().encode(text),
      decode: (bytes: Uint8Array, encoding: string) => new TextDecoder(encoding).decode(bytes),
      isTypedArray: (a: unknown): a is Float32Array | Int32Array | Uint8Array | Uint8ClampedArray =>
        ArrayBuffer.isView(a) && !(a instanceof DataView),
      setTimeoutCustom: (callback: () => void, delay: number) => void setTimeout(callback, delay),
    });
  }
  return tf;
}

/**
 * TF.js with its WebGPU backend on our device (its kernels are registered under the name
 * 'webgpu'). Loaded on first use, so hosts where TF.js cannot load still run the other methods.
 */
export async function tfjsOn(device: GPUDevice): Promise<typeof TF> {
  const tf = await importTfjs();
  const { WebGPUBackend } = await import('@tensorflow/tfjs-backend-webgpu');
  if (tfBackendDevice !== device) {
    // tfjs-backend-webgpu registers a 'webgpu' factory of its own on import (its own device);
    // findBackend() only sees initialised backends, so remove whatever is registered.
    try {
      tf.removeBackend('webgpu');
    } catch {
      // nothing registered under that name
    }
    tf.registerBackend('webgpu', () => new WebGPUBackend(device));
    tfBackendDevice = device;
  }
  await tf.setBackend('webgpu');
  await tf.ready();
  return tf;
}

/** Adds scalars with addN in groups that fit the device's storage-buffer limit (its kernel binds every input). */
export function addAll(tf: typeof TF, scalars: TF.Tensor[], device: GPUDevice): TF.Tensor {
  const group = device.limits.maxStorageBuffersPerShaderStage - 1;
  let level = scalars;
  while (level.length > 1) {
    const next: TF.Tensor[] = [];
    for (let i = 0; i < level.length; i += group) {
      const part = level.slice(i, i + group);
      next.push(part.length === 1 ? part[0] : tf.addN(part));
    }
    level = next;
  }
  return level[0];
}
