// The WebGPU backend's public operations: each validates in TypeScript (before anything is
// recorded), then records one compute pass through the context (context.ts): norm partials,
// finalize and scale, or their per-segment and adaptive variants. Nothing here awaits the GPU or
// maps a buffer except the reads the caller asks for (handles' read()).
import type { AdaptiveRule } from '../core/adaptive-types';
import type { ClipperBackend, ClipperEngines } from '../core/backend';
import { GradclipError } from '../core/errors';
import { OPTION_KEYS, readOptions } from '../core/options';
import type {
  AdaptiveGradClipOptions,
  ClipperTuning,
  EncoderOption,
  GradSet,
  GradView,
  NormHandle,
  NormOptions,
  NormsHandle,
  NormsOptions,
  PerExampleOptions,
  PerExampleResult,
} from '../core/types';
import {
  OP_CLAMP,
  RESULT_BYTES,
  RULE_CLIP_BY_NORM,
  RULE_NORMS,
  SOURCE_PARAMS,
  SOURCE_PARTIALS,
  SOURCE_RESULT,
  SUMMARY_TOTAL_NORM,
  type NormSource,
  type SegmentRule,
} from '../kernels/registry';
import { planSegments, viewSegments } from '../plan/segments';
import { checkClipRange, checkGivenNorm, checkMaxNorm, checkNormType, checkOnNonfinite } from '../plan/validate';
import { resolveGpuViews } from '../plan/views';
import { planSet } from '../plan/windows';
import type { GradScaler, GradScalerConfig } from '../core/amp-types';
import type { OptimizerSettings } from '../core/optimizer-types';
import { GpuContext } from './context';
import { gpuAdaptiveEngine, gpuOptimizerEngine } from './engines';
import { adapterKey } from './adapter-key';
import { GpuNormHandle, GpuNormsHandle } from './handles';
import { MODE_ERROR_IF_NONFINITE, MODE_NO_SCALE, MODE_SKIP_NONFINITE } from '../core/abi';
import { PerExampleClipping } from './per-example';
import { AgcClipping } from './agc';
import { SegmentLayout } from './segments';
import { GpuGradScaler, scalerOf } from './scaler';
import { GpuGradSet } from './set';

export interface GpuClipperOptions {
  /** Workgroup cap per dispatch group (autotuned or from limits by the caller). */
  maxWorkgroups: number;
  /** How the cap was chosen (`clipper.tuning`); default: given as an option. */
  tuning?: ClipperTuning;
}

/** The tuning of a cap that was not measured: given (`maxWorkgroups`) or the default (`autotune: false`). */
export function fixedTuning(device: GPUDevice, maxWorkgroups: number, source: 'option' | 'default'): ClipperTuning {
  return {
    maxWorkgroups: Math.min(maxWorkgroups, device.limits.maxComputeWorkgroupsPerDimension),
    source,
    adapterKey: adapterKey(device),
    chosen: null,
    candidates: [],
    prior: null,
    timer: null,
    elements: 0,
    elapsedMs: 0,
  };
}

export class GpuClipper implements ClipperBackend {
  readonly backend = 'webgpu' as const;
  readonly fallbackReason = null;
  readonly engines: ClipperEngines;
  /** How the workgroup cap was chosen (see `Clipper.tuning`). */
  readonly tuning: ClipperTuning;
  /** Everything the operations share: kernels, rings, pool, recording, readback. */
  readonly context: GpuContext;
  private readonly perExample: PerExampleClipping;
  private readonly agc: AgcClipping;

  constructor(
    readonly device: GPUDevice,
    options: GpuClipperOptions,
  ) {
    const ctx = new GpuContext(device, options.maxWorkgroups);
    this.context = ctx;
    this.tuning = options.tuning ?? fixedTuning(device, options.maxWorkgroups, 'option');
    this.perExample = new PerExampleClipping(ctx, (views) => this.gradients(views));
    this.agc = new AgcClipping(ctx);
    this.engines = {
      adaptive: (set: GradSet, rule: AdaptiveRule) => gpuAdaptiveEngine(ctx, set, rule),
      optimizer: (params: GradSet, grads: GradSet, settings: OptimizerSettings, scaler: GradScaler | null) =>
        gpuOptimizerEngine(ctx, params, grads, settings, scaler),
      perExampleSums: (set: GradSet, batchSize: number) => this.perExample.ownSums(set, batchSize),
      scaler: (config: GradScalerConfig) => {
        ctx.checkAlive();
        const scaler = new GpuGradScaler(ctx, config);
        ctx.owned.add(scaler);
        return scaler;
      },
    };
  }

