import { DEFAULT_MAX_WORKGROUPS, deviceTuning } from '../gpu/autotune';
import { CpuClipper } from '../cpu/clipper';
import { GradclipError } from '../core/errors';
import { GpuClipper, fixedTuning } from '../gpu/clipper';
import { OPTION_KEYS, readOptions } from '../core/options';
import { SwitchingClipper } from './switching';
import type { Clipper, ClipperOptions } from '../core/types';
import { checkDevice } from '../plan/validate';
import { checkStoredTuning } from '../plan/validate-tuning';

/** Features a requested device asks for when the adapter offers them. */
const WANTED_FEATURES: GPUFeatureName[] = ['subgroups' as GPUFeatureName, 'timestamp-query', 'shader-f16'];

/** A device, or why none could be had (and the error behind it, if one was thrown). */
type DeviceRequest = { device: GPUDevice } | { reason: string; cause?: unknown };

/** Why there is no navigator.gpu here, as precisely as the global scope tells. */
function noWebgpuReason(): string {
  const scope = globalThis as { WorkerGlobalScope?: abstract new () => unknown };
  if (typeof scope.WorkerGlobalScope === 'function' && globalThis instanceof scope.WorkerGlobalScope) {
    return (
      'navigator.gpu is undefined in this worker: this browser exposes WebGPU to pages only, or not at all ' +
      '(create the clipper in the page, or use backend: "cpu" here)'
    );
  }
  return 'navigator.gpu is undefined (this runtime or browser exposes no WebGPU, or the page is not a secure context)';
}

async function requestDevice(): Promise<DeviceRequest> {
  const gpu = (globalThis.navigator as Navigator | undefined)?.gpu;
  if (!gpu) return { reason: noWebgpuReason() };
  let adapter: GPUAdapter | null;
  try {
    adapter = await gpu.requestAdapter();
  } catch (cause) {
    return { reason: `navigator.gpu.requestAdapter() threw: ${String(cause)}`, cause };
  }
  if (!adapter) return { reason: 'navigator.gpu.requestAdapter() returned null (no usable GPU adapter)' };
  try {
    const requiredFeatures = WANTED_FEATURES.filter((f) => adapter.features.has(f));
    return { device: await adapter.requestDevice({ label: 'gradclip device', requiredFeatures }) };
  } catch (cause) {
    return { reason: `adapter.requestDevice() failed: ${String(cause)}`, cause };
  }
}

/** The backend asked for: `backend`, with `forceCpu` as an alias of 'cpu'. */
function chosenBackend(options: ClipperOptions): 'auto' | 'webgpu' | 'cpu' {
  const { backend = 'auto', forceCpu } = options;
  if (backend !== 'auto' && backend !== 'webgpu' && backend !== 'cpu') {
    throw new GradclipError(
      'invalid-argument',
      `backend must be 'auto', 'webgpu' or 'cpu', got ${JSON.stringify(backend)}`,
    );
  }
  if (forceCpu !== undefined && typeof forceCpu !== 'boolean') {
    throw new GradclipError('invalid-argument', `forceCpu must be a boolean, got ${typeof forceCpu}`);
  }
  if (forceCpu && backend === 'webgpu')
    throw new GradclipError('invalid-argument', "forceCpu: true contradicts backend: 'webgpu'");
  return forceCpu ? 'cpu' : backend;
}

/**
 * Creates a clipper. `backend: 'auto'` (default) runs on the given device, or on one it requests,
 * and on the CPU where WebGPU is unavailable (saying why in `fallbackReason`); `'webgpu'` rejects
 * instead of falling back; `'cpu'` (or `forceCpu: true`) runs on the CPU. On a device seen for the
 * first time it runs a short autotune unless `maxWorkgroups` is given or `autotune` is false, or a
 * `tuning` stored from an earlier page on this adapter is given.
 *
 * @example
 * const clipper = await createClipper({ backend: 'webgpu' }); // WebGPU or a GradclipError 'unsupported'
 *
 * // Keep the autotune's result across reloads (tuned afresh on another adapter):
 * const kept = localStorage.getItem('gradclip-tuning');
 * const tuned = await createClipper(kept ? { tuning: JSON.parse(kept) } : {});
 * localStorage.setItem('gradclip-tuning', JSON.stringify(tuned.tuning));
 */
export async function createClipper(options?: ClipperOptions | null): Promise<Clipper> {
  const opts = readOptions(options, OPTION_KEYS.clipper, 'options');
  const backend = chosenBackend(opts);
  if (opts.maxWorkgroups !== undefined && (!Number.isInteger(opts.maxWorkgroups) || opts.maxWorkgroups < 1)) {
    throw new GradclipError('invalid-argument', `maxWorkgroups must be a positive integer, got ${opts.maxWorkgroups}`);
  }
  if (opts.autotune !== undefined && typeof opts.autotune !== 'boolean') {
    throw new GradclipError('invalid-argument', `autotune must be a boolean, got ${typeof opts.autotune}`);
  }
  const stored = opts.tuning === undefined ? undefined : checkStoredTuning(opts.tuning);
  if (stored && (opts.maxWorkgroups !== undefined || opts.autotune === false)) {
    throw new GradclipError(
      'invalid-argument',
      'options.tuning replaces the autotune: drop maxWorkgroups or autotune: false (or the tuning)',
    );
  }
  if (opts.onDeviceLost !== undefined && opts.onDeviceLost !== 'throw' && opts.onDeviceLost !== 'cpu') {
    throw new GradclipError(
      'invalid-argument',
      `onDeviceLost must be 'throw' or 'cpu', got ${String(opts.onDeviceLost)}`,
    );
  }
  if (opts.device !== undefined) {
    checkDevice(opts.device, 'options.device');
    if (backend === 'cpu')
      throw new GradclipError('invalid-argument', 'options.device was given with the CPU backend: drop one of them');
  }
  if (backend === 'cpu') return new CpuClipper();
  const request: DeviceRequest = opts.device ? { device: opts.device } : await requestDevice();
  if (!('device' in request)) {
    if (backend === 'webgpu') {
      throw new GradclipError(
        'unsupported',
        `backend 'webgpu' was asked for, but no WebGPU device could be had: ${request.reason}`,
        { cause: request.cause },
      );
    }
    return new CpuClipper(request.reason);
  }
  const { device } = request;
  const tuning =
    opts.maxWorkgroups !== undefined
      ? fixedTuning(device, opts.maxWorkgroups, 'option')
      : opts.autotune === false
        ? fixedTuning(device, DEFAULT_MAX_WORKGROUPS, 'default')
        : await deviceTuning(device, stored);
  const clipper = new GpuClipper(device, { maxWorkgroups: tuning.maxWorkgroups, tuning });
  return opts.onDeviceLost === 'cpu' ? new SwitchingClipper(clipper) : clipper;
}
