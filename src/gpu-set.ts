// The GPU resources of one gradient set, made once at `gradients()`: the plan tables, the
// partials and result ring, the indirect-dispatch arguments and every bind group the step uses.
import { GradclipError } from './errors';
import { BufferUsage } from './gpu-constants';
import { createFilledBuffer, dataBindGroup, packTables, type PerExampleSum, type SegmentLayout } from './gpu-segments';
import { PARAMS_BYTES, PARTIAL_BYTES, RESULT_BYTES, type Kernels } from './kernels';
import { encodeDispatchArgs, encodePlanTable, type SetPlan } from './plan';
import type { GradSet } from './types';
import type { ResolvedView } from './views';

/** Result slots per set: a NormHandle stays readable until this many later norms of its set. */
export const RESULT_SLOTS = 256;

/** What a set needs from its clipper. */
export interface SetOwner {
  readonly kernels: Kernels;
  readonly paramsBuffer: GPUBuffer;
  /** Bound (16 bytes at slot × offset alignment) to binding slots a dispatch group does not use. */
  readonly unusedBinding: GPUBuffer;
  readonly destroyed: boolean;
}

function alignUp(value: number, alignment: number): number {
  return Math.ceil(value / alignment) * alignment;
}

export class GpuGradSet implements GradSet {
  readonly viewCount: number;
  readonly elementCount: number;
  readonly dispatchGroups: number;
  /** Byte distance between result slots (the storage offset alignment). */
  readonly resultStride: number;
  readonly results: GPUBuffer;
  readonly dispatchArgs: GPUBuffer;
  /** One Acc per workgroup of the norm's first pass. */
  readonly partials: GPUBuffer;
  /** Per-segment resources (per-view norms, AGC units, examples), made on first use. */
  readonly segmentLayouts = new Map<string, SegmentLayout>();
  /** clipPerExample's sums, per batch size and target, made on first use. */
  readonly perExampleSums = new Map<string, PerExampleSum>();
  /** Buffers the set allocated for clipPerExample's default targets. */
  readonly ownSumBuffers = new Map<number, GPUBuffer>();
  /** group(0) of the partials/elementwise kernels, one per dispatch group. */
  readonly dataBindGroups: GPUBindGroup[];
  readonly partialsBindGroup: GPUBindGroup;
  readonly finalizeBindGroup: GPUBindGroup;
  readonly elementwiseBindGroup: GPUBindGroup;
  /** Generation written to each result slot; a handle whose generation differs is stale. */
  readonly slotGenerations = new Float64Array(RESULT_SLOTS).fill(-1);
  private generation = 0;
  private ownDestroyed = false;
  /** Why the set cannot be used (a buffer destroyed or from another device), once known. */
  failure: GradclipError | null = null;
  /** Settles when the latest submission (or the creation) touching the set has been validated. */
  checked: Promise<void> = Promise.resolve();
  private readonly ownBuffers: GPUBuffer[];

  constructor(
    readonly owner: SetOwner,
    readonly plan: SetPlan,
    readonly views: readonly ResolvedView[],
  ) {
    const { device } = owner.kernels;
    const limits = device.limits;
    this.viewCount = views.length;
    this.elementCount = plan.elementCount;
    this.dispatchGroups = plan.groups.length;

    const alignment = limits.minStorageBufferOffsetAlignment;
    const planTables = packTables(device, 'gradclip plan tables', plan.groups.map(encodePlanTable));

    const partials = (this.partials = device.createBuffer({
      label: 'gradclip partials',
      size: Math.max(1, plan.partialCount) * PARTIAL_BYTES,
      usage: BufferUsage.STORAGE,
    }));
    this.resultStride = alignUp(RESULT_BYTES, alignment);
    this.results = device.createBuffer({
      label: 'gradclip norm results',
      size: this.resultStride * RESULT_SLOTS,
      usage: BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST,
      // Created mapped (zeros, initialised): wgpu's zero-init tracking ignores the dynamic offset of
      // a storage binding, so it counted slots past the first as never written and zeroed them
      // again before each readback copy (Deno 2.9 on lavapipe: every norm after the first read 0).
      mappedAtCreation: true,
    });
    this.results.unmap();
    this.dispatchArgs = createFilledBuffer(
      device,
      'gradclip scale dispatch args',
      encodeDispatchArgs(plan),
      BufferUsage.STORAGE | BufferUsage.INDIRECT,
    );
    this.ownBuffers = [planTables.buffer, partials, this.results, this.dispatchArgs];

    const { kernels } = owner;
    // A view's buffer from another device fails here, asynchronously: the set then carries the
    // error (see GpuClipper.record), which reads reject with and later calls throw.
    device.pushErrorScope('validation');
    try {
      this.dataBindGroups = plan.groups.map((group, g) =>
        dataBindGroup(owner, `gradclip data group ${g}`, { buffer: planTables.buffer, ...planTables.ranges[g] }, group.windows),
      );
    } finally {
      this.watch(device.popErrorScope(), (message) => `gradients(): a view's buffer cannot be bound on this clipper's device (another device's, or destroyed): ${message}`);
    }
    const paramsBinding = { buffer: owner.paramsBuffer, size: PARAMS_BYTES };
    const resultBinding = { buffer: this.results, size: RESULT_BYTES };
    this.partialsBindGroup = device.createBindGroup({
      label: 'gradclip partials group',
      layout: kernels.partialsLayout,
      entries: [
        { binding: 0, resource: paramsBinding },
        { binding: 1, resource: { buffer: partials } },
      ],
    });
    this.finalizeBindGroup = device.createBindGroup({
      label: 'gradclip finalize group',
      layout: kernels.finalizeLayout,
      entries: [
        { binding: 0, resource: paramsBinding },
        { binding: 1, resource: { buffer: partials } },
        { binding: 2, resource: resultBinding },
        { binding: 3, resource: { buffer: this.dispatchArgs } },
      ],
    });
    this.elementwiseBindGroup = device.createBindGroup({
      label: 'gradclip elementwise group',
      layout: kernels.elementwiseLayout,
      entries: [
        { binding: 0, resource: paramsBinding },
        { binding: 1, resource: resultBinding },
      ],
    });
  }

  /**
   * Follows the validation scope around work on this set (its creation, or a submission of the
   * clipper's own): an error there makes the set unusable, with `describe(message)` as the
   * GradclipError 'invalid-buffer' that reads reject with and later calls throw.
   */
  watch(scope: Promise<GPUError | null>, describe: (message: string) => string): void {
    this.checked = scope.then((error) => {
      if (error) this.failure ??= new GradclipError('invalid-buffer', describe(error.message));
    });
  }

  get destroyed(): boolean {
    return this.ownDestroyed || this.owner.destroyed;
  }

  /** The segment layout under `key`, made by `create` on first use. */
  segmentLayout(key: string, create: () => SegmentLayout): SegmentLayout {
    let layout = this.segmentLayouts.get(key);
    if (!layout) {
      layout = create();
      this.segmentLayouts.set(key, layout);
    }
    return layout;
  }

  /** Claims the next result slot for a new norm; returns its slot index and generation. */
  nextSlot(): { slot: number; generation: number } {
    const generation = this.generation++;
    const slot = generation % RESULT_SLOTS;
    this.slotGenerations[slot] = generation;
    return { slot, generation };
  }

  destroy(): void {
    this.ownDestroyed = true;
    for (const b of this.ownBuffers) b.destroy();
    for (const layout of this.segmentLayouts.values()) layout.destroy();
    for (const sum of this.perExampleSums.values()) sum.destroy();
    for (const b of this.ownSumBuffers.values()) b.destroy();
  }
}