  /** The workgroup cap of every pass (autotuned per device unless given). */
  get maxWorkgroups(): number {
    return this.context.planLimits.maxWorkgroups;
  }

  get destroyed(): boolean {
    return this.context.destroyed;
  }

  gradients(views: GradView[]): GradSet {
    const ctx = this.context;
    ctx.checkAlive();
    const resolved = resolveGpuViews(views, this.device.features.has('shader-f16'));
    const set = new GpuGradSet(ctx, planSet(resolved, ctx.planLimits), resolved);
    ctx.sets.add(set);
    return set;
  }

  clipGradNorm(set: GradSet, maxNorm: number, optionsIn?: NormOptions | null): NormHandle {
    return this.totalNorm(set, maxNorm, readOptions(optionsIn, OPTION_KEYS.norm, 'options'), 'clipGradNorm');
  }

  getTotalNorm(set: GradSet, optionsIn?: NormOptions | null): NormHandle {
    return this.totalNorm(set, 0, readOptions(optionsIn, OPTION_KEYS.norm, 'options'), 'getTotalNorm');
  }

  /** clipGradNorm (scale pass included) or getTotalNorm (the norm alone), with or without a GradScaler. */
  private totalNorm(set: GradSet, maxNorm: number, options: NormOptions, call: 'clipGradNorm' | 'getTotalNorm') {
    const ctx = this.context;
    const gpuSet = ctx.checkUsable(set);
    const clips = call === 'clipGradNorm';
    if (clips) checkMaxNorm(maxNorm);
    const { p, kind } = checkNormType(options.normType);
    const onNonfinite = checkOnNonfinite(options.onNonfinite);
    const scaler = options.scaler === undefined ? null : scalerOf(ctx, options.scaler);
    if (scaler && options.onNonfinite === 'propagate') {
      throw new GradclipError(
        'invalid-argument',
        "options.onNonfinite 'propagate' with a scaler: a scaled step with NaN/Inf writes nothing and sets found-inf; leave onNonfinite out",
      );
    }
    const scaled = scaler?.enabled ? scaler : null;
    scaled?.noteCheck(gpuSet, clips, call);
    const skip = clips && (onNonfinite === 'skip' || scaled !== null);
    const mode =
      (clips ? 0 : MODE_NO_SCALE) |
      (options.errorIfNonfinite ? MODE_ERROR_IF_NONFINITE : 0) |
      (skip ? MODE_SKIP_NONFINITE : 0);
    const paramsOffset = ctx.paramsOffset({ p, maxNorm, mode }, options.encoder);
    const handle = ctx.claimHandle(gpuSet);
    ctx.record(options, call, [gpuSet], (pass) => {
      ctx.recordPartials(pass, gpuSet, kind, paramsOffset);
      ctx.recordFinalize(pass, gpuSet, kind, SOURCE_PARTIALS, paramsOffset, handle.slot, scaled?.bindGroup ?? null);
      if (clips) ctx.recordScale(pass, gpuSet, paramsOffset, handle.slot);
    });
    return handle;
  }

