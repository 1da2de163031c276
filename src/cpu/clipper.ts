// The CPU backend: the float64 reference applied in place to Float32Arrays (and Float16Arrays),
// with the GPU backend's contract (sets and handles in set.ts, engines in engines.ts).
import type { AdaptiveRule } from '../core/adaptive-types';
import type { ClipperBackend, ClipperEngines } from '../core/backend';
import { GradclipError } from '../core/errors';
import { OPTION_KEYS, readOptions } from '../core/options';
import { resolveSet } from '../core/set-alias';
import type {
  AdaptiveGradClipOptions,
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
  checkAgcOptions,
  checkClipRange,
  checkGivenNorm,
  checkMaxNorm,
  checkNormType,
  checkOnNonfinite,
  checkSameUnits,
} from '../plan/validate';
import { resolveCpuViews, type CpuView, type GradArray } from '../plan/views';
import { agcCoefficient, unitRanges, viewNormsReference } from '../reference/modes';
import { clampInPlace, clipDecision, scaleInPlace, totalNormReference } from '../reference/norms';
import type { GradScaler, GradScalerConfig } from '../core/amp-types';
import type { OptimizerSettings } from '../core/optimizer-types';
import { cpuAdaptiveEngine, cpuOptimizerEngine } from './engines';
import { cpuClipPerExample, cpuPerExampleSums } from './per-example';
import { CpuGradScaler, cpuScalerOf } from './scaler';
import { checkNoEncoder, CpuGradSet, CpuNormHandle, CpuNormsHandle, float32Norm, type CpuSets } from './set';

/** The CPU backend: the float64 reference applied in place to Float32Arrays (and Float16Arrays). */
export class CpuClipper implements ClipperBackend, CpuSets {
  readonly backend = 'cpu' as const;
  readonly device = null;
  /** No workgroups to tune on the CPU. */
  readonly tuning = null;
  destroyed = false;
  readonly engines: ClipperEngines = {
    adaptive: (set: GradSet, rule: AdaptiveRule) => cpuAdaptiveEngine(this, set, rule),
    optimizer: (params: GradSet, grads: GradSet, settings: OptimizerSettings, scaler: GradScaler | null) =>
      cpuOptimizerEngine(this, params, grads, settings, scaler === null ? null : cpuScalerOf(this, scaler)),
    perExampleSums: (set: GradSet, batchSize: number) => cpuPerExampleSums(this, set, batchSize),
    scaler: (config: GradScalerConfig) => {
      this.checkAlive();
      return new CpuGradScaler(this, config);
    },
  };

  /** `fallbackReason`: why WebGPU was not used when it was wanted (see createClipper). */
  constructor(readonly fallbackReason: string | null = null) {}

  gradients(views: GradView[]): GradSet {
    this.checkAlive();
    return new CpuGradSet(this, resolveCpuViews(views));
  }

  clipGradNorm(set: GradSet, maxNorm: number, optionsIn?: NormOptions | null): NormHandle {
    return this.totalNorm(set, maxNorm, readOptions(optionsIn, OPTION_KEYS.norm, 'options'), 'clipGradNorm');
  }

  getTotalNorm(set: GradSet, optionsIn?: NormOptions | null): NormHandle {
    return this.totalNorm(set, 0, readOptions(optionsIn, OPTION_KEYS.norm, 'options'), 'getTotalNorm');
  }

  /** clipGradNorm or getTotalNorm, with or without a GradScaler (whose unscale is folded into the clip's scale). */
  private totalNorm(set: GradSet, maxNorm: number, options: NormOptions, call: 'clipGradNorm' | 'getTotalNorm') {
    const cpuSet = this.setOf(set);
    const clips = call === 'clipGradNorm';
    if (clips) checkMaxNorm(maxNorm);
    const { p } = checkNormType(options.normType);
    const onNonfinite = checkOnNonfinite(options.onNonfinite);
    checkNoEncoder(options);
    const scaler = options.scaler === undefined ? null : cpuScalerOf(this, options.scaler);
    if (scaler && options.onNonfinite === 'propagate') {
      throw new GradclipError(
        'invalid-argument',
        "options.onNonfinite 'propagate' with a scaler: a scaled step with NaN/Inf writes nothing and sets found-inf; leave onNonfinite out",
      );
    }
    const scaled = scaler?.enabled ? scaler : null;
    scaled?.noteCheck(cpuSet, clips, call);
    const unscale = scaled ? scaled.inverse : 1;
    const norm = Math.fround(totalNormReference(cpuSet.arrays, p) * unscale);
    const nonfinite = !Number.isFinite(norm);
    if (scaled && nonfinite) scaled.noteNonfinite();
    if (!clips) return new CpuNormHandle(cpuSet, norm, Boolean(options.errorIfNonfinite) && nonfinite);
    const skip = onNonfinite === 'skip' || scaled !== null;
    const decision = clipDecision(norm, maxNorm, options.errorIfNonfinite, skip);
    // A scaled clip writes once: the unscale and the clip's coefficient together (nothing on NaN/Inf).
    const coef = scaled === null ? decision.coef : Math.fround((decision.scale ? decision.coef : 1) * unscale);
    const writes = scaled === null ? decision.scale : !nonfinite && coef !== 1;
    if (writes) scaleInPlace(cpuSet.arrays, coef);
    return new CpuNormHandle(cpuSet, norm, decision.nonfiniteError);
  }

