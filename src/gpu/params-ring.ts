// Per-call parameters live in one uniform buffer of slots picked by dynamic offset. A slot is
// written once per distinct parameter set (queue.writeBuffer lands before any later submit, also
// for encoders the caller submits), so a training loop with fixed settings writes nothing per step.
//
// A slot is only rewritten for another value when it is the least recently used one, so a
// command buffer stays right while fewer than PARAMS_SLOTS other distinct records are recorded
// before it is submitted. Within one caller's encoder that is checked: a slot the encoder already
// uses is never rewritten, and an encoder that needs more distinct records than there are slots
// gets a GradclipError at record time (nothing silently wrong).
import { GradclipError } from '../core/errors';
import { BufferUsage } from '../core/webgpu-constants';
import { PARAMS_BYTES } from '../kernels/registry';

export interface ParamsValue {
  p: number;
  maxNorm: number;
  clipMin: number;
  clipMax: number;
  givenNorm: number;
  mode: number;
  /** AGC's floor on a unit's parameter norm. */
  eps: number;
  /** Per-segment kernels: segments from here on are padding (clipPerExample's `examples`). */
  segmentLimit: number;
  /** Per-example sums: the noise's standard deviation (0: none) and the divisor. */
  noiseStd: number;
  divisor: number;
  /** Per-example sums: the noise's 64-bit seed and step, as (low, high) u32 words. */
  seed: [number, number];
  step: [number, number];
}

/** Distinct parameter records held at once (256 bytes apart: 1 MiB a ring). */
export const PARAMS_SLOTS = 4096;

export class ParamsRing {
  readonly buffer: GPUBuffer;
  readonly stride: number;
  private readonly slots = new Map<string, number>(); // insertion order = recency
  private nextFree = 0;
  /** The slots each caller's encoder has recorded a use of (its calls read them when it is submitted). */
  private readonly encoderSlots = new WeakMap<GPUCommandEncoder, Set<number>>();

  constructor(
    private readonly device: GPUDevice,
    private readonly recordBytes: number = PARAMS_BYTES,
    private readonly label = 'gradclip params ring',
    private readonly slotCount = PARAMS_SLOTS,
  ) {
    this.stride = Math.ceil(Math.max(recordBytes, device.limits.minUniformBufferOffsetAlignment) / 16) * 16;
    this.buffer = device.createBuffer({
      label,
      size: this.stride * slotCount,
      usage: BufferUsage.UNIFORM | BufferUsage.COPY_DST,
    });
  }

  /** Byte offset of the slot holding `value` (a Params record), writing it if it is new. */
  offsetFor(value: ParamsValue, encoder?: GPUCommandEncoder): number {
    const data = new ArrayBuffer(PARAMS_BYTES);
    new Float32Array(data, 0, 5).set([value.p, value.maxNorm, value.clipMin, value.clipMax, value.givenNorm]);
    new Uint32Array(data, 20, 1)[0] = value.mode;
    new Float32Array(data, 24, 1)[0] = value.eps;
    new Uint32Array(data, 28, 1)[0] = value.segmentLimit;
    new Float32Array(data, 32, 2).set([value.noiseStd, value.divisor]);
    new Uint32Array(data, 40, 4).set([...value.seed, ...value.step]);
    return this.offsetForRecord(data, encoder);
  }

  /**
   * Byte offset of the slot holding these record bytes (at most the ring's record size), writing
   * them if new. `encoder`: the caller's encoder the call records into (none: submitted at once).
   */
  offsetForRecord(data: ArrayBuffer, encoder?: GPUCommandEncoder): number {
    if (data.byteLength > this.recordBytes)
      throw new Error(`a ${data.byteLength}-byte record in a ring of ${this.recordBytes}-byte slots`);
    const key = Array.from(new Uint32Array(data)).join(',');
    const pinned = encoder ? this.encoderSlots.get(encoder) : undefined;
    let slot = this.slots.get(key);
    if (slot !== undefined) {
      this.slots.delete(key);
    } else {
      slot = this.nextFree < this.slotCount ? this.nextFree++ : this.evict(pinned);
      this.device.queue.writeBuffer(this.buffer, slot * this.stride, data);
    }
    this.slots.set(key, slot);
    if (encoder) {
      if (pinned) pinned.add(slot);
      else this.encoderSlots.set(encoder, new Set([slot]));
    }
    return slot * this.stride;
  }

  /** Frees the least recently used slot that `pinned` (the current encoder's slots) does not hold. */
  private evict(pinned: Set<number> | undefined): number {
    for (const [key, slot] of this.slots) {
      if (pinned?.has(slot)) continue;
      this.slots.delete(key);
      return slot;
    }
    throw new GradclipError(
      'out-of-range',
      `${this.label}: one encoder holds calls with ${this.slotCount} distinct parameter records, the most one command buffer can carry; submit it and record the rest into a new encoder`,
    );
  }

  destroy(): void {
    this.buffer.destroy();
  }
}
