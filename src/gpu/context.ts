// What every GPU operation shares: the device and its kernels, the params ring, the set pool,
// readback, and the recording of passes (each call's one compute pass, submitted at once or left
// in the caller's encoder). The public operations (clipper.ts), the per-example sums
// (per-example.ts) and the adaptive and optimizer engines (engines.ts) record through it. The one
// place that knows whether the clipper can still be used (device lost, destroyed).
import { GradclipError } from '../core/errors';
import { resolveSet } from '../core/set-alias';
import type { EncoderOption, GradSet } from '../core/types';
import { OP_SCALE, RESULT_BYTES, kernelsFor, type Kernels, type NormSource } from '../kernels/registry';
import type { NormKind } from '../plan/validate';
import { liveArgsOffset, type PlanLimits } from '../plan/windows';
import { BufferUsage } from '../core/webgpu-constants';
import { SCALER_BYTES } from '../core/abi';
import { GpuNormHandle, type HandleOwner } from './handles';
import { ParamsRing, type ParamsValue } from './params-ring';
import { Readback, type SlotValue } from './readback';
import { GpuGradSet, type SetOwner } from './set';
import { SetPool } from './set-pool';
import { WeakList } from './weak-list';

/** Fewest elements worth a workgroup of their own: 16 vec4 loads per lane of a 64-lane workgroup. */
const MIN_ELEMENTS_PER_WORKGROUP = 4096;

/** Something the clipper made that `destroy()` must release (adaptive state, an optimizer). */
export interface Destroyable {
  destroy(): void;
}

/** A Params record with every field not given at its default. */
export function paramsValue(v: Partial<ParamsValue>): ParamsValue {
  return {
    p: 2,
    maxNorm: 0,
    clipMin: 0,
    clipMax: 0,
    givenNorm: 0,
    mode: 0,
    eps: 0,
    segmentLimit: 0xffffffff,
    noiseStd: 0,
    divisor: 1,
    seed: [0, 0],
    step: [0, 0],
    ...v,
  };
}

export class GpuContext implements SetOwner, HandleOwner {
  readonly kernels: Kernels;
  readonly paramsBuffer: GPUBuffer;
  readonly unusedBinding: GPUBuffer;
  /** Plan-shaped set resources, shared by sets of the same shape (see set-pool.ts). */
  readonly pool: SetPool;
  readonly planLimits: PlanLimits;
  /** A norm handed from one slot of a result ring to another of the same ring goes through here (a copy within one buffer is invalid). */
  readonly resultRelay: GPUBuffer;
  /** What a scaler's binding holds where there is no GradScaler (bound, never read). */
  readonly noScaler: GPUBindGroup;
  private readonly noScalerState: GPUBuffer;
  /** Sets not yet destroyed, held weakly: a set the caller drops is collected. */
  readonly sets = new WeakList<GpuGradSet>();
  /** What engines made, released with the clipper. */
  readonly owned = new Set<Destroyable>();
  destroyed = false;
  private lost: GPUDeviceLostInfo | null = null;
  private readonly params: ParamsRing;
  private readonly readback: Readback;

  constructor(
    readonly device: GPUDevice,
    maxWorkgroups: number,
  ) {
    this.kernels = kernelsFor(device);
    this.params = new ParamsRing(device);
    this.paramsBuffer = this.params.buffer;
    this.pool = new SetPool(this);
    this.readback = new Readback(device, () => this.checkAlive());
    this.resultRelay = device.createBuffer({
      label: 'gradclip result relay',
      size: RESULT_BYTES,
      usage: BufferUsage.COPY_SRC | BufferUsage.COPY_DST,
    });
    // One aligned 16-byte range per slot: writable bindings of a dispatch must not alias.
    this.unusedBinding = device.createBuffer({
      label: 'gradclip unused bindings',
      size: this.kernels.bindings * device.limits.minStorageBufferOffsetAlignment,
      usage: BufferUsage.STORAGE,
    });
    this.noScalerState = device.createBuffer({
      label: 'gradclip no-scaler state',
      size: SCALER_BYTES,
      usage: BufferUsage.STORAGE,
    });
    this.noScaler = device.createBindGroup({
      label: 'gradclip no-scaler group',
      layout: this.kernels.scalerLayout,
      entries: [{ binding: 0, resource: { buffer: this.noScalerState } }],
    });
    this.planLimits = {
      bindingsPerGroup: this.kernels.bindings,
      maxBindingBytes: device.limits.maxStorageBufferBindingSize,
      offsetAlignment: device.limits.minStorageBufferOffsetAlignment,
      workgroupSize: this.kernels.workgroupSize,
      maxWorkgroups: Math.min(maxWorkgroups, device.limits.maxComputeWorkgroupsPerDimension),
      minElementsPerWorkgroup: MIN_ELEMENTS_PER_WORKGROUP,
    };
    device.lost.then((info) => {
      this.lost = info;
    });
  }

  /** Throws 'device-lost' or 'destroyed' once the clipper cannot be used. */
  checkAlive(): void {
    if (this.lost) {
      throw new GradclipError(
        'device-lost',
        `the GPU device was lost (${this.lost.reason}): ${this.lost.message || 'no message'}`,
      );
    }
    if (this.destroyed) throw new GradclipError('destroyed', 'this clipper was destroyed');
  }

