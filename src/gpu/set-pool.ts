// The GPU resources a set's norm and scale passes need besides the gradients themselves: plan
// tables, partials, the result ring, the indirect-dispatch arguments and the bind groups over
// them, and the per-view, per-unit and per-example segment buffers (segments.ts). They depend only on the plan's shape (the table words), not on which buffers hold the
// views, so sets of the same shape share one bundle: a set built every step over new tensors (a
// TF.js step's gradients) reuses the previous step's bundle and allocates no buffer. Sharing is
// safe because every pass writes the partials and dispatch arguments before it reads them, in
// queue order, and each call claims its own result slot.
import { BufferUsage } from '../core/webgpu-constants';
import { createFilledBuffer, packTables, type SegmentBufferCache } from './segments';
import { PARAMS_BYTES, PARTIAL_BYTES, RESULT_BYTES, RESULT_SLOTS } from '../core/abi';
import type { Kernels } from '../kernels/registry';
import { alignUp, encodeDispatchArgs, encodePlanTable, type SetPlan } from '../plan/windows';

/** Plan shapes whose bundles the pool keeps for reuse; older ones live on only in their sets. */
export const POOLED_SHAPES = 8;

/** What a bundle needs from its clipper. */
export interface BundleOwner {
  readonly kernels: Kernels;
  readonly paramsBuffer: GPUBuffer;
}

export class SetResources {
  readonly planTables: GPUBuffer;
  /** Byte range of each dispatch group's table in `planTables`. */
  readonly tableRanges: Array<{ offset: number; size: number }>;
  /** One Acc per workgroup of the norm's first pass. */
  readonly partials: GPUBuffer;
  /** Byte distance between result slots (the storage offset alignment). */
  readonly resultStride: number;
  readonly results: GPUBuffer;
  readonly dispatchArgs: GPUBuffer;
  readonly partialsBindGroup: GPUBindGroup;
  readonly finalizeBindGroup: GPUBindGroup;
  readonly elementwiseBindGroup: GPUBindGroup;
  /** Generation written to each result slot; a handle whose generation differs is stale. */
  readonly slotGenerations = new Float64Array(RESULT_SLOTS).fill(-1);
  /** Per-view, per-unit and per-example segment buffers of this shape (see segments.ts). */
  readonly segmentBuffers: SegmentBufferCache = new Map();
  /** Sets using the bundle; an unpooled bundle is destroyed when the last one is. */
  users = 0;
  pooled = true;
  destroyed = false;
  private generation = 0;

  constructor(owner: BundleOwner, plan: SetPlan, tables: Uint32Array[], dispatchWords: Uint32Array<ArrayBuffer>) {
    const { device } = owner.kernels;
    const packed = packTables(device, 'gradclip plan tables', tables);
    this.planTables = packed.buffer;
    this.tableRanges = packed.ranges;
    this.partials = device.createBuffer({
      label: 'gradclip partials',
      size: Math.max(1, plan.partialCount) * PARTIAL_BYTES,
      usage: BufferUsage.STORAGE,
    });
    this.resultStride = alignUp(RESULT_BYTES, device.limits.minStorageBufferOffsetAlignment);
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
      dispatchWords,
      BufferUsage.STORAGE | BufferUsage.INDIRECT,
    );

    const { kernels } = owner;
    const paramsBinding = { buffer: owner.paramsBuffer, size: PARAMS_BYTES };
    const resultBinding = { buffer: this.results, size: RESULT_BYTES };
    this.partialsBindGroup = device.createBindGroup({
      label: 'gradclip partials group',
      layout: kernels.partialsLayout,
      entries: [
        { binding: 0, resource: paramsBinding },
        { binding: 1, resource: { buffer: this.partials } },
      ],
    });
    this.finalizeBindGroup = device.createBindGroup({
      label: 'gradclip finalize group',
      layout: kernels.finalizeLayout,
      entries: [
        { binding: 0, resource: paramsBinding },
        { binding: 1, resource: { buffer: this.partials } },
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

  /** Claims the next result slot for a new norm; returns its slot index and generation. */
  nextSlot(): { slot: number; generation: number } {
    const generation = this.generation++;
    const slot = generation % RESULT_SLOTS;
    this.slotGenerations[slot] = generation;
    return { slot, generation };
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const b of [this.planTables, this.partials, this.results, this.dispatchArgs]) b.destroy();
    for (const segment of this.segmentBuffers.values()) segment.destroy();
  }
}

/** A bounded pool of bundles keyed by plan shape, most recently used last. */
export class SetPool {
  private readonly byShape = new Map<string, SetResources>();
  /** Bundles made (for tests and the benchmark: flat after the first step of a loop). */
  created = 0;

  constructor(private readonly owner: BundleOwner) {}

  /** A bundle for `plan`: a pooled one of the same shape, or a new one (pooled, evicting the oldest shape). */
  acquire(plan: SetPlan): SetResources {
    const tables = plan.groups.map(encodePlanTable);
    const dispatchWords = encodeDispatchArgs(plan);
    const key = `${plan.partialCount}|${Array.from(dispatchWords).join(',')}|${tables.map((t) => Array.from(t).join(',')).join('/')}`;
    let bundle = this.byShape.get(key);
    if (bundle) {
      this.byShape.delete(key);
    } else {
      bundle = new SetResources(this.owner, plan, tables, dispatchWords);
      this.created++;
      if (this.byShape.size >= POOLED_SHAPES) {
        const [oldestKey, oldest] = this.byShape.entries().next().value as [string, SetResources];
        this.byShape.delete(oldestKey);
        oldest.pooled = false;
        if (oldest.users === 0) oldest.destroy();
      }
    }
    this.byShape.set(key, bundle);
    bundle.users++;
    return bundle;
  }

  /** A set is done with `bundle`: an unpooled bundle goes with its last set. */
  release(bundle: SetResources): void {
    bundle.users--;
    if (!bundle.pooled && bundle.users === 0) bundle.destroy();
  }

  destroy(): void {
    for (const bundle of this.byShape.values()) bundle.destroy();
    this.byShape.clear();
  }
}
