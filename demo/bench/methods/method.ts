// What every method the benchmark compares implements: prepare once, reset the gradients
// (untimed), run one timed step, and hand back the result so it can be checked against the float64
// reference. A method that is fast because it is wrong fails that check.
import type { Operation } from '../byte-model';
import type { MethodName } from '../config';

export interface CaseData {
  device: GPUDevice;
  /** The pristine gradients, one Float32Array per tensor. */
  grads: Float32Array<ArrayBuffer>[];
  operation: Operation;
  normType: number;
  /** maxNorm for the norm operations, the clip bound for 'clip-value'. */
  threshold: number;
}

/** What a method's result must equal: clipped gradients, or for the copy methods the source. */
export type Expectation = 'clipped' | 'copy';

export interface Method {
  readonly name: MethodName;
  readonly expectation: Expectation;
  prepare(): Promise<void>;
  /** Restores the gradients the previous step changed (untimed). */
  reset(): Promise<void>;
  /** One timed step, to completion. */
  step(): Promise<void>;
  /** GPU milliseconds of one step from timestamps, where the method and adapter support it. */
  gpuStep?(): Promise<number>;
  /** The gradients (or copy) after the last step. */
  result(): Promise<Float32Array[]>;
  /** The norm the last step computed, where the method computes one (checked against the reference too). */
  lastNorm?(): Promise<number | null>;
  destroy(): void;
}

export const GRAD_USAGE = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;

/** A copy of `size` bytes of `buffer` from `offset`, read back through a one-off staging buffer. */
export async function readBuffer(
  device: GPUDevice,
  buffer: GPUBuffer,
  offset = 0,
  size = buffer.size - offset,
): Promise<ArrayBuffer> {
  const staging = device.createBuffer({
    label: 'bench readback',
    size,
    usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
  });
  const encoder = device.createCommandEncoder();
  encoder.copyBufferToBuffer(buffer, offset, staging, 0, size);
  device.queue.submit([encoder.finish()]);
  await staging.mapAsync(GPUMapMode.READ);
  const copy = staging.getMappedRange().slice(0);
  staging.unmap();
  staging.destroy();
  return copy;
}

export function concat(grads: Float32Array[]): Float32Array<ArrayBuffer> {
  const all = new Float32Array(grads.reduce((n, g) => n + g.length, 0));
  let at = 0;
  for (const g of grads) {
    all.set(g, at);
    at += g.length;
  }
  return all;
}

/** Splits a flat result back into tensors. */
export function split(flat: Float32Array, grads: Float32Array[]): Float32Array[] {
  let at = 0;
  return grads.map((g) => {
    const view = flat.subarray(at, at + g.length);
    at += g.length;
    return view;
  });
}
