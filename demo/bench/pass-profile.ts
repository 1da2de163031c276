// A step's GPU time by kernel: the library records into an encoder whose compute passes are split
// so that every dispatch runs in a pass of its own with timestamps around it. The split adds a
// pass boundary per dispatch, so the kernels' sum slightly exceeds the step's own (one-pass) GPU
// time; what it shows is where that time goes, and what does not scale with bytes.

import { percentile } from './stats';

/** GPU milliseconds of one kernel (a dispatch) in one profiled step. */
export interface PassTime {
  /** The pipeline's label without the library's prefix, e.g. "norm_partials normKind=2 ...". */
  kernel: string;
  ms: number;
}

/** Extra untimed steps whose kernels are timed one by one (the per-kernel breakdown). */
export const PROFILED_STEPS = 5;

/** The most dispatches one profiled step may record. */
const MAX_DISPATCHES = 64;

type BindGroupCall = [number, GPUBindGroup | null, Iterable<number> | undefined];

/**
 * Records the calls of one compute pass and replays each dispatch in a real pass of its own,
 * bracketed by timestamps (pipeline and bind groups set again in each).
 */
class SplitPass {
  private pipeline: GPUComputePipeline | null = null;
  private readonly bindGroups = new Map<number, BindGroupCall>();

  constructor(
    private readonly encoder: GPUCommandEncoder,
    private readonly profile: PassProfiler,
  ) {}

  setPipeline(pipeline: GPUComputePipeline): void {
    this.pipeline = pipeline;
  }

  setBindGroup(index: number, group: GPUBindGroup | null, offsets?: Iterable<number>): void {
    this.bindGroups.set(index, [index, group, offsets ? [...offsets] : undefined]);
  }

  dispatchWorkgroups(x: number, y?: number, z?: number): void {
    this.replay((pass) => pass.dispatchWorkgroups(x, y, z));
  }

  dispatchWorkgroupsIndirect(buffer: GPUBuffer, offset: number): void {
    this.replay((pass) => pass.dispatchWorkgroupsIndirect(buffer, offset));
  }

  end(): void {}
  pushDebugGroup(): void {}
  popDebugGroup(): void {}
  insertDebugMarker(): void {}

  private replay(dispatch: (pass: GPUComputePassEncoder) => void): void {
    const pipeline = this.pipeline!;
    const pass = this.encoder.beginComputePass({
      label: `bench profiled ${pipeline.label}`,
      timestampWrites: this.profile.nextWrites(pipeline.label),
    });
    pass.setPipeline(pipeline);
    for (const [index, group, offsets] of this.bindGroups.values()) pass.setBindGroup(index, group, offsets);
    dispatch(pass);
    pass.end();
  }
}

/** Times each dispatch of the steps recorded into `wrap(encoder)` (needs `timestamp-query`). */
export class PassProfiler {
  private readonly querySet: GPUQuerySet;
  private readonly resolveBuffer: GPUBuffer;
  private readonly readBuffer: GPUBuffer;
  private kernels: string[] = [];

  constructor(private readonly device: GPUDevice) {
    this.querySet = device.createQuerySet({
      label: 'bench pass profile',
      type: 'timestamp',
      count: 2 * MAX_DISPATCHES,
    });
    this.resolveBuffer = device.createBuffer({
      label: 'bench pass profile resolve',
      size: 16 * MAX_DISPATCHES,
      usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC,
    });
    this.readBuffer = device.createBuffer({
      label: 'bench pass profile read',
      size: 16 * MAX_DISPATCHES,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
  }

  /** An encoder to give the library: everything passes through, but each dispatch gets its own timed pass. */
  wrap(encoder: GPUCommandEncoder): GPUCommandEncoder {
    this.kernels = [];
    return new Proxy(encoder, {
      get: (target, key) => {
        if (key === 'beginComputePass') return () => new SplitPass(target, this);
        const value = Reflect.get(target, key, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
  }

  /** The timestamp writes of the next dispatch, of the pipeline labelled `label`. */
  nextWrites(label: string): GPUComputePassTimestampWrites {
    const index = this.kernels.length;
    if (index >= MAX_DISPATCHES) throw new Error(`more than ${MAX_DISPATCHES} dispatches in one profiled step`);
    this.kernels.push(label.replace(/^gradclip /, ''));
    return { querySet: this.querySet, beginningOfPassWriteIndex: 2 * index, endOfPassWriteIndex: 2 * index + 1 };
  }

  /** Submits `encoder` (the one wrapped) with the resolve, and reads each dispatch's time. */
  async finish(encoder: GPUCommandEncoder): Promise<PassTime[]> {
    const count = 2 * this.kernels.length;
    encoder.resolveQuerySet(this.querySet, 0, count, this.resolveBuffer, 0);
    encoder.copyBufferToBuffer(this.resolveBuffer, 0, this.readBuffer, 0, 8 * count);
    this.device.queue.submit([encoder.finish()]);
    await this.readBuffer.mapAsync(GPUMapMode.READ, 0, 8 * count);
    const stamps = new BigUint64Array(this.readBuffer.getMappedRange(0, 8 * count).slice(0));
    this.readBuffer.unmap();
    return this.kernels.map((kernel, i) => ({ kernel, ms: Number(stamps[2 * i + 1] - stamps[2 * i]) / 1e6 }));
  }

  destroy(): void {
    this.querySet.destroy();
    this.resolveBuffer.destroy();
    this.readBuffer.destroy();
  }
}

/**
 * Per kernel (the label's first word, in the order the kernels first ran): the median over the
 * profiled steps of its summed time within a step, and its dispatches per step.
 */
export function kernelMedians(steps: readonly PassTime[][]): Array<{ kernel: string; ms: number; dispatches: number }> {
  const order: string[] = [];
  const perStep = steps.map((times) => {
    const sums = new Map<string, { ms: number; dispatches: number }>();
    for (const { kernel, ms } of times) {
      const name = kernel.split(' ')[0];
      if (!order.includes(name)) order.push(name);
      const entry = sums.get(name) ?? { ms: 0, dispatches: 0 };
      entry.ms += ms;
      entry.dispatches++;
      sums.set(name, entry);
    }
    return sums;
  });
  return order.map((kernel) => ({
    kernel,
    ms: percentile(
      perStep.map((s) => s.get(kernel)?.ms ?? 0),
      0.5,
    ),
    dispatches: Math.max(...perStep.map((s) => s.get(kernel)?.dispatches ?? 0)),
  }));
}
