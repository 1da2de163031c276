// The WebGPU backend: validates in TypeScript, then records each call's passes (norm, finalize,
// scale; per-segment and adaptive variants) into one compute pass. Nothing here awaits the GPU or
// maps a buffer except the read-backs the caller asks for (handles' read(), rule state).
import type { AdaptiveEngine, AdaptiveRule, StepOptions } from './adaptive';
import { GradclipError } from './errors';
import { GpuAdaptiveState } from './gpu-adaptive';
import { GpuOptimizer } from './gpu-optimizer';
import type { OptimizerEngine } from './optimizer';
import type { OptimizerSettings } from './optimizer-reference';
import { BufferUsage } from './gpu-constants';
import { PerExampleSum, SegmentLayout, sumLayout, type SumTarget } from './gpu-segments';
import { GpuNormHandle, GpuNormsHandle, type HandleOwner } from './gpu-handles';
import { Readback, type SlotValue } from './gpu-readback';
import { GpuGradSet, type SetOwner } from './gpu-set';
import { SetPool } from './gpu-set-pool';
import { ObjectIds, WeakList } from './weak-list';
import { OPTION_KEYS, readOptions } from './options';
import { resolveSet, viewsAsSet } from './set-alias';
import {
  OP_CLAMP,
  OP_SCALE,
  RESULT_BYTES,
  RULE_AGC,
  RULE_CLIP_BY_NORM,
  RULE_NORMS,
  RULE_PER_EXAMPLE,
  SOURCE_PARAMS,
  SOURCE_PARTIALS,
  SOURCE_RESULT_SLOT,
  SUMMARY_COUNT_CLIPPED,
  SUMMARY_TOTAL_NORM,
  kernelsFor,
  type Kernels,
  type NormSource,
  type SegmentRule,
} from './kernels';
import { ParamsRing, type ParamsValue } from './params-ring';
import { liveArgsOffset, planSet, type PlanLimits } from './plan';
import { exampleSegments, planSegments, unitSegments, viewSegments } from './segments';
import type {
  AdaptiveGradClipOptions,
  Clipper,
  EncoderOption,
  GradSet,
  GradView,
  NormHandle,
  NormOptions,
  NormsHandle,
  NormsOptions,
  PerExampleOptions,
  PerExampleResult,
} from './types';
import {
  checkAgcOptions,
  checkBatchSize,
  checkLearningRate,
  checkOptimizerSets,
  checkClipRange,
  checkGivenNorm,
  checkMaxNorm,
  checkNormType,
  checkOnNonfinite,
  checkSameUnits,
  type NormKind,
} from './validate';
import { checkNoHalfViews, resolveGpuViews } from './views';

const MODE_ERROR_IF_NONFINITE = 1;
const MODE_NO_SCALE = 2;
const MODE_SKIP_NONFINITE = 4;
/** Fewest elements worth a workgroup of their own: 16 vec4 loads per lane of a 64-lane workgroup. */
const MIN_ELEMENTS_PER_WORKGROUP = 4096;
/** clipPerExample sum targets kept per set (alternating targets reuse theirs; older ones are dropped, not destroyed). */
const SUM_TARGETS_KEPT = 8;

export interface GpuClipperOptions {
  /** Workgroup cap per dispatch group (autotuned or from limits by the caller). */
  maxWorkgroups: number;
}

export class GpuClipper implements Clipper, SetOwner, HandleOwner {
  readonly backend = 'webgpu' as const;
  readonly fallbackReason = null;
  readonly kernels: Kernels;
  readonly paramsBuffer: GPUBuffer;
  readonly unusedBinding: GPUBuffer;
  /** Plan-shaped set resources, shared by sets of the same shape (see gpu-set-pool.ts). */
  readonly pool: SetPool;
  destroyed = false;
  private lost: GPUDeviceLostInfo | null = null;
  private readonly params: ParamsRing;
  private readonly readback: Readback;
  /** A norm handed from one slot of a result ring to another of the same ring goes through here (a copy within one buffer is invalid). */
  private readonly resultRelay: GPUBuffer;
  /** Sets not yet destroyed, held weakly: a set the caller drops is collected. */
  private readonly sets = new WeakList<GpuGradSet>();
  private readonly adaptiveStates = new Set<GpuAdaptiveState>();
  private readonly optimizers = new Set<GpuOptimizer>();
  private readonly planLimits: PlanLimits;
  /** Ids for clipPerExample's target buffers, for cache keys that do not hold the buffers. */
  private readonly sumTargetIds = new ObjectIds();
  /** The workgroup cap of every pass (autotuned per device unless given). */
  readonly maxWorkgroups: number;

