// What a first attempt at a multi-tensor clip looks like, as a benchmark method: per tensor,
// reduce, read back, then scale per tensor.
import naiveWgsl from '../naive.wgsl?raw';
import { settled } from '../settled';
import { GRAD_USAGE, readBuffer, type CaseData, type Method } from './method';

/** What a first attempt looks like: per tensor, reduce, read back, then scale per tensor. */
export class NaiveMethod implements Method {
  readonly name = 'naive';
  readonly expectation = 'clipped';
  private buffers: GPUBuffer[] = [];
  private pristine: GPUBuffer[] = [];
  private outs: GPUBuffer[] = [];
  private stagings: GPUBuffer[] = [];
  private bindGroups: GPUBindGroup[] = [];
  private coefBuffer!: GPUBuffer;
  private reduce!: GPUComputePipeline;
  private scale!: GPUComputePipeline;

  constructor(private readonly data: CaseData) {}

  async prepare() {
    const { device, grads, normType } = this.data;
    const module = device.createShaderModule({ label: 'bench naive', code: naiveWgsl });
    const layout = device.createBindGroupLayout({
      entries: [
        { binding: 0, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'storage' } },
        { binding: 1, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'storage' } },
        { binding: 2, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'uniform' } },
      ],
    });
    const pipelineLayout = device.createPipelineLayout({ bindGroupLayouts: [layout] });
    const constants = { maxNorm: normType === Infinity ? 1 : 0 };
    this.reduce = device.createComputePipeline({
      layout: pipelineLayout,
      compute: { module, entryPoint: 'reduce', constants },
    });
    this.scale = device.createComputePipeline({
      layout: pipelineLayout,
      compute: { module, entryPoint: 'scale', constants },
    });
    this.coefBuffer = device.createBuffer({ size: 16, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
    for (const g of grads) {
      const size = Math.max(16, g.byteLength);
      const buffer = device.createBuffer({ label: 'bench naive tensor', size: g.byteLength, usage: GRAD_USAGE });
      const pristine = device.createBuffer({ size, usage: GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
      device.queue.writeBuffer(pristine, 0, g);
      const out = device.createBuffer({ size: 16, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
      this.buffers.push(buffer);
      this.pristine.push(pristine);
      this.outs.push(out);
      this.stagings.push(device.createBuffer({ size: 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST }));
      this.bindGroups.push(
        device.createBindGroup({
          layout,
          entries: [
            { binding: 0, resource: { buffer } },
            { binding: 1, resource: { buffer: out } },
            { binding: 2, resource: { buffer: this.coefBuffer } },
          ],
        }),
      );
    }
  }

  async reset() {
    const encoder = this.data.device.createCommandEncoder();
    this.buffers.forEach((b, i) => encoder.copyBufferToBuffer(this.pristine[i], 0, b, 0, b.size));
    this.data.device.queue.submit([encoder.finish()]);
    await settled(this.data.device);
  }

  async step() {
    const { device, normType, threshold } = this.data;
    let total = 0;
    for (let i = 0; i < this.buffers.length; i++) {
      const encoder = device.createCommandEncoder();
      const pass = encoder.beginComputePass();
      pass.setPipeline(this.reduce);
      pass.setBindGroup(0, this.bindGroups[i]);
      pass.dispatchWorkgroups(1);
      pass.end();
      encoder.copyBufferToBuffer(this.outs[i], 0, this.stagings[i], 0, 16);
      device.queue.submit([encoder.finish()]);
      await this.stagings[i].mapAsync(GPUMapMode.READ);
      const value = new Float32Array(this.stagings[i].getMappedRange())[0];
      this.stagings[i].unmap();
      total = normType === Infinity ? Math.max(total, value) : total + value;
    }
    const norm = normType === Infinity ? total : Math.sqrt(total);
    if (!(norm > threshold)) return;
    device.queue.writeBuffer(this.coefBuffer, 0, new Float32Array([threshold / (norm + 1e-6)]));
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    pass.setPipeline(this.scale);
    this.buffers.forEach((b, i) => {
      const groups = Math.ceil(b.size / 4 / 256);
      const x = Math.min(groups, device.limits.maxComputeWorkgroupsPerDimension);
      pass.setBindGroup(0, this.bindGroups[i]);
      pass.dispatchWorkgroups(x, Math.ceil(groups / x));
    });
    pass.end();
    device.queue.submit([encoder.finish()]);
    await settled(device);
  }

  async result() {
    return Promise.all(this.buffers.map(async (b) => new Float32Array(await readBuffer(this.data.device, b))));
  }

  destroy() {
    for (const b of [...this.buffers, ...this.pristine, ...this.outs, ...this.stagings, this.coefBuffer]) b.destroy();
  }
}
