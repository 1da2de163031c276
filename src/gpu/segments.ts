// The GPU resources of one segmentation of a set (its views, its AGC units, or its examples for
// one batch size), made once on first use and reused every step: the segment tables, partials,
// per-segment (norm, coefficient) and the bind groups of segment_norm / _finalize / _summary /
// _scale. The per-example sum's own tables and windows live here too.
import { FIRST_WINDOW_BINDING } from '../kernels/layouts';
import { BufferUsage } from '../core/webgpu-constants';
import {
  PARAMS_BYTES,
  PARTIAL_BYTES,
  RESULT_BYTES,
  SEGMENT_NORM_BYTES,
  type Kernels,
  type SegmentRule,
} from '../kernels/registry';
import { alignUp, type BindingWindow, type PlanLimits } from '../plan/windows';
import type { GradSet, GradView } from '../core/types';
import { encodeSegments, encodeSegmentTable, foldDispatch, type SegmentPlan } from '../plan/segments';
import type { NormKind } from '../plan/validate';
import type { ResolvedView } from '../plan/views';
import { planPerExampleSum } from '../plan/sum-plan';

export interface SegmentOwner {
  readonly kernels: Kernels;
  /** Its maxWorkgroups: the tuned cap the per-example sum's lanes stride over. */
  readonly planLimits: PlanLimits;
  readonly paramsBuffer: GPUBuffer;
  readonly unusedBinding: GPUBuffer;
}

export function createFilledBuffer(
  device: GPUDevice,
  label: string,
  words: Uint32Array<ArrayBuffer>,
  usage: number,
): GPUBuffer {
  const buffer = device.createBuffer({
    label,
    size: alignUp(Math.max(16, words.byteLength), 4),
    usage,
    mappedAtCreation: true,
  });
  new Uint32Array(buffer.getMappedRange()).set(words);
  buffer.unmap();
  return buffer;
}

/**
 * The window entries of a data bind group: slot i at FIRST_WINDOW_BINDING + i bound to `windows[i]`,
 * or, where the group has no window i, to the 16-byte spare range i of `unusedBinding`.
 */
export function windowEntries(
  slots: number,
  windows: readonly (GPUBufferBinding | undefined)[],
  unusedBinding: GPUBuffer,
  alignment: number,
): GPUBindGroupEntry[] {
  return Array.from({ length: slots }, (_, slot) => ({
    binding: FIRST_WINDOW_BINDING + slot,
    resource: windows[slot] ?? { buffer: unusedBinding, offset: slot * alignment, size: 16 },
  }));
}

/**
 * A bind group of the shared data layout: a table range at binding 0, then the group's windows,
 * with the clipper's 16-byte spare ranges at slots the group does not use.
 */
export function dataBindGroup(
  owner: SegmentOwner,
  label: string,
  table: GPUBufferBinding,
  windows: readonly BindingWindow[],
): GPUBindGroup {
  const { kernels } = owner;
  const alignment = kernels.device.limits.minStorageBufferOffsetAlignment;
  return kernels.device.createBindGroup({
    label,
    layout: kernels.dataLayout,
    entries: [
      { binding: 0, resource: table },
      ...windowEntries(
        kernels.bindings,
        windows.map((w) => ({ buffer: w.buffer, offset: w.offsetBytes, size: w.sizeBytes })),
        owner.unusedBinding,
        alignment,
      ),
    ],
  });
}

/** Packs per-group tables into one buffer at aligned offsets; returns the buffer and each table's range. */
export function packTables(
  device: GPUDevice,
  label: string,
  tables: Uint32Array[],
): { buffer: GPUBuffer; ranges: Array<{ offset: number; size: number }> } {
  const alignment = device.limits.minStorageBufferOffsetAlignment;
  const ranges: Array<{ offset: number; size: number }> = [];
  let bytes = 0;
  for (const t of tables) {
    ranges.push({ offset: bytes, size: t.byteLength });
    bytes = alignUp(bytes + t.byteLength, alignment);
  }
  const words = new Uint32Array(Math.max(4, bytes / 4));
  tables.forEach((t, i) => words.set(t, ranges[i].offset / 4));
  return { buffer: createFilledBuffer(device, label, words, BufferUsage.STORAGE), ranges };
}