  constructor(
    readonly device: GPUDevice,
    options: GpuClipperOptions,
  ) {
    this.kernels = kernelsFor(device);
    this.params = new ParamsRing(device);
    this.paramsBuffer = this.params.buffer;
    this.pool = new SetPool(this);
    this.readback = new Readback(device, () => this.checkAlive());
    this.resultRelay = device.createBuffer({ label: 'gradclip result relay', size: RESULT_BYTES, usage: BufferUsage.COPY_SRC | BufferUsage.COPY_DST });
    // One aligned 16-byte range per slot: writable bindings of a dispatch must not alias.
    this.unusedBinding = device.createBuffer({
      label: 'gradclip unused bindings',
      size: this.kernels.bindings * device.limits.minStorageBufferOffsetAlignment,
      usage: BufferUsage.STORAGE,
    });
    this.planLimits = {
      bindingsPerGroup: this.kernels.bindings,
      maxBindingBytes: device.limits.maxStorageBufferBindingSize,
      offsetAlignment: device.limits.minStorageBufferOffsetAlignment,
      workgroupSize: this.kernels.workgroupSize,
      maxWorkgroups: Math.min(options.maxWorkgroups, device.limits.maxComputeWorkgroupsPerDimension),
      minElementsPerWorkgroup: MIN_ELEMENTS_PER_WORKGROUP,
    };
    this.maxWorkgroups = this.planLimits.maxWorkgroups;
    device.lost.then((info) => {
      this.lost = info;
    });
  }

  gradients(views: GradView[]): GradSet {
    this.checkAlive();
    const resolved = resolveGpuViews(views, this.device.features.has('shader-f16'));
    const set = new GpuGradSet(this, planSet(resolved, this.planLimits), resolved);
    this.sets.add(set);
    return set;
  }

  clipGradNorm(set: GradSet, maxNorm: number, optionsIn?: NormOptions | null): NormHandle {
    const options = readOptions(optionsIn, OPTION_KEYS.norm, 'options');
    const gpuSet = this.checkUsable(set);
    checkMaxNorm(maxNorm);
    const { p, kind } = checkNormType(options.normType);
    const skip = checkOnNonfinite(options.onNonfinite) === 'skip';
    const mode = (options.errorIfNonfinite ? MODE_ERROR_IF_NONFINITE : 0) | (skip ? MODE_SKIP_NONFINITE : 0);
    const paramsOffset = this.params.offsetFor(paramsValue({ p, maxNorm, mode }), options.encoder);
    const { slot, generation } = gpuSet.nextSlot();
    this.record(options, 'clipGradNorm', [gpuSet], (pass) => {
      this.recordPartials(pass, gpuSet, kind, paramsOffset);
      this.recordFinalize(pass, gpuSet, kind, SOURCE_PARTIALS, paramsOffset, slot);
      this.recordScale(pass, gpuSet, paramsOffset, slot);
    });
    return new GpuNormHandle(this, gpuSet, slot, generation);
  }

