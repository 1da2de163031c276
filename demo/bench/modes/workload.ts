// The data a mode line steps on: the same gradients on the GPU (an arena, f32 or f16) and on the
// CPU backend (the float64 reference), loaded before each step, normal or spiked, and compared after.
import {
  createGradientArena,
  createGradScaler,
  type Clipper,
  type GradScaler,
  type GradSet,
  type GradView,
} from '../../../src/index';
import { seeded, type Tensor } from '../cases';
import { readBuffer } from '../methods';

/** Examples per batch in the per-example line: the transformer's gradients this many times. */
export const PER_EXAMPLE_BATCH = 4;
/** Every this many steps the gradients are 10× larger, so the adaptive rules see spikes to clip. */
export const SPIKE_EVERY = 5;

/** Thrown by a line's set-up when this device or runtime cannot run it: the line is skipped, not failed. */
export class SkipMode extends Error {}

/** A CPU twin: a Float32Array, or a Float16Array for the f16 line. */
export interface CpuArray extends ArrayLike<number> {
  [index: number]: number;
  set(values: ArrayLike<number>): void;
}

/** The runtime's Float16Array (Chromium 135+, Deno), for the f16 line's data and reference. */
export type Float16Constructor = new (
  values: number | ArrayLike<number> | ArrayBuffer,
) => CpuArray & { buffer: ArrayBuffer; byteOffset: number; byteLength: number };

export interface Workload {
  /** Views of the gradients on the GPU and their CPU twins. */
  gpu: { set: GradSet; buffer: GPUBuffer; views: GradView[] };
  cpu: { set: GradSet; arrays: CpuArray[] };
  /** Pristine contents: normal and spiked. */
  normal: Float32Array<ArrayBuffer>[];
  spiked: Float32Array<ArrayBuffer>[];
  /** The f16 line's Float16Array: the GPU views hold halves. */
  half?: Float16Constructor;
}

export function randomArrays(tensors: readonly Tensor[], seed: number, scale: number): Float32Array<ArrayBuffer>[] {
  const random = seeded(seed);
  return tensors.map((t) => {
    const a = new Float32Array(t.length);
    for (let i = 0; i < a.length; i++) a[i] = (random() * 2 - 1) * scale;
    return a;
  });
}

export function workload(
  device: GPUDevice,
  gpu: Clipper,
  cpu: Clipper,
  tensors: readonly Tensor[],
  seed: number,
  scale = 1,
): Workload {
  const normal = randomArrays(tensors, seed, scale);
  const spiked = normal.map((a) => a.map((v) => v * 10));
  const { buffer, views } = createGradientArena(
    device,
    tensors.map((t) => t.length),
  );
  const shaped = views.map((v, i) => ({
    ...(v as { buffer: GPUBuffer; offset: number; length: number }),
    shape: tensors[i].shape,
  }));
  const arrays = normal.map((a) => a.slice());
  shaped.forEach((v, i) => device.queue.writeBuffer(v.buffer, v.offset, normal[i]));
  return {
    gpu: { set: gpu.gradients(shaped), buffer, views: shaped },
    cpu: { set: cpu.gradients(arrays.map((data, i) => ({ data, shape: tensors[i].shape }))), arrays },
    normal,
    spiked,
  };
}

/**
 * The same gradients as halves (values rounded to f16 once, so both backends start from the same
 * numbers) in an f16 arena; the CPU twins are Float16Arrays.
 */
