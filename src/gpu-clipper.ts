// The WebGPU backend: validates in TypeScript, then records each call's passes (norm, finalize,
// scale; per-segment and adaptive variants) into one compute pass. Nothing here awaits the GPU or
// maps a buffer except the read-backs the caller asks for (handles' read(), rule state).
import type { AdaptiveEngine, AdaptiveRule, StepOptions } from './adaptive';
import { GradclipError } from './errors';
import { GpuAdaptiveState } from './gpu-adaptive';
import { GpuOptimizer } from './gpu-optimizer';
import type { OptimizerEngine } from './optimizer';
import type { OptimizerSettings } from './optimizer-reference';
import { BufferUsage, MapMode } from './gpu-constants';
import { PerExampleSum, SegmentLayout, sumLayout, type SumTarget } from './gpu-segments';
import { GpuGradSet, type SetOwner } from './gpu-set';
import { resolveSet, viewsAsSet } from './set-alias';
import {
  OP_CLAMP,
  OP_SCALE,
  RESULT_BYTES,
  RULE_AGC,
  RULE_CLIP_BY_NORM,
  RULE_NORMS,
  RULE_PER_EXAMPLE,
  SEGMENT_NORM_BYTES,
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
import { StagingPool } from './staging';
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
  ThresholdHandle,
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

const FLAG_NONFINITE_ERROR = 8; // shaders/common.wgsl
const MODE_ERROR_IF_NONFINITE = 1;
const MODE_NO_SCALE = 2;
const MODE_SKIP_NONFINITE = 4;
/** Byte offset of `foundInf` in a NormResult (shaders/common.wgsl). */
const FOUND_INF_OFFSET = 12;
/** Byte offset of `threshold` in a NormResult. */
const THRESHOLD_OFFSET = 16;
/** Fewest elements worth a workgroup of their own: 16 vec4 loads per lane of a 64-lane workgroup. */
const MIN_ELEMENTS_PER_WORKGROUP = 4096;

export interface GpuClipperOptions {
  /** Workgroup cap per dispatch group (autotuned or from limits by the caller). */
  maxWorkgroups: number;
}

class GpuNormHandle implements ThresholdHandle {
  constructor(
    private readonly clipper: GpuClipper,
    readonly set: GpuGradSet,
    readonly slot: number,
    readonly generation: number,
  ) {}

  get buffer(): GPUBuffer {
    return this.set.results;
  }

  get offset(): number {
    return this.slot * this.set.resultStride;
  }

  get foundInf(): GPUBuffer {
    return this.set.results;
  }

  get foundInfOffset(): number {
    return this.offset + FOUND_INF_OFFSET;
  }

  get thresholdOffset(): number {
    return this.offset + THRESHOLD_OFFSET;
  }

  /** Throws unless this handle's slot still holds its own norm. */
  checkFresh(): void {
    if (this.set.slotGenerations[this.slot] !== this.generation) {
      throw new GradclipError(
        'stale-handle',
        `this NormHandle's result was overwritten: read it within ${this.set.slotGenerations.length} later norms of its set`,
      );
    }
  }

  read(): Promise<number> {
    return this.readSlot(true).then((r) => r.norm);
  }

  readFoundInf(): Promise<boolean> {
    return this.readSlot(false).then((r) => r.foundInf);
  }

  readThreshold(): Promise<number> {
    return this.readSlot(false).then((r) => r.threshold);
  }

  /** Reads this handle's result slot; rejects (never throws) when the clipper, set or slot is gone. */
  private async readSlot(checkError: boolean): Promise<SlotValue> {
    this.clipper.checkUsable(this.set);
    this.checkFresh();
    await this.set.checked;
    if (this.set.failure) throw this.set.failure;
    return this.clipper.readResult(this.set, this.slot, checkError);
  }
}

interface SlotValue {
  norm: number;
  foundInf: boolean;
  threshold: number;
}

class GpuNormsHandle implements NormsHandle {
  readonly offset = 0;
  readonly stride = SEGMENT_NORM_BYTES;
  private readonly generation: number;

  constructor(
    private readonly clipper: GpuClipper,
    private readonly set: GpuGradSet,
    private readonly layout: SegmentLayout,
    readonly total: NormHandle,
  ) {
    this.generation = layout.generation;
  }

  get buffer(): GPUBuffer {
    return this.layout.segmentNorms;
  }

  async read(): Promise<Float32Array> {
    this.clipper.checkUsable(this.set);
    if (this.layout.generation !== this.generation) {
      throw new GradclipError('stale-handle', "these per-view norms were overwritten by a later per-view call on the set: read them before the next one");
    }
    const pairs = await this.clipper.readBuffer(this.layout.segmentNorms, this.layout.segmentCount * SEGMENT_NORM_BYTES);
    return Float32Array.from({ length: this.layout.segmentCount }, (_, i) => pairs[2 * i]);
  }
}

export class GpuClipper implements Clipper, SetOwner {
  readonly backend = 'webgpu' as const;
  readonly kernels: Kernels;
  readonly paramsBuffer: GPUBuffer;
  readonly unusedBinding: GPUBuffer;
  destroyed = false;
  private lost: GPUDeviceLostInfo | null = null;
  private readonly params: ParamsRing;
  private readonly staging: StagingPool;
  private readonly sets = new Set<GpuGradSet>();
  private readonly adaptiveStates = new Set<GpuAdaptiveState>();
  private readonly optimizers = new Set<GpuOptimizer>();
  private readonly planLimits: PlanLimits;
  /** The workgroup cap of every pass (autotuned per device unless given). */
  readonly maxWorkgroups: number;

  constructor(
    readonly device: GPUDevice,
    options: GpuClipperOptions,
  ) {
    this.kernels = kernelsFor(device);
    this.params = new ParamsRing(device);
    this.paramsBuffer = this.params.buffer;
    this.staging = new StagingPool(device, RESULT_BYTES);
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

  clipGradNorm(set: GradSet, maxNorm: number, options: NormOptions = {}): NormHandle {
    const gpuSet = this.checkUsable(set);
    checkMaxNorm(maxNorm);
    const { p, kind } = checkNormType(options.normType);
    const skip = checkOnNonfinite(options.onNonfinite) === 'skip';
    const mode = (options.errorIfNonfinite ? MODE_ERROR_IF_NONFINITE : 0) | (skip ? MODE_SKIP_NONFINITE : 0);
    const paramsOffset = this.params.offsetFor(paramsValue({ p, maxNorm, mode }));
    const { slot, generation } = gpuSet.nextSlot();
    this.record(options, 'clipGradNorm', [gpuSet], (pass) => {
      this.recordPartials(pass, gpuSet, kind, paramsOffset);
      this.recordFinalize(pass, gpuSet, kind, SOURCE_PARTIALS, paramsOffset, slot);
      this.recordScale(pass, gpuSet, paramsOffset, slot);
    });
    return new GpuNormHandle(this, gpuSet, slot, generation);
  }

  getTotalNorm(set: GradSet, options: NormOptions = {}): NormHandle {
    const gpuSet = this.checkUsable(set);
    const { p, kind } = checkNormType(options.normType);
    const mode = MODE_NO_SCALE | (options.errorIfNonfinite ? MODE_ERROR_IF_NONFINITE : 0);
    const paramsOffset = this.params.offsetFor(paramsValue({ p, maxNorm: 0, mode }));
    const { slot, generation } = gpuSet.nextSlot();
    this.record(options, 'getTotalNorm', [gpuSet], (pass) => {
      this.recordPartials(pass, gpuSet, kind, paramsOffset);
      this.recordFinalize(pass, gpuSet, kind, SOURCE_PARTIALS, paramsOffset, slot);
    });
    return new GpuNormHandle(this, gpuSet, slot, generation);
  }

  clipGradsWithNorm(set: GradSet, maxNorm: number, totalNorm: NormHandle | number, options: EncoderOption = {}): void {
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
    const paramsOffset = this.params.offsetFor(paramsValue({ p: 2, maxNorm, givenNorm, mode: 0 }));
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
        // The norm stays on the GPU: copy it into this set's slot, where finalize decides (a
        // handle of this set made 256 norms ago already sits in that very slot).
        if (totalNorm instanceof GpuNormHandle && !(totalNorm.set === gpuSet && totalNorm.slot === slot)) {
          encoder.copyBufferToBuffer(totalNorm.buffer, totalNorm.offset, gpuSet.results, slot * gpuSet.resultStride, RESULT_BYTES);
        }
      },
    );
  }

  clipGradValue(set: GradSet, clip: number | { min: number; max: number }, options: EncoderOption = {}): void {
    const gpuSet = this.checkUsable(set);
    const { min, max } = checkClipRange(clip);
    const paramsOffset = this.params.offsetFor(paramsValue({ clipMin: min, clipMax: max }));
    this.record(options, 'clipGradValue', [gpuSet], (pass) => {
      pass.setBindGroup(1, gpuSet.elementwiseBindGroup, [paramsOffset, 0]);
      gpuSet.plan.groups.forEach((group, g) => {
        pass.setPipeline(this.kernels.elementwise(OP_CLAMP, group));
        pass.setBindGroup(0, gpuSet.dataBindGroups[g]);
        pass.dispatchWorkgroups(group.workgroupRanges.length);
      });
    });
  }

  perTensorNorms(set: GradSet, options: NormsOptions = {}): NormsHandle {
    return this.perView(set, RULE_NORMS, 0, options);
  }

  clipByNorm(set: GradSet, maxNorm: number, options: NormsOptions = {}): NormsHandle {
    checkMaxNorm(maxNorm);
    return this.perView(set, RULE_CLIP_BY_NORM, maxNorm, options);
  }

  clipPerExample(set: GradSet, options: PerExampleOptions): PerExampleResult {
    const gpuSet = this.checkUsable(set);
    checkNoHalfViews(gpuSet.views.map((v) => v.elementBytes === 2), 'clipPerExample');
    const { batchSize, maxNorm } = options ?? ({} as PerExampleOptions);
    const b = checkBatchSize(batchSize, gpuSet.views.map((v) => v.length));
    checkMaxNorm(maxNorm);
    const lengths = gpuSet.views.map((v) => v.length / b);
    const { offsets, bytes } = sumLayout(lengths);
    const target = this.sumTarget(gpuSet, b, bytes, options.out);
    const layout = gpuSet.segmentLayout(`examples:${b}`, () =>
      new SegmentLayout(this, planSegments(gpuSet.views, exampleSegments(gpuSet.views, b), b, this.planLimits), `batch of ${b}`),
    );
    const sumKey = `${b}:${target.byteOffset}`;
    let sum = gpuSet.perExampleSums.get(sumKey);
    if (!sum || sum.target.buffer !== target.buffer) {
      sum?.destroy();
      sum = new PerExampleSum(this, gpuSet.views, b, layout.segmentNorms, target, `batch of ${b}`);
      gpuSet.perExampleSums.set(sumKey, sum);
    }
    const paramsOffset = this.params.offsetFor(paramsValue({ p: 2, maxNorm }));
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

  adaptiveGradClip(grads: GradSet, params: GradSet, options: AdaptiveGradClipOptions = {}): NormHandle {
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
    const paramsOffset = this.params.offsetFor(paramsValue({ p: 2, maxNorm: clipping, eps }));
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
      step: (options: StepOptions = {}) => {
        this.checkUsable(gpuSet);
        if (state.destroyed) throw new GradclipError('destroyed', 'this adaptive clipper was destroyed');
        const skip = checkOnNonfinite(options.onNonfinite) === 'skip';
        const paramsOffset = this.params.offsetFor(paramsValue({ p: 2, mode: skip ? MODE_SKIP_NONFINITE : 0 }));
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
      step: (options = {}) => {
        alive();
        const lr = options.lr === undefined ? settings.lr : checkLearningRate(options.lr);
        const settingsOffset = optimizer.settingsOffset(lr);
        const mode = byNorm ? MODE_SKIP_NONFINITE : MODE_NO_SCALE;
        const paramsOffset = this.params.offsetFor(paramsValue({ p, maxNorm: byNorm ? clip.maxNorm : 0, mode }));
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
    for (const set of this.sets) set.destroy();
    this.sets.clear();
    for (const state of this.adaptiveStates) state.destroy();
    this.adaptiveStates.clear();
    for (const optimizer of this.optimizers) optimizer.destroy();
    this.optimizers.clear();
    this.params.destroy();
    this.staging.destroy();
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

  /**
   * Copies one result slot into a pooled staging buffer and reads it; with `checkError`, rejects
   * when errorIfNonfinite tripped.
   */
  async readResult(set: GpuGradSet, slot: number, checkError = true): Promise<SlotValue> {
    const staging = this.staging.acquire();
    const encoder = this.device.createCommandEncoder({ label: 'gradclip read norm' });
    encoder.copyBufferToBuffer(set.results, slot * set.resultStride, staging, 0, RESULT_BYTES);
    this.device.queue.submit([encoder.finish()]);
    let norm: number;
    let flags: number;
    let foundInf: number;
    let threshold: number;
    try {
      await staging.mapAsync(MapMode.READ);
      const mapped = staging.getMappedRange();
      norm = new Float32Array(mapped, 0, 1)[0];
      [flags, foundInf] = new Uint32Array(mapped, 8, 2);
      threshold = new Float32Array(mapped, THRESHOLD_OFFSET, 1)[0];
      staging.unmap();
    } catch (error) {
      // A map aborted by a lost device: let `device.lost` land, then say so.
      await Promise.race([this.device.lost, new Promise((settle) => setTimeout(settle, 100))]);
      this.checkAlive();
      throw error;
    }
    this.staging.release(staging);
    if (checkError && flags & FLAG_NONFINITE_ERROR) {
      throw new GradclipError('nonfinite-norm', `the total norm is ${norm} (errorIfNonfinite is set); no gradient was changed`);
    }
    return { norm, foundInf: foundInf === 1, threshold };
  }

  /** Reads `bytes` from the start of `buffer` (a one-off staging buffer: per-view norms and rule state, not per step). */
  async readBuffer(buffer: GPUBuffer, bytes: number): Promise<Float32Array> {
    const size = Math.max(4, Math.ceil(bytes / 4) * 4);
    const staging = this.device.createBuffer({ label: 'gradclip read back', size, usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST });
    const encoder = this.device.createCommandEncoder({ label: 'gradclip read back' });
    encoder.copyBufferToBuffer(buffer, 0, staging, 0, size);
    this.device.queue.submit([encoder.finish()]);
    try {
      await staging.mapAsync(MapMode.READ);
      return new Float32Array(staging.getMappedRange().slice(0));
    } catch (error) {
      await Promise.race([this.device.lost, new Promise((settle) => setTimeout(settle, 100))]);
      this.checkAlive();
      throw error;
    } finally {
      staging.destroy();
    }
  }

  /** perTensorNorms / clipByNorm: per-view norms (rule), the total, and for clipping the scale. */
  private perView(set: GradSet, rule: SegmentRule, maxNorm: number, options: NormsOptions): NormsHandle {
    const gpuSet = this.checkUsable(set);
    const { p, kind } = checkNormType(options.normType);
    const layout = gpuSet.segmentLayout('views', () =>
      new SegmentLayout(this, planSegments(gpuSet.views, viewSegments(gpuSet.views), gpuSet.viewCount, this.planLimits), 'views'),
    );
    const paramsOffset = this.params.offsetFor(paramsValue({ p, maxNorm }));
    const { slot, generation } = gpuSet.nextSlot();
    this.record(options, rule === RULE_NORMS ? 'perTensorNorms' : 'clipByNorm', [gpuSet], (pass) => {
      layout.recordNorms(pass, kind, rule, paramsOffset);
      layout.recordSummary(pass, kind, SUMMARY_TOTAL_NORM, paramsOffset, gpuSet.results, slot * gpuSet.resultStride);
      if (rule !== RULE_NORMS) layout.recordScale(pass);
    });
    return new GpuNormsHandle(this, gpuSet, layout, new GpuNormHandle(this, gpuSet, slot, generation));
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
    pass.setBindGroup(1, set.partialsBindGroup, [paramsOffset]);
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
    pass.setBindGroup(0, set.finalizeBindGroup, [paramsOffset, slot * set.resultStride]);
    pass.dispatchWorkgroups(1);
  }

  recordScale(pass: GPUComputePassEncoder, set: GpuGradSet, paramsOffset: number, slot: number): void {
    pass.setBindGroup(1, set.elementwiseBindGroup, [paramsOffset, slot * set.resultStride]);
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