  /** Throws unless the clipper and `set` can be used; returns the set as this backend's type. */
  checkUsable(value: GradSet): GpuGradSet {
    this.checkAlive();
    const set = resolveSet(value);
    if (!(set instanceof GpuGradSet) || set.owner !== this) {
      throw new GradclipError('invalid-argument', "set must come from this clipper's gradients()");
    }
    if (set.destroyed) throw new GradclipError('destroyed', 'set was destroyed');
    if (set.failure) throw set.failure;
    return set;
  }

  /** Byte offset of the params slot holding `value` (see params-ring.ts for the encoder rule). */
  paramsOffset(value: Partial<ParamsValue>, encoder?: GPUCommandEncoder): number {
    return this.params.offsetFor(paramsValue(value), encoder);
  }

  /** Claims `set`'s next result slot and returns the handle that will read it. */
  claimHandle(set: GpuGradSet): GpuNormHandle {
    const { slot, generation } = set.nextSlot();
    return new GpuNormHandle(this, set, slot, generation);
  }

  snapshotResult(results: GPUBuffer, offset: number): Promise<SlotValue> {
    return this.readback.snapshotResult(results, offset);
  }

  /** Reads `bytes` from the start of `buffer` (recorded now; per-view norms and rule state, not per step). */
  readBuffer(buffer: GPUBuffer, bytes: number): Promise<Float32Array> {
    return this.readback.readBuffer(buffer, bytes);
  }

  /**
   * Records one compute pass into the caller's encoder, or into a new one submitted at once. A
   * submission of our own runs inside a validation scope: a buffer of `sets` that was destroyed
   * (or is otherwise unusable) fails it, and then the sets carry a GradclipError that their
   * handles' reads reject with and every later call throws, in place of an uncaptured
   * validation error.
   */
  record(
    options: EncoderOption,
    label: string,
    sets: GpuGradSet[],
    body: (pass: GPUComputePassEncoder) => void,
    beforePass?: (encoder: GPUCommandEncoder) => void,
  ): void {
    const { encoder, timestampWrites } = options;
    const target = encoder ?? this.device.createCommandEncoder({ label: `gradclip ${label}` });
    beforePass?.(target);
    const pass = target.beginComputePass({ label: `gradclip ${label}`, timestampWrites });
    body(pass);
    pass.end();
    if (encoder) return;
    this.device.pushErrorScope('validation');
    this.device.queue.submit([target.finish()]);
    const scope = this.device.popErrorScope();
    for (const set of sets) {
      set.watch(
        scope,
        (message) =>
          `${label} was not run: a buffer of the set was destroyed or cannot be used on this device (${message})`,
      );
    }
  }

  /** The norm's first pass: one partial per workgroup over the set's chunk tables. */
  recordPartials(pass: GPUComputePassEncoder, set: GpuGradSet, kind: NormKind, paramsOffset: number): void {
    pass.setBindGroup(1, set.resources.partialsBindGroup, [paramsOffset]);
    set.plan.groups.forEach((group, g) => {
      pass.setPipeline(this.kernels.partials(kind, group));
      pass.setBindGroup(0, set.dataBindGroups[g]);
      pass.dispatchWorkgroups(group.workgroupRanges.length);
    });
  }

  /** The norm's second pass (one workgroup): merge, decide, write the result slot and the scale pass's dispatch. */
  recordFinalize(
    pass: GPUComputePassEncoder,
    set: GpuGradSet,
    kind: NormKind,
    source: NormSource,
    paramsOffset: number,
    slot: number,
    /** A GradScaler's bind group: the norm and coefficient are unscaled and found-inf recorded. */
    scaler: GPUBindGroup | null = null,
  ): void {
    pass.setPipeline(this.kernels.finalize(kind, source, scaler !== null));
    pass.setBindGroup(0, set.resources.finalizeBindGroup, [paramsOffset, slot * set.resultStride]);
    pass.setBindGroup(1, scaler ?? this.noScaler);
    pass.dispatchWorkgroups(1);
  }

  /** The scale pass, dispatched indirectly: zero workgroups when the decision was not to clip. */
  recordScale(pass: GPUComputePassEncoder, set: GpuGradSet, paramsOffset: number, slot: number): void {
    const offsets = [paramsOffset, slot * set.resultStride];
    this.recordElementwise(pass, set, OP_SCALE, set.resources.elementwiseBindGroup, offsets, 'decided');
  }

  /**
   * The elementwise pass `op` over every dispatch group of `set`, its group(1) (params and a
   * NormResult) given: a workgroup per plan range ('all'), or as many as the finalize's decision
   * wrote into the set's live dispatch arguments ('decided').
   */
  recordElementwise(
    pass: GPUComputePassEncoder,
    set: GpuGradSet,
    op: number,
    paramsAndResult: GPUBindGroup,
    offsets: readonly number[],
    workgroups: 'all' | 'decided',
  ): void {
    pass.setBindGroup(1, paramsAndResult, offsets);
    set.plan.groups.forEach((group, g) => {
      pass.setPipeline(this.kernels.elementwise(op, group));
      pass.setBindGroup(0, set.dataBindGroups[g]);
      if (workgroups === 'decided') pass.dispatchWorkgroupsIndirect(set.dispatchArgs, liveArgsOffset(set.plan, g));
      else pass.dispatchWorkgroups(group.workgroupRanges.length);
    });
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const set of this.sets.values()) set.destroy();
    this.sets.clear();
    this.pool.destroy();
    for (const thing of this.owned) thing.destroy();
    this.owned.clear();
    this.params.destroy();
    this.readback.destroy();
    this.resultRelay.destroy();
    this.unusedBinding.destroy();
    this.noScalerState.destroy();
  }
}