/**
 * The GPU buffers of one segmentation that do not depend on which buffers hold the views (tables,
 * partials, segments, per-segment norms) and the bind groups over them: shared, like a set's
 * bundle, by every set of the same shape, so a set built per step allocates nothing here either.
 */
export class SegmentBuffers {
  readonly tables: { buffer: GPUBuffer; ranges: Array<{ offset: number; size: number }> };
  readonly partials: GPUBuffer;
  readonly segments: GPUBuffer;
  /** (norm, coefficient) per segment, f32 pairs. */
  readonly segmentNorms: GPUBuffer;
  readonly partialsBindGroup: GPUBindGroup;
  readonly scaleBindGroup: GPUBindGroup;
  readonly finalizeBindGroups = new Map<GPUBuffer, GPUBindGroup>();
  readonly summaryBindGroups = new Map<GPUBuffer, GPUBindGroup>();
  /** Bumped by every call that rewrites segmentNorms; a NormsHandle remembers its own. */
  generation = 0;

  constructor(
    owner: SegmentOwner,
    plan: SegmentPlan,
    tableWords: Uint32Array[],
    segmentWords: Uint32Array<ArrayBuffer>,
    label: string,
  ) {
    const { kernels } = owner;
    const { device } = kernels;
    this.tables = packTables(device, `gradclip ${label} segment tables`, tableWords);
    this.partials = device.createBuffer({
      label: `gradclip ${label} segment partials`,
      size: Math.max(1, plan.partialCount) * PARTIAL_BYTES,
      usage: BufferUsage.STORAGE,
    });
    this.segments = createFilledBuffer(device, `gradclip ${label} segments`, segmentWords, BufferUsage.STORAGE);
    this.segmentNorms = device.createBuffer({
      label: `gradclip ${label} segment norms`,
      size: Math.max(1, plan.segmentCount) * SEGMENT_NORM_BYTES,
      usage: BufferUsage.STORAGE | BufferUsage.COPY_SRC,
    });
    this.partialsBindGroup = device.createBindGroup({
      label: `gradclip ${label} segment partials group`,
      layout: kernels.partialsLayout,
      entries: [
        { binding: 0, resource: { buffer: owner.paramsBuffer, size: PARAMS_BYTES } },
        { binding: 1, resource: { buffer: this.partials } },
      ],
    });
    this.scaleBindGroup = device.createBindGroup({
      label: `gradclip ${label} segment scale group`,
      layout: kernels.segmentScaleLayout,
      entries: [{ binding: 0, resource: { buffer: this.segmentNorms } }],
    });
  }

  destroy(): void {
    for (const b of [this.tables.buffer, this.partials, this.segments, this.segmentNorms]) b.destroy();
  }
}

/** Segment buffers by what they hold: a set's bundle keeps one map for all its sets. */
export type SegmentBufferCache = Map<string, SegmentBuffers>;

/** One segmentation of one set: the shared buffers, and the bind groups over this set's views. */
export class SegmentLayout {
  readonly segmentCount: number;
  private readonly shared: SegmentBuffers;
  private readonly dataBindGroups: GPUBindGroup[];

  constructor(
    private readonly owner: SegmentOwner,
    readonly plan: SegmentPlan,
    private readonly label: string,
    cache: SegmentBufferCache,
  ) {
    this.segmentCount = plan.segmentCount;
    const tableWords = plan.groups.map(encodeSegmentTable);
    const segmentWords = encodeSegments(plan);
    const key = `${label}|${plan.partialCount}|${segmentWords.join(',')}|${tableWords.map((t) => t.join(',')).join('/')}`;
    let shared = cache.get(key);
    if (!shared) {
      shared = new SegmentBuffers(owner, plan, tableWords, segmentWords, label);
      cache.set(key, shared);
    }
    this.shared = shared;
    const { tables } = shared;
    this.dataBindGroups = plan.groups.map((group, g) =>
      dataBindGroup(
        owner,
        `gradclip ${label} segment data group ${g}`,
        { buffer: tables.buffer, ...tables.ranges[g] },
        group.windows,
      ),
    );
  }

  /** (norm, coefficient) per segment, f32 pairs (shared by the sets of this shape). */
  get segmentNorms(): GPUBuffer {
    return this.shared.segmentNorms;
  }

  /** group(1) of segment_norm.wgsl: params + this shape's partials (agc_rows.wgsl writes them too). */
  get partialsBindGroup(): GPUBindGroup {
    return this.shared.partialsBindGroup;
  }

