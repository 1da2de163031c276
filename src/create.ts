import { DEFAULT_MAX_WORKGROUPS, tunedMaxWorkgroups } from './autotune';
import { CpuClipper } from './cpu-clipper';
import { GradclipError } from './errors';
import { GpuClipper } from './gpu-clipper';
import { switchingClipper } from './switching';
import type { Clipper, ClipperOptions } from './types';

/** Features a requested device asks for when the adapter offers them. */
const WANTED_FEATURES: GPUFeatureName[] = ['subgroups' as GPUFeatureName, 'timestamp-query', 'shader-f16'];

/** Requests an adapter and device, or returns null where WebGPU is unavailable. */
async function requestDevice(): Promise<GPUDevice | null> {
  const gpu = (globalThis.navigator as Navigator | undefined)?.gpu;
  if (!gpu) return null;
  try {
    const adapter = await gpu.requestAdapter();
    if (!adapter) return null;
    const requiredFeatures = WANTED_FEATURES.filter((f) => adapter.features.has(f));
    return await adapter.requestDevice({ label: 'gradclip device', requiredFeatures });
  } catch {
    return null;
  }
}

/**
 * Creates a clipper on the given device, on a device it requests, or on the CPU when WebGPU is
 * unavailable or `forceCpu` is set. On a device seen for the first time it runs a short autotune
 * (a few milliseconds on a GPU) unless `maxWorkgroups` is given or `autotune` is false.
 */
export async function createClipper(options: ClipperOptions = {}): Promise<Clipper> {
  if (options.maxWorkgroups !== undefined && (!Number.isInteger(options.maxWorkgroups) || options.maxWorkgroups < 1)) {
    throw new GradclipError('invalid-argument', `maxWorkgroups must be a positive integer, got ${options.maxWorkgroups}`);
  }
  if (options.onDeviceLost !== undefined && options.onDeviceLost !== 'throw' && options.onDeviceLost !== 'cpu') {
    throw new GradclipError('invalid-argument', `onDeviceLost must be 'throw' or 'cpu', got ${String(options.onDeviceLost)}`);
  }
  if (options.forceCpu) return new CpuClipper();
  const device = options.device ?? (await requestDevice());
  if (!device) return new CpuClipper();
  const maxWorkgroups =
    options.maxWorkgroups ?? (options.autotune === false ? DEFAULT_MAX_WORKGROUPS : await tunedMaxWorkgroups(device));
  const clipper = new GpuClipper(device, { maxWorkgroups });
  return options.onDeviceLost === 'cpu' ? switchingClipper(clipper, device) : clipper;
}
