// The demo's norm-history monitor: each step copies its loss, gradient norm, threshold and
// found-inf flag into a GPU history of `every` records (four 4-byte copies in the step's own
// encoder, nothing read back); every `every` steps one copy to a mappable buffer and one mapAsync
// hand the records to the page. Never a readback per step.
import type { NormHandle } from 'gradclip';

export interface StepRecord {
  step: number;
  loss: number;
  /** The gradients' global L2 norm before clipping. */
  norm: number;
  /** The threshold of an adaptive rule on this step (NaN where the run has none). */
  threshold: number;
  /** Some gradient element was NaN or ±Inf (the optimizer skipped the step). */
  nonfinite: boolean;
}

/** A place on the GPU holding one 4-byte value. */
export interface GpuScalar {
  buffer: GPUBuffer;
  offset: number;
}

const RECORD_BYTES = 16; // loss, norm, threshold (f32), found-inf (u32)

export class NormMonitor {
  /** mapAsync calls so far (the test checks one per `every` steps). */
  maps = 0;
  private readonly history: GPUBuffer;
  private readonly staging: GPUBuffer;
  private readonly steps: number[] = [];
  private readonly withThreshold: boolean[] = [];

  constructor(
    private readonly device: GPUDevice,
    readonly every: number,
    label: string,
  ) {
    const size = every * RECORD_BYTES;
    this.history = device.createBuffer({
      label: `${label} history`,
      size,
      usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC,
    });
    this.staging = device.createBuffer({
      label: `${label} readback`,
      size,
      usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.MAP_READ,
    });
  }

  /** Records step `step`'s values (copies in `encoder`); true when the history is full: call `read`. */
  record(encoder: GPUCommandEncoder, step: number, loss: GpuScalar, norm: NormHandle, threshold?: GpuScalar): boolean {
    const at = this.steps.length * RECORD_BYTES;
    encoder.copyBufferToBuffer(loss.buffer, loss.offset, this.history, at, 4);
    encoder.copyBufferToBuffer(norm.buffer!, norm.offset, this.history, at + 4, 4);
    if (threshold) encoder.copyBufferToBuffer(threshold.buffer, threshold.offset, this.history, at + 8, 4);
    encoder.copyBufferToBuffer(norm.foundInf!, norm.foundInfOffset, this.history, at + 12, 4);
    this.steps.push(step);
    this.withThreshold.push(!!threshold);
    return this.steps.length === this.every;
  }

  /** Reads the recorded steps back (one copy, one mapAsync) and starts a new history. */
  async read(): Promise<StepRecord[]> {
    const count = this.steps.length;
    if (count === 0) return [];
    const encoder = this.device.createCommandEncoder({ label: 'monitor readback' });
    encoder.copyBufferToBuffer(this.history, 0, this.staging, 0, count * RECORD_BYTES);
    this.device.queue.submit([encoder.finish()]);
    this.maps++;
    await this.staging.mapAsync(GPUMapMode.READ, 0, count * RECORD_BYTES);
    const data = this.staging.getMappedRange(0, count * RECORD_BYTES).slice(0);
    this.staging.unmap();
    const floats = new Float32Array(data);
    const words = new Uint32Array(data);
    const records = this.steps.map((step, i) => ({
      step,
      loss: floats[4 * i],
      norm: floats[4 * i + 1],
      threshold: this.withThreshold[i] ? floats[4 * i + 2] : NaN,
      nonfinite: words[4 * i + 3] !== 0,
    }));
    this.steps.length = 0;
    this.withThreshold.length = 0;
    return records;
  }

  destroy(): void {
    this.history.destroy();
    this.staging.destroy();
  }
}