  getTotalNorm(set: GradSet, optionsIn?: NormOptions | null): NormHandle {
    const options = readOptions(optionsIn, OPTION_KEYS.norm, 'options');
    const gpuSet = this.checkUsable(set);
    const { p, kind } = checkNormType(options.normType);
    checkOnNonfinite(options.onNonfinite);
    const mode = MODE_NO_SCALE | (options.errorIfNonfinite ? MODE_ERROR_IF_NONFINITE : 0);
    const paramsOffset = this.params.offsetFor(paramsValue({ p, maxNorm: 0, mode }), options.encoder);
    const { slot, generation } = gpuSet.nextSlot();
    this.record(options, 'getTotalNorm', [gpuSet], (pass) => {
      this.recordPartials(pass, gpuSet, kind, paramsOffset);
      this.recordFinalize(pass, gpuSet, kind, SOURCE_PARTIALS, paramsOffset, slot);
    });
    return new GpuNormHandle(this, gpuSet, slot, generation);
  }

  clipGradsWithNorm(set: GradSet, maxNorm: number, totalNorm: NormHandle | number, optionsIn?: EncoderOption | null): void {
    const options = readOptions(optionsIn, OPTION_KEYS.encoder, 'options');
    const gpuSet = this.checkUsable(set);
    checkMaxNorm(maxNorm);
    let source: NormSource;
    let givenNorm = 0;
    if (typeof totalNorm === 'number') {
      givenNorm = checkGivenNorm(totalNorm);
      source = SOURCE_PARAMS;
    } else if (totalNorm instanceof GpuNormHandle && totalNorm.set.owner.kernels.device === this.device) {
      if (totalNorm.set.destroyed) throw new GradclipError('destroyed', "totalNorm's set was destroyed");
      totalNorm.checkFresh();
      source = SOURCE_RESULT_SLOT;
    } else {
      throw new GradclipError('invalid-argument', 'totalNorm must be a number or a NormHandle from a clipper on this device');
    }
    const paramsOffset = this.params.offsetFor(paramsValue({ p: 2, maxNorm, givenNorm, mode: 0 }), options.encoder);
    const { slot } = gpuSet.nextSlot();
    this.record(
      options,
      'clipGradsWithNorm',
      [gpuSet],
      (pass) => {
        this.recordFinalize(pass, gpuSet, 2, source, paramsOffset, slot);
        this.recordScale(pass, gpuSet, paramsOffset, slot);
      },
      (encoder) => {
        // The norm stays on the GPU: copy it into this set's slot, where finalize decides. A copy
        // within one buffer is invalid even between disjoint ranges, so a handle of the same
        // result ring (this set's, or a set sharing its resources) goes through the relay.
        if (!(totalNorm instanceof GpuNormHandle)) return;
        const target = slot * gpuSet.resultStride;
        if (totalNorm.buffer !== gpuSet.results) {
          encoder.copyBufferToBuffer(totalNorm.buffer, totalNorm.offset, gpuSet.results, target, RESULT_BYTES);
        } else if (totalNorm.offset !== target) {
          encoder.copyBufferToBuffer(totalNorm.buffer, totalNorm.offset, this.resultRelay, 0, RESULT_BYTES);
          encoder.copyBufferToBuffer(this.resultRelay, 0, gpuSet.results, target, RESULT_BYTES);
        }
      },
    );
  }

  clipGradValue(set: GradSet, clip: number | { min: number; max: number }, optionsIn?: EncoderOption | null): void {
    const options = readOptions(optionsIn, OPTION_KEYS.encoder, 'options');
    const gpuSet = this.checkUsable(set);
    const { min, max } = checkClipRange(clip);
    const paramsOffset = this.params.offsetFor(paramsValue({ clipMin: min, clipMax: max }), options.encoder);
    this.record(options, 'clipGradValue', [gpuSet], (pass) => {
      pass.setBindGroup(1, gpuSet.resources.elementwiseBindGroup, [paramsOffset, 0]);
      gpuSet.plan.groups.forEach((group, g) => {
        pass.setPipeline(this.kernels.elementwise(OP_CLAMP, group));
        pass.setBindGroup(0, gpuSet.dataBindGroups[g]);
        pass.dispatchWorkgroups(group.workgroupRanges.length);
      });
    });
  }

  perTensorNorms(set: GradSet, options?: NormsOptions | null): NormsHandle {
    return this.perView(set, RULE_NORMS, 0, readOptions(options, OPTION_KEYS.norms, 'options'));
  }