  clipGradsWithNorm(
    set: GradSet,
    maxNorm: number,
    totalNorm: NormHandle | number,
    optionsIn?: EncoderOption | null,
  ): void {
    const ctx = this.context;
    const options = readOptions(optionsIn, OPTION_KEYS.encoder, 'options');
    const gpuSet = ctx.checkUsable(set);
    checkMaxNorm(maxNorm);
    let source: NormSource;
    let givenNorm = 0;
    if (typeof totalNorm === 'number') {
      givenNorm = checkGivenNorm(totalNorm);
      source = SOURCE_PARAMS;
    } else if (totalNorm instanceof GpuNormHandle && totalNorm.set.owner.kernels.device === this.device) {
      if (totalNorm.set.destroyed) throw new GradclipError('destroyed', "totalNorm's set was destroyed");
      totalNorm.checkFresh();
      source = SOURCE_RESULT;
    } else {
      throw new GradclipError(
        'invalid-argument',
        'totalNorm must be a number or a NormHandle from a clipper on this device',
      );
    }
    const paramsOffset = ctx.paramsOffset({ p: 2, maxNorm, givenNorm, mode: 0 }, options.encoder);
    const { slot } = gpuSet.nextSlot();
    const target = slot * gpuSet.resultStride;
    const copyNorm = (encoder: GPUCommandEncoder) => {
      // The norm stays on the GPU: copy it into this set's slot, where finalize decides. A copy
      // within one buffer is invalid even between disjoint ranges, so a handle of the same
      // result ring (this set's, or a set sharing its resources) goes through the relay.
      if (!(totalNorm instanceof GpuNormHandle)) return;
      if (totalNorm.buffer !== gpuSet.results) {
        encoder.copyBufferToBuffer(totalNorm.buffer, totalNorm.offset, gpuSet.results, target, RESULT_BYTES);
      } else if (totalNorm.offset !== target) {
        encoder.copyBufferToBuffer(totalNorm.buffer, totalNorm.offset, ctx.resultRelay, 0, RESULT_BYTES);
        encoder.copyBufferToBuffer(ctx.resultRelay, 0, gpuSet.results, target, RESULT_BYTES);
      }
    };
    const record = (pass: GPUComputePassEncoder) => {
      ctx.recordFinalize(pass, gpuSet, 2, source, paramsOffset, slot);
      ctx.recordScale(pass, gpuSet, paramsOffset, slot);
    };
    ctx.record(options, 'clipGradsWithNorm', [gpuSet], record, copyNorm);
  }

  clipGradValue(set: GradSet, clip: number | { min: number; max: number }, optionsIn?: EncoderOption | null): void {
    const ctx = this.context;
    const options = readOptions(optionsIn, OPTION_KEYS.encoder, 'options');
    const gpuSet = ctx.checkUsable(set);
    const { min, max } = checkClipRange(clip);
    const paramsOffset = ctx.paramsOffset({ clipMin: min, clipMax: max }, options.encoder);
    ctx.record(options, 'clipGradValue', [gpuSet], (pass) =>
      ctx.recordElementwise(pass, gpuSet, OP_CLAMP, gpuSet.resources.elementwiseBindGroup, [paramsOffset, 0], 'all'),
    );
  }

  perTensorNorms(set: GradSet, options?: NormsOptions | null): NormsHandle {
    return this.perView(set, RULE_NORMS, 0, readOptions(options, OPTION_KEYS.norms, 'options'));
  }

  clipByNorm(set: GradSet, maxNorm: number, options?: NormsOptions | null): NormsHandle {
    const checked = readOptions(options, OPTION_KEYS.norms, 'options');
    checkMaxNorm(maxNorm);
    return this.perView(set, RULE_CLIP_BY_NORM, maxNorm, checked);
  }

  clipPerExample(set: GradSet, options: PerExampleOptions): PerExampleResult {
    return this.perExample.run(set, options);
  }

  adaptiveGradClip(grads: GradSet, params: GradSet, options?: AdaptiveGradClipOptions | null): NormHandle {
    return this.agc.run(grads, params, options);
  }

  destroy(): void {
    this.context.destroy();
  }

  /** perTensorNorms / clipByNorm: per-view norms (rule), the total, and for clipping the scale. */
  private perView(set: GradSet, rule: SegmentRule, maxNorm: number, options: NormsOptions): NormsHandle {
    const ctx = this.context;
    const gpuSet = ctx.checkUsable(set);
    const { p, kind } = checkNormType(options.normType);
    const layout = gpuSet.segmentLayout('views', (cache) => {
      const plan = planSegments(gpuSet.views, viewSegments(gpuSet.views), gpuSet.viewCount, ctx.planLimits);
      return new SegmentLayout(ctx, plan, 'views', cache);
    });
    const paramsOffset = ctx.paramsOffset({ p, maxNorm }, options.encoder);
    const total = ctx.claimHandle(gpuSet);
    ctx.record(options, rule === RULE_NORMS ? 'perTensorNorms' : 'clipByNorm', [gpuSet], (pass) => {
      layout.recordNorms(pass, kind, rule, paramsOffset);
      layout.recordSummary(pass, kind, SUMMARY_TOTAL_NORM, paramsOffset, gpuSet.results, total.offset);
      if (rule !== RULE_NORMS) layout.recordScale(pass);
    });
    return new GpuNormsHandle(ctx, gpuSet, layout, total);
  }
}
