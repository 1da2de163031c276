// TF.js interop: a GradSet over TF.js WebGPU tensors' own GPU buffers, so gradclip clips them in
// place on TF.js's device with no CPU round trip and no copy. TF.js is never imported here: the
// backend and tensors are used through the few members below (tfjs-backend-webgpu 4.x).
import { GradclipError } from '../core/errors';
import type { Clipper, GradSet, GradView } from '../core/types';

/** The members of a TF.js tensor gradclip reads. */
export interface TfjsTensorLike {
  dataId: object;
  size: number;
  dtype: string;
  readonly isDisposed?: boolean;
}

/** The members of TF.js's WebGPUBackend gradclip uses. */
export interface TfjsWebGPUBackendLike {
  device: GPUDevice;
  tensorMap: { get(dataId: object): { resource?: unknown } | undefined };
  uploadToGPU(dataId: object): void;
  ensureCommandEncoderReady(): void;
  endComputePassEncoder(): void;
  submitQueue(): void;
}

function isWebGPUBackend(value: unknown): value is TfjsWebGPUBackendLike {
  const b = value as Partial<TfjsWebGPUBackendLike> | null;
  return (
    !!b &&
    typeof b === 'object' &&
    !!b.device &&
    !!b.tensorMap &&
    ['uploadToGPU', 'ensureCommandEncoderReady', 'endComputePassEncoder', 'submitQueue'].every(
      (m) => typeof b[m as keyof TfjsWebGPUBackendLike] === 'function',
    )
  );
}

function requireWebGPUBackend(backend: unknown): asserts backend is TfjsWebGPUBackendLike {
  if (!isWebGPUBackend(backend)) {
    throw new GradclipError(
      'invalid-argument',
      "backend must be TF.js's WebGPU backend (tf.backend() after tf.setBackend('webgpu'))",
    );
  }
}

/** TF.js's current backend, from the engine tfjs-core keeps in the global namespace. */
function currentBackend(): unknown {
  return (globalThis as { _tfengine?: { backend?: unknown } })._tfengine?.backend;
}

/**
 * A GradSet over TF.js float32 tensors (an array, or a name → tensor map such as
 * `tf.variableGrads(f).grads`) on TF.js's WebGPU backend, which must run on the clipper's device
 * (`tf.registerBackend('webgpu', () => new WebGPUBackend(device))`). Clipping the set changes the
 * tensors in place. TF.js's pending work is submitted first, so the gradients are complete when
 * the clip runs. Build the set again for new tensors (each step's gradients are new tensors);
 * keep the tensors alive until the clip has been submitted.
 *
 * @example
 * const { value, grads } = tf.variableGrads(loss);
 * clipper.clipGradNorm(gradientsFromTfjs(clipper, grads), 1); // TF.js's tensors, clipped in place
 * optimizer.applyGradients(grads);
 */
export function gradientsFromTfjs(
  clipper: Clipper,
  tensors: readonly TfjsTensorLike[] | Record<string, TfjsTensorLike>,
  backend: unknown = currentBackend(),
): GradSet {
  if (clipper?.backend !== 'webgpu' || !clipper.device) {
    throw new GradclipError('invalid-argument', 'gradientsFromTfjs needs a clipper on the WebGPU backend');
  }
  requireWebGPUBackend(backend);
  if (backend.device !== clipper.device) {
    throw new GradclipError(
      'invalid-argument',
      "TF.js's WebGPU backend runs on another GPUDevice: register it on the clipper's (tf.registerBackend('webgpu', () => new WebGPUBackend(device)))",
    );
  }
  const list = Array.isArray(tensors) ? tensors : Object.values(tensors ?? {});
  const views: GradView[] = list.map((t, i) => {
    if (!t || typeof t !== 'object' || !t.dataId)
      throw new GradclipError('invalid-argument', `tensors[${i}] is not a TF.js tensor`);
    if (t.isDisposed) throw new GradclipError('invalid-argument', `tensors[${i}] was disposed`);
    if (t.dtype !== 'float32')
      throw new GradclipError('invalid-argument', `tensors[${i}] has dtype ${t.dtype}; gradclip clips float32 tensors`);
    return { buffer: bufferOf(backend, t, `tensors[${i}]`), offset: 0, length: t.size };
  });
  submitTfjsWork(backend);
  return clipper.gradients(views);
}

/** The GPUBuffer TF.js holds `tensor` in (uploaded first if TF.js kept it on the CPU). */
function bufferOf(backend: TfjsWebGPUBackendLike, tensor: TfjsTensorLike, name: string): GPUBuffer {
  if (!(backend.tensorMap.get(tensor.dataId)?.resource instanceof GPUBuffer)) backend.uploadToGPU(tensor.dataId);
  const resource = backend.tensorMap.get(tensor.dataId)?.resource;
  if (!(resource instanceof GPUBuffer))
    throw new GradclipError('invalid-argument', `${name} is not held in a GPUBuffer by TF.js`);
  return resource;
}

/**
 * The GPUBuffer holding a TF.js tensor's data from byte 0 (`tensor.size` elements), for copying
 * it on the GPU, e.g. each step's gradients into a fixed arena that an optimizer binds. Valid
 * until the tensor is disposed. Call it before submitTfjsWork(): a tensor TF.js holds on the CPU
 * is uploaded by a copy recorded in TF.js's own encoder, which that submit sends first.
 *
 * @example
 * const source = tfjsTensorBuffer(grads.w); // may record TF.js's upload
 * submitTfjsWork();                          // TF.js's work, the upload included
 * encoder.copyBufferToBuffer(source, 0, arena, 0, grads.w.size * 4);
 */
export function tfjsTensorBuffer(tensor: TfjsTensorLike, backend: unknown = currentBackend()): GPUBuffer {
  requireWebGPUBackend(backend);
  if (!tensor || typeof tensor !== 'object' || !tensor.dataId)
    throw new GradclipError('invalid-argument', 'tensor is not a TF.js tensor');
  if (tensor.isDisposed) throw new GradclipError('invalid-argument', 'tensor was disposed');
  return bufferOf(backend, tensor, 'tensor');
}

/**
 * Submits the work TF.js's WebGPU backend has queued: it keeps one encoder and one compute pass
 * open across ops, so its own submitQueue() alone would finish an encoder with an open pass (an
 * invalid command buffer, silently dropped). Ends the pass first, as TF.js's readToGPU does. After
 * it, `device.queue.onSubmittedWorkDone()` waits for TF.js's ops without reading anything back.
 *
 * @example
 * submitTfjsWork(); // TF.js's queued ops, then your own command buffer
 * device.queue.submit([encoder.finish()]);
 */
export function submitTfjsWork(backend: unknown = currentBackend()): void {
  requireWebGPUBackend(backend);
  backend.ensureCommandEncoderReady();
  backend.endComputePassEncoder();
  backend.submitQueue();
}
