// The roofline the benchmark divides by: copying the same bytes with the best vec4 copy kernel
// (its workgroup count chosen by timing) or with copyBufferToBuffer.
import { TimestampPair } from '../../../src/gpu/timestamps';
import copyWgsl from '../copy.wgsl?raw';
import { settled } from '../settled';
import { concat, GRAD_USAGE, readBuffer, split, type CaseData, type Method } from './method';

/** Interleaved rounds over the workgroup counts kept after a first look, for the median of each. */
const COPY_ROUNDS = 6;

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
    // Keep the best of several workgroup counts: what any compute shader can reach here. Timed
    // with GPU timestamps where the device has them, in interleaved rounds, by the median: timed
    // one count after another on wall time, right after the page's start-up, a narrowed run once
    // kept a count three times slower than the best (the roofline then flattered every line).
    const vec4s = size / 16;
    const candidates = [16, 64, 256, 1024, 4096, 16384].filter((w) => w === 16 || w * 256 <= vec4s);
    const samples = new Map<number, number[]>(candidates.map((w) => [w, []]));
    const median = (w: number) => {
      const sorted = [...samples.get(w)!].sort((a, b) => a - b);
      return sorted[sorted.length >> 1];
    };
    const timeOnce = async (w: number) => {
      this.workgroups = w;
      const start = performance.now();
      let ms = this.timer ? await this.gpuStep() : Number.NaN;
      if (!this.timer) await this.step();
      if (!(ms > 0)) ms = performance.now() - start; // no timer, or one that reads nothing useful
      samples.get(w)!.push(ms);
    };
    for (const w of candidates) {
      this.workgroups = w;
      await this.step(); // warm-up
      await timeOnce(w);
    }
    // Counts far slower than the fastest at a first look (seconds each on a CPU adapter) are out.
    const fastest = Math.min(...candidates.map(median));
    const kept = candidates.filter((w) => median(w) <= 2 * fastest);
    for (let round = 0; round < COPY_ROUNDS; round++) {
      for (const w of round % 2 ? [...kept].reverse() : kept) await timeOnce(w);
    }
    this.workgroups = kept.reduce((a, b) => (median(b) < median(a) ? b : a));
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