  clipByNorm(set: GradSet, maxNorm: number, options?: NormsOptions | null): NormsHandle {
    const checked = readOptions(options, OPTION_KEYS.norms, 'options');
    checkMaxNorm(maxNorm);
    return this.perView(set, RULE_CLIP_BY_NORM, maxNorm, checked);
  }

  clipPerExample(set: GradSet, optionsIn: PerExampleOptions): PerExampleResult {
    const options = readOptions(optionsIn, OPTION_KEYS.perExample, 'options');
    if (options.out !== undefined) readOptions(options.out, OPTION_KEYS.perExampleOut, 'options.out');
    const gpuSet = this.checkUsable(set);
    checkNoHalfViews(gpuSet.views.map((v) => v.elementBytes === 2), 'clipPerExample');
    const { batchSize, maxNorm } = options;
    const b = checkBatchSize(batchSize, gpuSet.views.map((v) => v.length));
    checkMaxNorm(maxNorm);
    const lengths = gpuSet.views.map((v) => v.length / b);
    const { offsets, bytes } = sumLayout(lengths);
    const target = this.sumTarget(gpuSet, b, bytes, options.out);
    const layout = gpuSet.segmentLayout(`examples:${b}`, () =>
      new SegmentLayout(this, planSegments(gpuSet.views, exampleSegments(gpuSet.views, b), b, this.planLimits), `batch of ${b}`),
    );
    const sum = this.perExampleSum(gpuSet, b, layout, target);
    const paramsOffset = this.params.offsetFor(paramsValue({ p: 2, maxNorm }), options.encoder);
    const { slot, generation } = gpuSet.nextSlot();
    const summing = sum;
    this.record(options, 'clipPerExample', [gpuSet], (pass) => {
      layout.recordNorms(pass, 2, RULE_PER_EXAMPLE, paramsOffset);
      layout.recordSummary(pass, 2, SUMMARY_COUNT_CLIPPED, paramsOffset, gpuSet.results, slot * gpuSet.resultStride);
      summing.record(pass);
    });
    summing.outputs ??= viewsAsSet(
      lengths.map((length, v) => ({ buffer: target.buffer, offset: target.byteOffset + offsets[v], length })),
      this.gradients(lengths.map((length, v) => ({ buffer: target.buffer, offset: target.byteOffset + offsets[v], length }))),
    );
    return { sum: summing.outputs, numClipped: new GpuNormHandle(this, gpuSet, slot, generation) };
  }

  adaptiveGradClip(grads: GradSet, params: GradSet, optionsIn?: AdaptiveGradClipOptions | null): NormHandle {
    const options = readOptions(optionsIn, OPTION_KEYS.agc, 'options');
    const gradSet = this.checkUsable(grads);
    const paramSet = this.checkUsable(params);
    if (gradSet === paramSet) throw new GradclipError('invalid-argument', 'grads and params must be two different sets');
    const { clipping, eps } = checkAgcOptions(options.clipping, options.eps);
    checkSameUnits(gradSet.views, paramSet.views);
    const units = (s: GpuGradSet) =>
      s.segmentLayout('units', () => {
        const { ranges, count } = unitSegments(s.views);
        return new SegmentLayout(this, planSegments(s.views, ranges, count, this.planLimits), 'units');
      });
    const gradUnits = units(gradSet);
    const paramUnits = units(paramSet);
    const paramsOffset = this.params.offsetFor(paramsValue({ p: 2, maxNorm: clipping, eps }), options.encoder);
    const { slot, generation } = gradSet.nextSlot();
    this.record(options, 'adaptiveGradClip', [gradSet, paramSet], (pass) => {
      paramUnits.recordNorms(pass, 2, RULE_NORMS, paramsOffset);
      gradUnits.recordNorms(pass, 2, RULE_AGC, paramsOffset, paramUnits.segmentNorms);
      gradUnits.recordSummary(pass, 2, SUMMARY_TOTAL_NORM, paramsOffset, gradSet.results, slot * gradSet.resultStride);
      gradUnits.recordScale(pass);
    });
    return new GpuNormHandle(this, gradSet, slot, generation);
  }

