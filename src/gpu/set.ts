// One gradient set on the GPU: its views, the bind groups over the buffers that hold them (one per
// dispatch group), and a share of the bundle of plan-shaped resources (gpu-set-pool.ts) that sets
// of the same shape reuse. Per-view, per-unit and per-example resources are made on first use.
import { GradclipError } from '../core/errors';
import type { AgcRowPass } from './agc-row-pass';
import { dataBindGroup, type PerExampleSum, type SegmentBufferCache, type SegmentLayout } from './segments';
import type { SetPool, SetResources } from './set-pool';
import type { Kernels } from '../kernels/registry';
import type { PlanLimits, SetPlan } from '../plan/windows';
import type { GradSet } from '../core/types';
import type { ResolvedView } from '../plan/views';

/** What a set needs from its clipper. */
export interface SetOwner {
  readonly kernels: Kernels;
  readonly paramsBuffer: GPUBuffer;
  /** Bound (16 bytes at slot × offset alignment) to binding slots a dispatch group does not use. */
  readonly unusedBinding: GPUBuffer;
  readonly planLimits: PlanLimits;
  readonly destroyed: boolean;
  readonly pool: SetPool;
}

export class GpuGradSet implements GradSet {
  readonly viewCount: number;
  readonly elementCount: number;
  readonly dispatchGroups: number;
  /** The plan-shaped resources this set shares with sets of the same shape. */
  readonly resources: SetResources;
  /** Per-segment resources (per-view norms, AGC units, examples), made on first use. */
  readonly segmentLayouts = new Map<string, SegmentLayout>();
  /** adaptiveGradClip's one-pass plans by weight set (null: the general passes), made on first use (a few kept). */
  readonly agcRowPasses = new Map<GpuGradSet, AgcRowPass | null>();
  /** clipPerExample's sums per batch size, sums buffer and offset, made on first use (a few kept). */
  readonly perExampleSums = new Map<string, PerExampleSum>();
  /** Buffers the set allocated for clipPerExample's default targets. */
  readonly ownSumBuffers = new Map<number, GPUBuffer>();
  /** group(0) of the partials/elementwise kernels, one per dispatch group. */
  readonly dataBindGroups: GPUBindGroup[];
  private ownDestroyed = false;
  /** Why the set cannot be used (a buffer destroyed or from another device), once known. */
  failure: GradclipError | null = null;
  /** Settles when the latest submission (or the creation) touching the set has been validated. */
  checked: Promise<void> = Promise.resolve();

  constructor(
    readonly owner: SetOwner,
    readonly plan: SetPlan,
    readonly views: readonly ResolvedView[],
  ) {
    const { device } = owner.kernels;
    this.viewCount = views.length;
    this.elementCount = plan.elementCount;
    this.dispatchGroups = plan.groups.length;
    this.resources = owner.pool.acquire(plan);
    const { planTables, tableRanges } = this.resources;
    // A view's buffer from another device fails here, asynchronously: the set then carries the
    // error (see GpuClipper.record), which reads reject with and later calls throw.
    device.pushErrorScope('validation');
    try {
      this.dataBindGroups = plan.groups.map((group, g) =>
        dataBindGroup(owner, `gradclip data group ${g}`, { buffer: planTables, ...tableRanges[g] }, group.windows),
      );
    } finally {
      this.watch(
        device.popErrorScope(),
        (message) =>
          `gradients(): a view's buffer cannot be bound on this clipper's device (another device's, or destroyed): ${message}`,
      );
    }
  }

  get partials(): GPUBuffer {
    return this.resources.partials;
  }

  get results(): GPUBuffer {
    return this.resources.results;
  }

  get resultStride(): number {
    return this.resources.resultStride;
  }

  get dispatchArgs(): GPUBuffer {
    return this.resources.dispatchArgs;
  }

  get slotGenerations(): Float64Array {
    return this.resources.slotGenerations;
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

  /** The segment layout under `key`, made by `create` (over the bundle's shared segment buffers) on first use. */
  segmentLayout(key: string, create: (cache: SegmentBufferCache) => SegmentLayout): SegmentLayout {
    let layout = this.segmentLayouts.get(key);
    if (!layout) {
      layout = create(this.resources.segmentBuffers);
      this.segmentLayouts.set(key, layout);
    }
    return layout;
  }

  /** Claims the next result slot for a new norm; returns its slot index and generation. */
  nextSlot(): { slot: number; generation: number } {
    return this.resources.nextSlot();
  }

  destroy(): void {
    if (this.ownDestroyed) return;
    this.ownDestroyed = true;
    for (const sum of this.perExampleSums.values()) sum.destroy();
    for (const rows of this.agcRowPasses.values()) rows?.destroy();
    for (const b of this.ownSumBuffers.values()) b.destroy();
    this.owner.pool.release(this.resources);
  }
}