export function halfWorkload(
  device: GPUDevice,
  gpu: Clipper,
  cpu: Clipper,
  tensors: readonly Tensor[],
  seed: number,
): Workload {
  if (!device.features.has('shader-f16')) throw new SkipMode('the device lacks shader-f16');
  const Float16 = (globalThis as { Float16Array?: Float16Constructor }).Float16Array;
  if (!Float16) throw new SkipMode('the runtime lacks Float16Array (the reference)');
  const toHalf = (a: Float32Array) => Float32Array.from(new Float16(a));
  const normal = randomArrays(tensors, seed, 1).map(toHalf);
  const spiked = normal.map((a) => toHalf(a.map((v) => v * 10)));
  const { buffer, views } = createGradientArena(
    device,
    tensors.map((t) => t.length),
    { dtype: 'f16' },
  );
  const arrays = normal.map((a) => new Float16(a));
  const w: Workload = {
    gpu: { set: gpu.gradients(views), buffer, views },
    cpu: { set: cpu.gradients(arrays as unknown as GradView[]), arrays },
    normal,
    spiked,
    half: Float16,
  };
  load(device, w, 0);
  return w;
}

/** Step `step`'s gradients: normal, or spiked every SPIKE_EVERY steps. */
function gradientsOf(w: Workload, step: number): Float32Array<ArrayBuffer>[] {
  return step % SPIKE_EVERY === SPIKE_EVERY - 1 ? w.spiked : w.normal;
}

/** Writes step `step`'s gradients into both copies. */
export function load(device: GPUDevice, w: Workload, step: number): void {
  loadGpu(device, w, step);
  loadCpu(w, step);
}

/** Writes step `step`'s gradients into the GPU copy. */
export function loadGpu(device: GPUDevice, w: Workload, step: number): void {
  const source = gradientsOf(w, step);
  w.gpu.views.forEach((v, i) => {
    const view = v as { buffer: GPUBuffer; offset: number };
    if (w.half) {
      // writeBuffer takes whole 4-byte words: an odd view writes one half more, into its own padding.
      const halves = new w.half(Math.ceil(source[i].length / 2) * 2);
      halves.set(source[i]);
      device.queue.writeBuffer(view.buffer, view.offset, halves);
    } else {
      device.queue.writeBuffer(view.buffer, view.offset, source[i]);
    }
  });
}

/** Writes step `step`'s gradients into the CPU twin. */
export function loadCpu(w: Workload, step: number): void {
  gradientsOf(w, step).forEach((source, i) => w.cpu.arrays[i].set(source));
}

export async function readViews(
  device: GPUDevice,
  buffer: GPUBuffer,
  views: readonly GradView[],
  half?: Float16Constructor,
): Promise<Float32Array[]> {
  const bytes = await readBuffer(device, buffer);
  const all = half ? Float32Array.from(new half(bytes)) : new Float32Array(bytes);
  const size = half ? 2 : 4;
  return views.map((v) => {
    const view = v as { offset: number; length: number };
    return all.subarray(view.offset / size, view.offset / size + view.length);
  });
}

export function maxRelativeError(actual: readonly Float32Array[], reference: readonly ArrayLike<number>[]): number {
  let worst = 0;
  reference.forEach((ref, t) => {
    let scale = 0;
    for (let i = 0; i < ref.length; i++) scale = Math.max(scale, Math.abs(ref[i]));
    for (let i = 0; i < ref.length; i++) {
      const error = Math.abs(actual[t][i] - ref[i]) / Math.max(Math.abs(ref[i]), 1e-3 * scale, 1e-30);
      if (!(error <= worst)) worst = Number.isNaN(error) ? Infinity : error;
    }
  });
  return worst;
}

/** The scaler lines' loss scale: the data counts as gradients scaled by it. */
export const SCALE = 2 ** 16;

/** A GradScaler at SCALE that does not grow during a run: its scale, and so the expected results, stay put. */
export function scalerOn(clipper: Clipper): GradScaler {
  return createGradScaler(clipper, { initScale: SCALE, growthInterval: 2 ** 31 });
}

/** Half the data's global L2 norm: a bound the normal steps exceed, so the clip lines clip. */
export function maxNormOf(w: Workload): number {
  let sum = 0;
  for (const a of w.normal) for (const v of a) sum += v * v;
  return Math.sqrt(sum) / 2;
}