  clipGradsWithNorm(
    set: GradSet,
    maxNorm: number,
    totalNorm: NormHandle | number,
    optionsIn?: EncoderOption | null,
  ): void {
    const options = readOptions(optionsIn, OPTION_KEYS.encoder, 'options');
    const cpuSet = this.setOf(set);
    checkMaxNorm(maxNorm);
    checkNoEncoder(options);
    let norm: number;
    if (typeof totalNorm === 'number') {
      norm = Math.fround(checkGivenNorm(totalNorm));
    } else if (totalNorm instanceof CpuNormHandle) {
      totalNorm.checkFresh();
      norm = totalNorm.norm;
    } else {
      throw new GradclipError('invalid-argument', 'totalNorm must be a number or a NormHandle from a CPU clipper');
    }
    cpuSet.claim();
    const decision = clipDecision(norm, maxNorm);
    if (decision.scale) scaleInPlace(cpuSet.arrays, decision.coef);
  }

  clipGradValue(set: GradSet, clip: number | { min: number; max: number }, optionsIn?: EncoderOption | null): void {
    const options = readOptions(optionsIn, OPTION_KEYS.encoder, 'options');
    const arrays = this.arraysOf(set);
    const { min, max } = checkClipRange(clip);
    checkNoEncoder(options);
    clampInPlace(arrays, min, max);
  }

  perTensorNorms(set: GradSet, optionsIn?: NormsOptions | null): NormsHandle {
    const options = readOptions(optionsIn, OPTION_KEYS.norms, 'options');
    const cpuSet = this.setOf(set);
    const { p } = checkNormType(options.normType);
    checkNoEncoder(options);
    const norms = viewNormsReference(cpuSet.arrays, p).map(Math.fround);
    return new CpuNormsHandle(cpuSet, norms, new CpuNormHandle(cpuSet, float32Norm(cpuSet.arrays, p), false));
  }

  clipByNorm(set: GradSet, maxNorm: number, optionsIn?: NormsOptions | null): NormsHandle {
    const options = readOptions(optionsIn, OPTION_KEYS.norms, 'options');
    const cpuSet = this.setOf(set);
    const { arrays } = cpuSet;
    checkMaxNorm(maxNorm);
    const { p } = checkNormType(options.normType);
    checkNoEncoder(options);
    const total = new CpuNormHandle(cpuSet, float32Norm(arrays, p), false);
    const norms = viewNormsReference(arrays, p).map(Math.fround);
    norms.forEach((norm, i) => {
      const decision = clipDecision(norm, maxNorm);
      if (decision.scale) scaleInPlace([arrays[i]], decision.coef);
    });
    return new CpuNormsHandle(cpuSet, norms, total);
  }

  clipPerExample(set: GradSet, options: PerExampleOptions): PerExampleResult {
    return cpuClipPerExample(this, set, options);
  }

  adaptiveGradClip(grads: GradSet, params: GradSet, optionsIn?: AdaptiveGradClipOptions | null): NormHandle {
    const options = readOptions(optionsIn, OPTION_KEYS.agc, 'options');
    const gradViews = this.viewsOf(grads);
    const paramViews = this.viewsOf(params);
    if (resolveSet(grads) === resolveSet(params))
      throw new GradclipError('invalid-argument', 'grads and params must be two different sets');
    const { clipping, eps } = checkAgcOptions(options.clipping, options.eps);
    checkNoEncoder(options);
    checkSameUnits(
      gradViews.map((v) => ({ length: v.array.length, shape: v.shape })),
      paramViews.map((v) => ({ length: v.array.length, shape: v.shape })),
    );
    const total = new CpuNormHandle(
      this.setOf(grads),
      float32Norm(
        gradViews.map((v) => v.array),
        2,
      ),
      false,
    );
    gradViews.forEach((g, i) => {
      const w = paramViews[i].array;
      for (const [start, end] of unitRanges(g.array.length, g.shape)) {
        const unit = g.array.subarray(start, end);
        const coef = agcCoefficient(
          totalNormReference([unit], 2),
          totalNormReference([w.subarray(start, end)], 2),
          clipping,
          eps,
        );
        if (coef !== 1) scaleInPlace([unit], coef);
      }
    });
    return total;
  }

  destroy(): void {
    this.destroyed = true;
  }

  checkAlive(): void {
    if (this.destroyed) throw new GradclipError('destroyed', 'this clipper was destroyed');
  }

  arraysOf(set: GradSet): GradArray[] {
    return this.setOf(set).arrays;
  }

  private viewsOf(value: GradSet): CpuView[] {
    return this.setOf(value).views;
  }

  /** Throws unless the clipper and `value` can be used; returns the set as this backend's type. */
  setOf(value: GradSet): CpuGradSet {
    this.checkAlive();
    const set = resolveSet(value);
    if (!(set instanceof CpuGradSet) || set.owner !== this) {
      throw new GradclipError('invalid-argument', "set must come from this clipper's gradients()");
    }
    if (set.destroyed) throw new GradclipError('destroyed', 'set was destroyed');
    return set;
  }
}