  /** The GPU side of createAutoClip / createZClip: the rule's state in a GPU buffer, a step records three passes' worth of dispatches. */
  createAdaptiveEngine(set: GradSet, rule: AdaptiveRule): AdaptiveEngine {
    const gpuSet = this.checkUsable(set);
    const state = new GpuAdaptiveState(this.kernels, gpuSet, this.paramsBuffer, rule);
    this.adaptiveStates.add(state);
    return {
      step: (stepOptions?: StepOptions | null) => {
        const options = readOptions(stepOptions, OPTION_KEYS.step, 'options');
        this.checkUsable(gpuSet);
        if (state.destroyed) throw new GradclipError('destroyed', 'this adaptive clipper was destroyed');
        const skip = checkOnNonfinite(options.onNonfinite) === 'skip';
        const paramsOffset = this.params.offsetFor(paramsValue({ p: 2, mode: skip ? MODE_SKIP_NONFINITE : 0 }), options.encoder);
        const { slot, generation } = gpuSet.nextSlot();
        this.record(options, rule.kind, [gpuSet], (pass) => {
          this.recordPartials(pass, gpuSet, 2, paramsOffset);
          state.record(pass, paramsOffset, slot * gpuSet.resultStride);
          this.recordScale(pass, gpuSet, paramsOffset, slot);
        });
        return new GpuNormHandle(this, gpuSet, slot, generation);
      },
      readState: async () => {
        this.checkUsable(gpuSet);
        if (state.destroyed) throw new GradclipError('destroyed', 'this adaptive clipper was destroyed');
        return state.decode(await this.readBuffer(state.buffer, state.headerBytes));
      },
      destroy: () => {
        state.destroy();
        this.adaptiveStates.delete(state);
      },
    };
  }

  /** The GPU side of createOptimizer: the norm pass of the gradients, then the fused decision and update. */
  createOptimizerEngine(params: GradSet, grads: GradSet, settings: OptimizerSettings): OptimizerEngine {
    const gradSet = this.checkUsable(grads);
    const paramSet = this.checkUsable(params);
    for (const set of [gradSet, paramSet]) checkNoHalfViews(set.views.map((v) => v.elementBytes === 2), 'createOptimizer');
    checkOptimizerSets(gradSet.views, paramSet.views, gradSet === paramSet);
    const optimizer = new GpuOptimizer(this.kernels, gradSet, paramSet, this.unusedBinding, settings, this.maxWorkgroups);
    this.optimizers.add(optimizer);
    const { clip } = settings;
    const byNorm = clip !== null && 'maxNorm' in clip;
    const { p, kind } = checkNormType(byNorm ? clip.normType : 2);
    const alive = () => {
      this.checkUsable(gradSet);
      this.checkUsable(paramSet);
      if (optimizer.destroyed) throw new GradclipError('destroyed', 'this optimizer was destroyed');
    };
    return {
      step: (stepOptions) => {
        const options = readOptions(stepOptions, OPTION_KEYS.optimizerStep, 'options');
        alive();
        const lr = options.lr === undefined ? settings.lr : checkLearningRate(options.lr);
        const settingsOffset = optimizer.settingsOffset(lr, options.encoder);
        const mode = byNorm ? MODE_SKIP_NONFINITE : MODE_NO_SCALE;
        const paramsOffset = this.params.offsetFor(paramsValue({ p, maxNorm: byNorm ? clip.maxNorm : 0, mode }), options.encoder);
        const { slot, generation } = gradSet.nextSlot();
        this.record(options, `${settings.kind} step`, [gradSet, paramSet], (pass) => {
          this.recordPartials(pass, gradSet, kind, paramsOffset);
          this.recordFinalize(pass, gradSet, kind, SOURCE_PARTIALS, paramsOffset, slot);
          optimizer.record(pass, settingsOffset, slot * gradSet.resultStride);
        });
        return new GpuNormHandle(this, gradSet, slot, generation);
      },
      state: async () => {
        alive();
        const total = optimizer.stateElements;
        const [step, first, second] = await Promise.all([
          this.readBuffer(optimizer.stepState, 4),
          this.readBuffer(optimizer.first, total * 4),
          this.readBuffer(optimizer.second, total * 4),
        ]);
        const perView = (all: Float32Array) => gradSet.views.map((v, i) => all.slice(optimizer.stateOffsets[i], optimizer.stateOffsets[i] + v.length));
        return { step: new Uint32Array(step.buffer)[0], first: perView(first), second: perView(second) };
      },
      destroy: () => {
        optimizer.destroy();
        this.optimizers.delete(optimizer);
      },
    };
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const set of this.sets.values()) set.destroy();
    this.sets.clear();
    this.pool.destroy();
    for (const state of this.adaptiveStates) state.destroy();
    this.adaptiveStates.clear();
    for (const optimizer of this.optimizers) optimizer.destroy();
    this.optimizers.clear();
    this.params.destroy();
    this.readback.destroy();
    this.resultRelay.destroy();
    this.unusedBinding.destroy();
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

