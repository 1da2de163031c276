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

  constructor(
    private readonly device: GPUDevice,
    private readonly recordBytes = PARAMS_BYTES,
    label = 'gradclip params ring',
  ) {
    this.stride = Math.ceil(Math.max(recordBytes, device.limits.minUniformBufferOffsetAlignment) / 16) * 16;
    this.buffer = device.createBuffer({
      label,
      size: this.stride * PARAMS_SLOTS,
      usage: BufferUsage.UNIFORM | BufferUsage.COPY_DST,
    });
  }

  /** Byte offset of the slot holding `value` (a Params record), writing it if it is new. */
  offsetFor(value: ParamsValue): number {
    const data = new ArrayBuffer(PARAMS_BYTES);
    new Float32Array(data, 0, 5).set([value.p, value.maxNorm, value.clipMin, value.clipMax, value.givenNorm]);
    new Uint32Array(data, 20, 1)[0] = value.mode;
    new Float32Array(data, 24, 1)[0] = value.eps;
    return this.offsetForRecord(data);
  }

  /** Byte offset of the slot holding these record bytes (at most the ring's record size), writing them if new. */
  offsetForRecord(data: ArrayBuffer): number {
    if (data.byteLength > this.recordBytes) throw new Error(`a ${data.byteLength}-byte record in a ring of ${this.recordBytes}-byte slots`);
    const key = Array.from(new Uint32Array(data)).join(',');
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
    this.device.queue.writeBuffer(this.buffer, slot * this.stride, data);
    return slot * this.stride;
  }

  destroy(): void {
    this.buffer.destroy();
  }
}
