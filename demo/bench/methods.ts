// Each way of clipping the benchmark compares, behind one interface: prepare once, reset the
// gradients (untimed), run one timed step, and hand back the result so it can be checked against
// the float64 reference. A method that is fast because it is wrong fails that check.
import type * as TF from '@tensorflow/tfjs-core';
import {
  createClipper,
  createGradientArena,
  type Clipper,
  type GradSet,
  type GradView,
  type NormHandle,
} from '../../src/index';
import type { Operation } from './byte-model';
import type { MethodName } from './config';
import copyWgsl from './copy.wgsl?raw';
import naiveWgsl from './naive.wgsl?raw';
import { TimestampPair } from '../../src/gpu/timestamps';
import { settled } from './settled';

export interface CaseData {
  device: GPUDevice;
  /** The pristine gradients, one Float32Array per tensor. */
  grads: Float32Array<ArrayBuffer>[];
  operation: Operation;
  normType: number;
  /** maxNorm for the norm operations, the clip bound for 'clip-value'. */
  threshold: number;
}

/** What a method's result must equal: clipped gradients, or for the copy methods the source. */
export type Expectation = 'clipped' | 'copy';

export interface Method {
  readonly name: MethodName;
  readonly expectation: Expectation;
  prepare(): Promise<void>;
  /** Restores the gradients the previous step changed (untimed). */
  reset(): Promise<void>;
  /** One timed step, to completion. */
  step(): Promise<void>;
  /** GPU milliseconds of one step from timestamps, where the method and adapter support it. */
  gpuStep?(): Promise<number>;
  /** The gradients (or copy) after the last step. */
  result(): Promise<Float32Array[]>;
  /** The norm the last step computed, where the method computes one (checked against the reference too). */
  lastNorm?(): Promise<number | null>;
  destroy(): void;
}

const GRAD_USAGE = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;

/** A copy of `size` bytes of `buffer` from `offset`, read back through a one-off staging buffer. */
export async function readBuffer(
  device: GPUDevice,
  buffer: GPUBuffer,
  offset = 0,
  size = buffer.size - offset,
): Promise<ArrayBuffer> {
  const staging = device.createBuffer({
    label: 'bench readback',
    size,
    usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
  });
  const encoder = device.createCommandEncoder();
  encoder.copyBufferToBuffer(buffer, offset, staging, 0, size);
  device.queue.submit([encoder.finish()]);
  await staging.mapAsync(GPUMapMode.READ);
  const copy = staging.getMappedRange().slice(0);
  staging.unmap();
  staging.destroy();
  return copy;
}

function concat(grads: Float32Array[]): Float32Array<ArrayBuffer> {
  const all = new Float32Array(grads.reduce((n, g) => n + g.length, 0));
  let at = 0;
  for (const g of grads) {
    all.set(g, at);
    at += g.length;
  }
  return all;
}

/** Splits a flat result back into tensors. */
function split(flat: Float32Array, grads: Float32Array[]): Float32Array[] {
  let at = 0;
  return grads.map((g) => {
    const view = flat.subarray(at, at + g.length);
    at += g.length;
    return view;
  });
}

/** Runs gradclip's call for the case's operation. */
function runGradclip(
  clipper: Clipper,
  set: GradSet,
  data: CaseData,
  options: { encoder?: GPUCommandEncoder; timestampWrites?: GPUComputePassTimestampWrites },
) {
  if (data.operation === 'clip-value') {
    clipper.clipGradValue(set, data.threshold, options);
    return null;
  }
  return clipper.clipGradNorm(set, data.threshold, { normType: data.normType, ...options });
}

/** gradclip on one arena buffer (or one buffer per tensor), optionally reading the norm each step. */
class GradclipMethod implements Method {
  readonly expectation = 'clipped';
  private clipper!: Clipper;
  private set!: GradSet;
  private pristine!: GPUBuffer;
  private buffers: GPUBuffer[] = [];
  private views: GradView[] = [];
  private timer: TimestampPair | null = null;

  constructor(
    readonly name: MethodName,
    private readonly data: CaseData,
    private readonly layout: 'arena' | 'separate',
    private readonly readNorm: boolean,
  ) {}

