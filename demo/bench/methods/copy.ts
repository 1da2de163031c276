// The roofline the benchmark divides by: copying the same bytes with the best vec4 copy kernel
// (its workgroup count chosen by timing) or with copyBufferToBuffer.
import { TimestampPair } from '../../../src/gpu/timestamps';
import copyWgsl from '../copy.wgsl?raw';
import { settled } from '../settled';
import { concat, GRAD_USAGE, readBuffer, split, type CaseData, type Method } from './method';

/** Copies the same bytes: a vec4 copy kernel at its best workgroup count, or copyBufferToBuffer. */
export class CopyMethod implements Method {
  readonly expectation = 'copy';
  private src!: GPUBuffer;
  private dst!: GPUBuffer;
  private pipeline!: GPUComputePipeline;
  private bindGroup!: GPUBindGroup;
  private timer: TimestampPair | null = null;
  /** The fastest workgroup count found in prepare(). */
  workgroups = 0;

  constructor(
    readonly name: 'copy-kernel' | 'copy-buffer',
    private readonly data: CaseData,
  ) {}

  async prepare() {
    const { device, grads } = this.data;
    const flat = concat(grads);
    const size = Math.ceil(flat.byteLength / 16) * 16;
    this.src = device.createBuffer({ label: 'bench copy src', size, usage: GRAD_USAGE });
    this.dst = device.createBuffer({ label: 'bench copy dst', size, usage: GRAD_USAGE });
    device.queue.writeBuffer(this.src, 0, flat);
    if (this.name === 'copy-buffer') return;
    const module = device.createShaderModule({ label: 'bench copy', code: copyWgsl });
    this.pipeline = device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' } });
    this.bindGroup = device.createBindGroup({
      layout: this.pipeline.getBindGroupLayout(0),
      entries: [
        { binding: 0, resource: { buffer: this.src } },
        { binding: 1, resource: { buffer: this.dst } },
      ],
    });
    if (device.features.has('timestamp-query')) this.timer = new TimestampPair(device, 'bench pass timer');
    // Keep the best of several workgroup counts: what any compute shader can reach here.
    const vec4s = size / 16;
    const candidates = [16, 64, 256, 1024, 4096, 16384].filter((w) => w === 16 || w * 256 <= vec4s);
    let best = Infinity;
    let chosen = candidates[0];
    for (const w of candidates) {
      this.workgroups = w;
      await this.step();
      const times: number[] = [];
      for (let r = 0; r < 5; r++) {
        const start = performance.now();
        await this.step();
        times.push(performance.now() - start);
      }
      times.sort((a, b) => a - b);
      if (times[2] < best) [best, chosen] = [times[2], w];
    }
    this.workgroups = chosen;
  }

  async reset() {}

  private encode(timestampWrites?: GPUComputePassTimestampWrites): GPUCommandEncoder {
    const encoder = this.data.device.createCommandEncoder({ label: `bench ${this.name}` });
    if (this.name === 'copy-buffer') {
      encoder.copyBufferToBuffer(this.src, 0, this.dst, 0, this.src.size);
    } else {
      const pass = encoder.beginComputePass({ timestampWrites });
      pass.setPipeline(this.pipeline);
      pass.setBindGroup(0, this.bindGroup);
      pass.dispatchWorkgroups(this.workgroups);
      pass.end();
    }
    return encoder;
  }

  async step() {
    this.data.device.queue.submit([this.encode().finish()]);
    await settled(this.data.device);
  }

  async gpuStep(): Promise<number> {
    if (!this.timer || this.name === 'copy-buffer') return NaN;
    const encoder = this.encode(this.timer.writes(true, true));
    this.timer.resolve(encoder);
    this.data.device.queue.submit([encoder.finish()]);
    return this.timer.readMs();
  }

  async result() {
    const flat = new Float32Array(await readBuffer(this.data.device, this.dst));
    return split(flat, this.data.grads);
  }

  destroy() {
    this.src.destroy();
    this.dst.destroy();
    this.timer?.destroy();
  }
}