  snapshotResult(results: GPUBuffer, offset: number): Promise<SlotValue> {
    return this.readback.snapshotResult(results, offset);
  }

  /** Reads `bytes` from the start of `buffer` (recorded now; per-view norms and rule state, not per step). */
  readBuffer(buffer: GPUBuffer, bytes: number): Promise<Float32Array> {
    return this.readback.readBuffer(buffer, bytes);
  }

  /** perTensorNorms / clipByNorm: per-view norms (rule), the total, and for clipping the scale. */
  private perView(set: GradSet, rule: SegmentRule, maxNorm: number, options: NormsOptions): NormsHandle {
    const gpuSet = this.checkUsable(set);
    const { p, kind } = checkNormType(options.normType);
    const layout = gpuSet.segmentLayout('views', () =>
      new SegmentLayout(this, planSegments(gpuSet.views, viewSegments(gpuSet.views), gpuSet.viewCount, this.planLimits), 'views'),
    );
    const paramsOffset = this.params.offsetFor(paramsValue({ p, maxNorm }), options.encoder);
    const { slot, generation } = gpuSet.nextSlot();
    this.record(options, rule === RULE_NORMS ? 'perTensorNorms' : 'clipByNorm', [gpuSet], (pass) => {
      layout.recordNorms(pass, kind, rule, paramsOffset);
      layout.recordSummary(pass, kind, SUMMARY_TOTAL_NORM, paramsOffset, gpuSet.results, slot * gpuSet.resultStride);
      if (rule !== RULE_NORMS) layout.recordScale(pass);
    });
    return new GpuNormsHandle(this, gpuSet, layout, new GpuNormHandle(this, gpuSet, slot, generation));
  }

  /**
   * clipPerExample's sum kernel for one target, made once per (batch size, buffer, offset) and
   * kept while the set uses a few targets: calls into alternating targets, even within one
   * encoder, each keep their own tables. A target dropped from the few is released, not
   * destroyed, since an encoder not yet submitted may still use it.
   */
  private perExampleSum(set: GpuGradSet, batchSize: number, layout: SegmentLayout, target: SumTarget): PerExampleSum {
    const key = `${batchSize}:${target.byteOffset}:${this.sumTargetIds.id(target.buffer)}`;
    let sum = set.perExampleSums.get(key);
    if (sum) {
      set.perExampleSums.delete(key);
    } else {
      sum = new PerExampleSum(this, set.views, batchSize, layout.segmentNorms, target, `batch of ${batchSize}`);
      if (set.perExampleSums.size >= SUM_TARGETS_KEPT) set.perExampleSums.delete(set.perExampleSums.keys().next().value as string);
    }
    set.perExampleSums.set(key, sum);
    return sum;
  }