  async prepare() {
    const { device, grads } = this.data;
    this.clipper = await createClipper({ device });
    if (this.layout === 'arena') {
      const arena = createGradientArena(
        device,
        grads.map((g) => g.length),
      );
      this.buffers = [arena.buffer];
      this.views = arena.views;
    } else {
      this.buffers = grads.map((g) =>
        device.createBuffer({ label: 'bench tensor', size: Math.max(16, g.byteLength), usage: GRAD_USAGE }),
      );
      this.views = this.buffers.map((buffer, i) => ({ buffer, offset: 0, length: grads[i].length }));
    }
    const total = this.buffers.reduce((n, b) => n + b.size, 0);
    this.pristine = device.createBuffer({
      label: 'bench pristine',
      size: total,
      usage: GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
    });
    grads.forEach((g, i) => {
      const view = this.views[i] as { buffer: GPUBuffer; offset: number };
      device.queue.writeBuffer(this.pristine, this.pristineOffset(view), g);
    });
    this.set = this.clipper.gradients(this.views);
    if (device.features.has('timestamp-query')) this.timer = new TimestampPair(device, 'bench pass timer');
  }

  /** Where a view's bytes sit in `pristine`, which holds every method buffer back to back. */
  private pristineOffset(view: { buffer: GPUBuffer; offset: number }): number {
    let base = 0;
    for (const b of this.buffers) {
      if (b === view.buffer) return base + view.offset;
      base += b.size;
    }
    throw new Error('view outside the method buffers');
  }

  async reset() {
    const encoder = this.data.device.createCommandEncoder({ label: 'bench reset' });
    let base = 0;
    for (const b of this.buffers) {
      encoder.copyBufferToBuffer(this.pristine, base, b, 0, b.size);
      base += b.size;
    }
    this.data.device.queue.submit([encoder.finish()]);
    await settled(this.data.device);
  }

  private lastHandle: NormHandle | null = null;

  async step() {
    const handle = runGradclip(this.clipper, this.set, this.data, {});
    this.lastHandle = handle;
    if (this.readNorm && handle) await handle.read();
    else await settled(this.data.device);
  }

  async lastNorm() {
    return this.lastHandle ? this.lastHandle.read() : null;
  }

  async gpuStep(): Promise<number> {
    if (!this.timer) return NaN;
    const encoder = this.data.device.createCommandEncoder({ label: 'bench timed step' });
    runGradclip(this.clipper, this.set, this.data, { encoder, timestampWrites: this.timer.writes(true, true) });
    this.timer.resolve(encoder);
    this.data.device.queue.submit([encoder.finish()]);
    return this.timer.readMs();
  }

  /** The clipper and set, for the dispatch and allocation counts. */
  get target() {
    return { clipper: this.clipper, set: this.set, run: () => runGradclip(this.clipper, this.set, this.data, {}) };
  }

  async result() {
    return Promise.all(
      this.views.map(async (v) => {
        const { buffer, offset, length } = v as { buffer: GPUBuffer; offset: number; length: number };
        return new Float32Array(await readBuffer(this.data.device, buffer, offset, length * 4));
      }),
    );
  }

  destroy() {
    this.clipper.destroy();
    for (const b of this.buffers) b.destroy();
    this.pristine.destroy();
    this.timer?.destroy();
  }
}

let tfBackendDevice: GPUDevice | null = null;

/**
 * Imports TF.js core. Deno looks like Node to it (a `process` global), and its Node platform needs
 * require('util'): there, `process` is hidden during the import and the web platform set after.
 */
async function importTfjs(): Promise<typeof TF> {
  if (!('Deno' in globalThis)) return import('@tensorflow/tfjs-core');
  const descriptor = Object.getOwnPropertyDescriptor(globalThis, 'process');
  Object.defineProperty(globalThis, 'process', { value: undefined, configurable: true, writable: true });
  let tf: typeof TF;
  try {
    tf = await import('@tensorflow/tfjs-core');
  } finally {
    if (descriptor) Object.defineProperty(globalThis, 'process', descriptor);
  }
  if (!tf.env().platform) {
    tf.setPlatform('web', {
      fetch: (path: string, init?: RequestInit) => fetch(path, init),
      now: () => performance.now(),
      encode: (text: string) => new TextEncoder().encode(text),
      decode: (bytes: Uint8Array, encoding: string) => new TextDecoder(encoding).decode(bytes),
      isTypedArray: (a: unknown): a is Float32Array | Int32Array | Uint8Array | Uint8ClampedArray =>
        ArrayBuffer.isView(a) && !(a instanceof DataView),
      setTimeoutCustom: (callback: () => void, delay: number) => void setTimeout(callback, delay),
    });
  }
  return tf;
}

/**
 * TF.js with its WebGPU backend on our device (its kernels are registered under the name
 * 'webgpu'). Loaded on first use, so hosts where TF.js cannot load still run the other methods.
 */
