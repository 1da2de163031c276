// gradclip itself as a benchmark method: the GPU backend over one arena buffer (or a buffer per
// tensor), optionally reading the norm each step, and the CPU backend on Float32Arrays.
import {
  createClipper,
  createGradientArena,
  type Clipper,
  type GradSet,
  type GradView,
  type NormHandle,
} from '../../../src/index';
import { TimestampPair } from '../../../src/gpu/timestamps';
import type { MethodName } from '../config';
import { settled } from '../settled';
import { GRAD_USAGE, readBuffer, type CaseData, type Method } from './method';
import { PassProfiler, type PassTime } from '../pass-profile';

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
export class GradclipMethod implements Method {
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

  /** The GPU time of each kernel of `steps` extra steps (null without timestamps). */
  async profile(steps: number): Promise<PassTime[][] | null> {
    const { device } = this.data;
    if (!device.features.has('timestamp-query')) return null;
    const profiler = new PassProfiler(device);
    try {
      const times: PassTime[][] = [];
      for (let i = 0; i < steps; i++) {
        await this.reset();
        const encoder = device.createCommandEncoder({ label: 'bench profiled step' });
        runGradclip(this.clipper, this.set, this.data, { encoder: profiler.wrap(encoder) });
        times.push(await profiler.finish(encoder));
      }
      return times;
    } finally {
      profiler.destroy();
    }
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

/** gradclip's CPU backend on Float32Arrays. */
export class CpuMethod implements Method {
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
