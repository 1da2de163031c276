// Per-call parameters live in one uniform buffer of slots picked by dynamic offset. A slot is
// written once per distinct parameter set (queue.writeBuffer lands before any later submit, also
// for encoders the caller submits), so a training loop with fixed settings writes nothing per step.
import { BufferUsage } from './gpu-constants';
import { PARAMS_BYTES } from './kernels';

export interface ParamsValue {
  p: number;
  maxNorm: number;
  clipMin: number;
  clipMax: number;
  givenNorm: number;
  mode: number;
  /** AGC's floor on a unit's parameter norm. */
  eps: number;
}

/** Distinct parameter sets held at once; the least recently used slot is rewritten beyond that. */
export const PARAMS_SLOTS = 256;

export class ParamsRing {
  readonly buffer: GPUBuffer;
  readonly stride: number;
  private readonly slots = new Map<string, number>(); // insertion order = recency
  private nextFree = 0;

  constructor(private readonly device: GPUDevice) {
    this.stride = Math.max(PARAMS_BYTES, device.limits.minUniformBufferOffsetAlignment);
    this.buffer = device.createBuffer({
      label: 'gradclip params ring',
      size: this.stride * PARAMS_SLOTS,
      usage: BufferUsage.UNIFORM | BufferUsage.COPY_DST,
    });
  }

  /** Byte offset of the slot holding `value`, writing it if it is new. */
  offsetFor(value: ParamsValue): number {
    const key = `${value.p}|${value.maxNorm}|${value.clipMin}|${value.clipMax}|${value.givenNorm}|${value.mode}|${value.eps}`;
    let slot = this.slots.get(key);
    if (slot !== undefined) {
      this.slots.delete(key);
      this.slots.set(key, slot);
      return slot * this.stride;
    }
    if (this.nextFree < PARAMS_SLOTS) {
      slot = this.nextFree++;
    } else {
      const [oldest, oldSlot] = this.slots.entries().next().value as [string, number];
      this.slots.delete(oldest);
      slot = oldSlot;
    }
    this.slots.set(key, slot);
    const data = new ArrayBuffer(PARAMS_BYTES);
    new Float32Array(data, 0, 5).set([value.p, value.maxNorm, value.clipMin, value.clipMax, value.givenNorm]);
    new Uint32Array(data, 20, 1)[0] = value.mode;
    new Float32Array(data, 24, 1)[0] = value.eps;
    this.device.queue.writeBuffer(this.buffer, slot * this.stride, data);
    return slot * this.stride;
  }

  destroy(): void {
    this.buffer.destroy();
  }
}