export async function tfjsOn(device: GPUDevice): Promise<typeof TF> {
  const tf = await importTfjs();
  const { WebGPUBackend } = await import('@tensorflow/tfjs-backend-webgpu');
  if (tfBackendDevice !== device) {
    // tfjs-backend-webgpu registers a 'webgpu' factory of its own on import (its own device);
    // findBackend() only sees initialised backends, so remove whatever is registered.
    try {
      tf.removeBackend('webgpu');
    } catch {
      // nothing registered under that name
    }
    tf.registerBackend('webgpu', () => new WebGPUBackend(device));
    tfBackendDevice = device;
  }
  await tf.setBackend('webgpu');
  await tf.ready();
  return tf;
}

/** Adds scalars with addN in groups that fit the device's storage-buffer limit (its kernel binds every input). */
export function addAll(tf: typeof TF, scalars: TF.Tensor[], device: GPUDevice): TF.Tensor {
  const group = device.limits.maxStorageBuffersPerShaderStage - 1;
  let level = scalars;
  while (level.length > 1) {
    const next: TF.Tensor[] = [];
    for (let i = 0; i < level.length; i += group) {
      const part = level.slice(i, i + group);
      next.push(part.length === 1 ? part[0] : tf.addN(part));
    }
    level = next;
  }
  return level[0];
}

/** The global-norm clip as a TF.js user writes it, reading the norm each step. */
class TfjsMethod implements Method {
  readonly name = 'tfjs';
  readonly expectation = 'clipped';
  private tf!: typeof TF;
  private tensors: TF.Tensor[] = [];
  private clipped: TF.Tensor[] = [];

  constructor(private readonly data: CaseData) {}

  async prepare() {
    this.tf = await tfjsOn(this.data.device);
    this.tensors = this.data.grads.map((g) => this.tf.tensor1d(g));
  }

  async reset() {
    this.tf.dispose(this.clipped);
    this.clipped = [];
  }

  async step() {
    const { tf } = this;
    const { operation, normType, threshold, device } = this.data;
    if (operation === 'clip-value') {
      this.clipped = tf.tidy(() => this.tensors.map((t) => tf.clipByValue(t, -threshold, threshold)));
      // Wait for completion the TF.js way: read one element (the read is queued after the clip).
      const probe = tf.slice(this.clipped[this.clipped.length - 1], 0, 1);
      await probe.data();
      probe.dispose();
      return;
    }
    const norm = tf.tidy(() => {
      if (normType === Infinity) return tf.max(tf.stack(this.tensors.map((t) => tf.max(tf.abs(t)))));
      return tf.sqrt(
        addAll(
          tf,
          this.tensors.map((t) => tf.sum(tf.square(t))),
          device,
        ),
      );
    });
    this.clipped = tf.tidy(() => {
      const coef = tf.minimum(1, tf.div(threshold, tf.add(norm, 1e-6)));
      return this.tensors.map((t) => tf.mul(t, coef));
    });
    await norm.data();
    norm.dispose();
  }

  async result() {
    return Promise.all(this.clipped.map(async (t) => (await t.data()) as Float32Array));
  }

  destroy() {
    this.tf?.dispose(this.clipped);
    this.tf?.dispose(this.tensors);
  }
}

/** What a first attempt looks like: per tensor, reduce, read back, then scale per tensor. */
class NaiveMethod implements Method {
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

/** gradclip's CPU backend on Float32Arrays. */
class CpuMethod implements Method {
  readonly name = 'cpu';
  readonly expectation = 'clipped';
  private clipper!: Clipper;
  private set!: GradSet;
  private arrays: Float32Array[] = [];

  constructor(private readonly data: CaseData) {}

  async prepare() {
    this.clipper = await createClipper({ forceCpu: true });
    this.arrays = this.data.grads.map((g) => g.slice());
    this.set = this.clipper.gradients(this.arrays);
  }

  async reset() {
    this.arrays.forEach((a, i) => a.set(this.data.grads[i]));
  }

  async step() {
    const handle = runGradclip(this.clipper, this.set, this.data, {});
    if (handle) await handle.read();
  }

  async result() {
    return this.arrays;
  }

  destroy() {
    this.clipper.destroy();
  }
}

/** Copies the same bytes: a vec4 copy kernel at its best workgroup count, or copyBufferToBuffer. */
class CopyMethod implements Method {
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

export function createMethod(name: MethodName, data: CaseData): Method {
  switch (name) {
    case 'gradclip-arena':
      return new GradclipMethod(name, data, 'arena', false);
    case 'gradclip-arena-read':
      return new GradclipMethod(name, data, 'arena', true);
    case 'gradclip-separate':
      return new GradclipMethod(name, data, 'separate', false);
    case 'tfjs':
      return new TfjsMethod(data);
    case 'naive':
      return new NaiveMethod(data);
    case 'cpu':
      return new CpuMethod(data);
    case 'copy-kernel':
    case 'copy-buffer':
      return new CopyMethod(name, data);
  }
}

export { GradclipMethod, CopyMethod };
