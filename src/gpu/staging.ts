// Small MAP_READ buffers for reading results back, pooled so reads after the first allocate nothing.
import { BufferUsage } from '../core/webgpu-constants';

export class StagingPool {
  private readonly free: GPUBuffer[] = [];
  private readonly all = new Set<GPUBuffer>();

  constructor(
    private readonly device: GPUDevice,
    private readonly sizeBytes: number,
  ) {}

  acquire(): GPUBuffer {
    const buffer =
      this.free.pop() ??
      this.device.createBuffer({
        label: 'gradclip readback staging',
        size: this.sizeBytes,
        usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST,
      });
    this.all.add(buffer);
    return buffer;
  }

  release(buffer: GPUBuffer): void {
    this.free.push(buffer);
  }

  destroy(): void {
    for (const b of this.all) b.destroy();
    this.all.clear();
    this.free.length = 0;
  }
}
