// A timestamp-query pair read back in milliseconds: the GPU time from the start of one compute
// pass to the end of the same or a later pass. Used by the autotune and the benchmark.
import { BufferUsage, MapMode } from '../core/webgpu-constants';
import { whileNudging } from './nudge';

export class TimestampPair {
  private readonly querySet: GPUQuerySet;
  private readonly resolved: GPUBuffer;
  private readonly readback: GPUBuffer;

  /** Needs a device with the `timestamp-query` feature. */
  constructor(
    private readonly device: GPUDevice,
    label: string,
  ) {
    this.querySet = device.createQuerySet({ label: `${label} timestamps`, type: 'timestamp', count: 2 });
    this.resolved = device.createBuffer({
      label: `${label} resolve`,
      size: 16,
      usage: BufferUsage.QUERY_RESOLVE | BufferUsage.COPY_SRC,
    });
    this.readback = device.createBuffer({
      label: `${label} readback`,
      size: 16,
      usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST,
    });
  }

  /** `timestampWrites` for the first pass timed (the beginning) and the last (the end); one pass may take both. */
  writes(first: boolean, last: boolean): GPUComputePassTimestampWrites | undefined {
    if (!first && !last) return undefined;
    return {
      querySet: this.querySet,
      ...(first ? { beginningOfPassWriteIndex: 0 } : {}),
      ...(last ? { endOfPassWriteIndex: 1 } : {}),
    };
  }

  /** Records the resolve and the copy for `readMs`, after the timed passes, in the same encoder. */
  resolve(encoder: GPUCommandEncoder): void {
    encoder.resolveQuerySet(this.querySet, 0, 2, this.resolved, 0);
    encoder.copyBufferToBuffer(this.resolved, 0, this.readback, 0, 16);
  }

  /** Milliseconds between the two timestamps, once the encoder was submitted. */
  async readMs(): Promise<number> {
    await whileNudging(this.device, this.readback.mapAsync(MapMode.READ));
    const [begin, end] = new BigUint64Array(this.readback.getMappedRange());
    this.readback.unmap();
    return Number(end - begin) / 1e6;
  }

  destroy(): void {
    this.querySet.destroy();
    this.resolved.destroy();
    this.readback.destroy();
  }
}