  /** Where clipPerExample's sums go: the caller's buffer (checked) or one the set allocates once per batch size. */
  private sumTarget(set: GpuGradSet, batchSize: number, bytes: number, out: PerExampleOptions['out']): SumTarget {
    if (out === undefined) {
      let buffer = set.ownSumBuffers.get(batchSize);
      if (!buffer) {
        buffer = this.device.createBuffer({
          label: `gradclip per-example sums (batch of ${batchSize})`,
          size: bytes,
          usage: BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST,
        });
        set.ownSumBuffers.set(batchSize, buffer);
      }
      return { buffer, byteOffset: 0 };
    }
    const { buffer, byteOffset = 0 } = out;
    const alignment = this.device.limits.minStorageBufferOffsetAlignment;
    if (!buffer || typeof (buffer as GPUBuffer).size !== 'number' || ((buffer as GPUBuffer).usage & BufferUsage.STORAGE) === 0) {
      throw new GradclipError('invalid-argument', 'out.buffer must be a GPUBuffer with GPUBufferUsage.STORAGE');
    }
    if (!Number.isInteger(byteOffset) || byteOffset < 0 || byteOffset % alignment !== 0) {
      throw new GradclipError('invalid-argument', `out.byteOffset must be a non-negative multiple of ${alignment} bytes, got ${byteOffset}`);
    }
    if (byteOffset + bytes > buffer.size) {
      throw new GradclipError('out-of-range', `the sums need ${bytes} bytes from out.byteOffset ${byteOffset}, past the end of the ${buffer.size}-byte out.buffer`);
    }
    if (set.views.some((v) => v.buffer === buffer)) {
      throw new GradclipError('invalid-argument', 'out.buffer must not hold any of the per-example views');
    }
    return { buffer, byteOffset };
  }

  private checkAlive(): void {
    if (this.lost) {
      throw new GradclipError('device-lost', `the GPU device was lost (${this.lost.reason}): ${this.lost.message || 'no message'}`);
    }
    if (this.destroyed) throw new GradclipError('destroyed', 'this clipper was destroyed');
  }

  /**
   * Records one compute pass into the caller's encoder, or into a new one submitted at once. A
   * submission of our own runs inside a validation scope: a buffer of `sets` that was destroyed
   * (or is otherwise unusable) fails it, and then the sets carry a GradclipError that their
   * handles' reads reject with and every later call throws, in place of an uncaptured
   * validation error.
   */
  private record(
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
      set.watch(scope, (message) => `${label} was not run: a buffer of the set was destroyed or cannot be used on this device (${message})`);
    }
  }

  recordPartials(pass: GPUComputePassEncoder, set: GpuGradSet, kind: NormKind, paramsOffset: number): void {
    pass.setBindGroup(1, set.resources.partialsBindGroup, [paramsOffset]);
    set.plan.groups.forEach((group, g) => {
      pass.setPipeline(this.kernels.partials(kind, group));
      pass.setBindGroup(0, set.dataBindGroups[g]);
      pass.dispatchWorkgroups(group.workgroupRanges.length);
    });
  }

  private recordFinalize(
    pass: GPUComputePassEncoder,
    set: GpuGradSet,
    kind: NormKind,
    source: NormSource,
    paramsOffset: number,
    slot: number,
  ): void {
    pass.setPipeline(this.kernels.finalize(kind, source));
    pass.setBindGroup(0, set.resources.finalizeBindGroup, [paramsOffset, slot * set.resultStride]);
    pass.dispatchWorkgroups(1);
  }

  recordScale(pass: GPUComputePassEncoder, set: GpuGradSet, paramsOffset: number, slot: number): void {
    pass.setBindGroup(1, set.resources.elementwiseBindGroup, [paramsOffset, slot * set.resultStride]);
    set.plan.groups.forEach((group, g) => {
      pass.setPipeline(this.kernels.elementwise(OP_SCALE, group));
      pass.setBindGroup(0, set.dataBindGroups[g]);
      pass.dispatchWorkgroupsIndirect(set.dispatchArgs, liveArgsOffset(set.plan, g));
    });
  }
}

function paramsValue(v: Partial<ParamsValue>): ParamsValue {
  return { p: 2, maxNorm: 0, clipMin: 0, clipMax: 0, givenNorm: 0, mode: 0, eps: 0, ...v };
}