  /** Bumped by every call that rewrites segmentNorms; a NormsHandle remembers its own. */
  get generation(): number {
    return this.shared.generation;
  }

  /** Records the per-segment norms and coefficients (segment_norm + segment_finalize). */
  recordNorms(
    pass: GPUComputePassEncoder,
    kind: NormKind,
    rule: SegmentRule,
    paramsOffset: number,
    paramNorms?: GPUBuffer,
  ): void {
    const { kernels } = this.owner;
    const maxPerDimension = kernels.device.limits.maxComputeWorkgroupsPerDimension;
    this.shared.generation++;
    pass.setBindGroup(1, this.shared.partialsBindGroup, [paramsOffset]);
    this.plan.groups.forEach((group, g) => {
      const lanes = group.sharedLanes.length;
      if (lanes === 0) return;
      pass.setPipeline(kernels.segmentNorm(kind, group));
      pass.setBindGroup(0, this.dataBindGroups[g]);
      pass.dispatchWorkgroups(...foldDispatch(lanes, kernels.workgroupSize, maxPerDimension));
    });
    pass.setPipeline(kernels.segmentFinalize(kind, rule));
    pass.setBindGroup(0, this.finalizeBindGroup(paramNorms), [paramsOffset]);
    pass.dispatchWorkgroups(
      ...foldDispatch(this.cappedLanes(this.segmentCount), kernels.workgroupSize, maxPerDimension),
    );
  }

  /** Records the set-wide summary (total norm or count clipped) into a NormResult slot. */
  recordSummary(
    pass: GPUComputePassEncoder,
    kind: NormKind,
    summary: number,
    paramsOffset: number,
    results: GPUBuffer,
    resultOffset: number,
  ): void {
    const { kernels } = this.owner;
    let bindGroup = this.shared.summaryBindGroups.get(results);
    if (!bindGroup) {
      bindGroup = kernels.device.createBindGroup({
        label: `gradclip ${this.label} segment summary group`,
        layout: kernels.segmentSummaryLayout,
        entries: [
          { binding: 0, resource: { buffer: this.owner.paramsBuffer, size: PARAMS_BYTES } },
          { binding: 1, resource: { buffer: this.shared.partials } },
          { binding: 2, resource: { buffer: this.shared.segments } },
          { binding: 3, resource: { buffer: this.shared.segmentNorms } },
          { binding: 4, resource: { buffer: results, size: RESULT_BYTES } },
        ],
      });
      this.shared.summaryBindGroups.set(results, bindGroup);
    }
    pass.setPipeline(kernels.segmentSummary(kind, summary));
    pass.setBindGroup(0, bindGroup, [paramsOffset, resultOffset]);
    pass.dispatchWorkgroups(1);
  }

  /** Records the in-place per-segment scale (segment_scale). */
  recordScale(pass: GPUComputePassEncoder): void {
    const { kernels } = this.owner;
    const maxPerDimension = kernels.device.limits.maxComputeWorkgroupsPerDimension;
    pass.setBindGroup(1, this.shared.scaleBindGroup);
    this.plan.groups.forEach((group, g) => {
      const lanes = group.sharedLanes.length + group.edges.length;
      if (lanes === 0) return;
      pass.setPipeline(kernels.segmentScale(group));
      pass.setBindGroup(0, this.dataBindGroups[g]);
      pass.dispatchWorkgroups(...foldDispatch(this.cappedLanes(lanes), kernels.workgroupSize, maxPerDimension));
    });
  }

  /** At most the tuned workgroup cap's invocations: segment_finalize and segment_scale stride over the rest. */
  private cappedLanes(lanes: number): number {
    return Math.min(lanes, this.owner.planLimits.maxWorkgroups * this.owner.kernels.workgroupSize);
  }

