// Reading results back: a copy into a MAP_READ buffer, recorded and submitted at the moment the
// caller asks (so queue order, not timing, decides what is read), then a map. Result slots go
// through a pool of small staging buffers, so reads after the first allocate nothing.
import { BufferUsage, MapMode } from '../core/webgpu-constants';
import { RESULT_BYTES } from '../core/abi';
import { whileNudging } from './nudge';
import { StagingPool } from './staging';

import { FLAGS_OFFSET, FOUND_INF_OFFSET, THRESHOLD_OFFSET } from '../core/abi';

/** A NormResult slot as read back. */
export interface SlotValue {
  norm: number;
  flags: number;
  foundInf: boolean;
  threshold: number;
}

export class Readback {
  private readonly staging: StagingPool;

  constructor(
    private readonly device: GPUDevice,
    /** Throws the clipper's 'device-lost' (or 'destroyed') error when that is why a map failed. */
    private readonly checkAlive: () => void,
  ) {
    this.staging = new StagingPool(device, RESULT_BYTES);
  }

  /** Copies the NormResult at `offset` of `results` now (submitted before returning) and reads it. */
  snapshotResult(results: GPUBuffer, offset: number): Promise<SlotValue> {
    const staging = this.staging.acquire();
    const encoder = this.device.createCommandEncoder({ label: 'gradclip read norm' });
    encoder.copyBufferToBuffer(results, offset, staging, 0, RESULT_BYTES);
    this.device.queue.submit([encoder.finish()]);
    return this.mapped(staging.mapAsync(MapMode.READ)).then(() => {
      const mapped = staging.getMappedRange();
      const value = {
        norm: new Float32Array(mapped, 0, 1)[0],
        flags: new Uint32Array(mapped, FLAGS_OFFSET, 1)[0],
        foundInf: new Uint32Array(mapped, FOUND_INF_OFFSET, 1)[0] === 1,
        threshold: new Float32Array(mapped, THRESHOLD_OFFSET, 1)[0],
      };
      staging.unmap();
      this.staging.release(staging);
      return value;
    });
  }

  /** Copies `bytes` from the start of `buffer` now into a one-off staging buffer and reads them (not per step). */
  readBuffer(buffer: GPUBuffer, bytes: number): Promise<Float32Array> {
    const size = Math.max(4, Math.ceil(bytes / 4) * 4);
    const staging = this.device.createBuffer({
      label: 'gradclip read back',
      size,
      usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST,
    });
    const encoder = this.device.createCommandEncoder({ label: 'gradclip read back' });
    encoder.copyBufferToBuffer(buffer, 0, staging, 0, size);
    this.device.queue.submit([encoder.finish()]);
    return this.mapped(staging.mapAsync(MapMode.READ))
      .then(() => new Float32Array(staging.getMappedRange().slice(0)))
      .finally(() => staging.destroy());
  }

  destroy(): void {
    this.staging.destroy();
  }

  /**
   * A map, nudged for Firefox (./nudge.ts); one that a lost device aborted rejects with the
   * clipper's 'device-lost' error once `device.lost` lands.
   */
  private async mapped(map: Promise<void>): Promise<void> {
    try {
      await whileNudging(this.device, map);
    } catch (error) {
      await Promise.race([this.device.lost, new Promise((settle) => setTimeout(settle, 100))]);
      this.checkAlive();
      throw error;
    }
  }
}
