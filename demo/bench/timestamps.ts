// GPU time of one compute pass from a timestamp query pair, read back after the step (untimed).
export class PassTimer {
  private readonly querySet: GPUQuerySet;
  private readonly resolveBuffer: GPUBuffer;
  private readonly readBuffer: GPUBuffer;

  constructor(device: GPUDevice) {
    this.querySet = device.createQuerySet({ label: 'bench pass timer', type: 'timestamp', count: 2 });
    this.resolveBuffer = device.createBuffer({
      label: 'bench timestamps',
      size: 16,
      usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC,
    });
    this.readBuffer = device.createBuffer({
      label: 'bench timestamps readback',
      size: 16,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
  }

  static supported(device: GPUDevice): boolean {
    return device.features.has('timestamp-query');
  }

  writes(): GPUComputePassTimestampWrites {
    return { querySet: this.querySet, beginningOfPassWriteIndex: 0, endOfPassWriteIndex: 1 };
  }

  /** Records the resolve; call after the timed pass, in the same encoder. */
  resolve(encoder: GPUCommandEncoder): void {
    encoder.resolveQuerySet(this.querySet, 0, 2, this.resolveBuffer, 0);
    encoder.copyBufferToBuffer(this.resolveBuffer, 0, this.readBuffer, 0, 16);
  }

  /** Milliseconds between the pass's two timestamps. */
  async read(): Promise<number> {
    await this.readBuffer.mapAsync(GPUMapMode.READ);
    const [begin, end] = new BigUint64Array(this.readBuffer.getMappedRange());
    this.readBuffer.unmap();
    return Number(end - begin) / 1e6;
  }

  destroy(): void {
    this.querySet.destroy();
    this.resolveBuffer.destroy();
    this.readBuffer.destroy();
  }
}