  /** The finalize bind group; AGC's reads another layout's segmentNorms as the parameter norms. */
  private finalizeBindGroup(paramNorms?: GPUBuffer): GPUBindGroup {
    const { shared } = this;
    // Without parameter norms the binding is unused: any other buffer that does not alias segmentNorms.
    const source = paramNorms ?? shared.segments;
    let bindGroup = shared.finalizeBindGroups.get(source);
    if (!bindGroup) {
      bindGroup = this.owner.kernels.device.createBindGroup({
        label: `gradclip ${this.label} segment finalize group`,
        layout: this.owner.kernels.segmentFinalizeLayout,
        entries: [
          { binding: 0, resource: { buffer: this.owner.paramsBuffer, size: PARAMS_BYTES } },
          { binding: 1, resource: { buffer: shared.partials } },
          { binding: 2, resource: { buffer: shared.segments } },
          { binding: 3, resource: { buffer: shared.segmentNorms } },
          { binding: 4, resource: { buffer: source } },
        ],
      });
      shared.finalizeBindGroups.set(source, bindGroup);
    }
    return bindGroup;
  }
}

/** Where clipPerExample writes: a buffer from an aligned byte offset; view v's sum at `viewOffsets[v]` bytes from there. */
export interface SumTarget {
  buffer: GPUBuffer;
  byteOffset: number;
}

/** per_example_sum's tables, view windows and bind groups for one set, batch size and target. */
export class PerExampleSum {
  /** The sums as views that are also a set of the clipper (made on first use). */
  outputs: (GradView[] & GradSet) | null = null;
  private readonly groups: Array<{ bindGroup: GPUBindGroup; lanes: number; vec4Slots: number }> = [];
  private readonly outputBindGroup: GPUBindGroup;
  private readonly tables: GPUBuffer;

  constructor(
    private readonly owner: SegmentOwner,
    views: readonly ResolvedView[],
    batchSize: number,
    segmentNorms: GPUBuffer,
    readonly target: SumTarget,
    label: string,
  ) {
    const { kernels } = owner;
    const { device } = kernels;
    const alignment = device.limits.minStorageBufferOffsetAlignment;
    const plan = planPerExampleSum(views, batchSize, {
      offsetAlignment: alignment,
      maxBindingBytes: device.limits.maxStorageBufferBindingSize,
      windowsPerDispatch: kernels.sumBindings,
    });
    const { bytes } = plan;
    const perGroup = kernels.sumBindings;
    const packed = packTables(
      device,
      `gradclip ${label} per-example sum tables`,
      plan.dispatches.map((d) => d.table),
    );
    this.tables = packed.buffer;
    plan.dispatches.forEach(({ windows: members, lanes, vec4Slots }, g) => {
      this.groups.push({
        lanes,
        vec4Slots,
        bindGroup: device.createBindGroup({
          label: `gradclip ${label} per-example sum group ${g}`,
          layout: kernels.sumDataLayout,
          entries: [
            {
              binding: 0,
              resource: { buffer: packed.buffer, offset: packed.ranges[g].offset, size: packed.ranges[g].size },
            },
            ...windowEntries(
              perGroup,
              members.map((w) => ({ buffer: w.buffer, offset: w.offset, size: w.size })),
              owner.unusedBinding,
              alignment,
            ),
          ],
        }),
      });
    });
    this.outputBindGroup = device.createBindGroup({
      label: `gradclip ${label} per-example sum output group`,
      layout: kernels.sumOutputLayout,
      entries: [
        { binding: 0, resource: { buffer: owner.paramsBuffer, size: PARAMS_BYTES } },
        { binding: 1, resource: { buffer: segmentNorms } },
        { binding: 2, resource: { buffer: target.buffer, offset: target.byteOffset, size: bytes } },
      ],
    });
  }

  /** The sums (examples, noise and divisor from the Params record at `paramsOffset`; `noisy` when its noiseStd is not 0). */
  record(pass: GPUComputePassEncoder, paramsOffset: number, noisy: boolean): void {
    const { kernels } = this.owner;
    const maxPerDimension = kernels.device.limits.maxComputeWorkgroupsPerDimension;
    pass.setBindGroup(1, this.outputBindGroup, [paramsOffset]);
    // At most the tuned workgroup cap; the lanes stride over the outputs (per_example_sum.wgsl).
    const lanesCap = this.owner.planLimits.maxWorkgroups * kernels.workgroupSize;
    for (const group of this.groups) {
      pass.setPipeline(kernels.perExampleSum(group.vec4Slots, noisy));
      pass.setBindGroup(0, group.bindGroup);
      pass.dispatchWorkgroups(...foldDispatch(Math.min(group.lanes, lanesCap), kernels.workgroupSize, maxPerDimension));
    }
  }

  destroy(): void {
    this.tables.destroy();
  }
}
