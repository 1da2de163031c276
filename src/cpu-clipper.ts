import type { AdaptiveEngine, AdaptiveRule, StepOptions } from './adaptive';
import { GradclipError } from './errors';
import { clampInPlace, clipDecision, scaleInPlace, totalNormReference } from './reference';
import {
  AutoClipRule,
  ZClipRule,
  agcCoefficient,
  perExampleReference,
  unitRanges,
  viewNormsReference,
} from './reference-modes';
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
  checkClipRange,
  checkLearningRate,
  checkOptimizerSets,
  checkGivenNorm,
  checkMaxNorm,
  checkNormType,
  checkOnNonfinite,
  checkSameUnits,
} from './validate';
import type { OptimizerEngine } from './optimizer';
import { OptimizerReference, type OptimizerSettings } from './optimizer-reference';
import { resolveSet, viewsAsSet } from './set-alias';
import { RESULT_SLOTS } from './gpu-set-pool';
import { SEGMENT_NORM_BYTES } from './kernels';
import { OPTION_KEYS, readOptions } from './options';
import { checkNoHalfViews, isFloat16Array, resolveCpuViews, type CpuView, type GradArray } from './views';

class CpuGradSet implements GradSet {
  readonly viewCount: number;
  readonly elementCount: number;
  readonly dispatchGroups = 0;
  readonly arrays: GradArray[];
  /** clipPerExample's sums, allocated once per batch size (views that are also a set). */
  readonly perExampleSums = new Map<number, Float32Array[] & GradSet>();
  /** Norms claimed so far: a handle is stale once RESULT_SLOTS later norms were claimed, as on the GPU. */
  private generation = 0;
  /** Per-view calls so far: a per-view handle is stale after the next one, as on the GPU. */
  viewGeneration = 0;
  private ownDestroyed = false;

  constructor(
    readonly owner: CpuClipper,
    readonly views: CpuView[],
  ) {
    this.arrays = views.map((v) => v.array);
    this.viewCount = views.length;
    this.elementCount = this.arrays.reduce((n, a) => n + a.length, 0);
  }

  get destroyed(): boolean {
    return this.ownDestroyed || this.owner.destroyed;
  }

  destroy(): void {
    this.ownDestroyed = true;
  }

  /** Claims a result slot for a new norm (the GPU's ring, counted). */
  claim(): number {
    return this.generation++;
  }

  isFresh(generation: number): boolean {
    return this.generation - generation <= RESULT_SLOTS;
  }
}

class CpuNormHandle implements ThresholdHandle {
  readonly buffer = null;
  readonly offset = 0;
  readonly foundInf = null;
  readonly foundInfOffset = 0;
  readonly thresholdOffset = 0;
  /** The norm as the GPU holds it: float32. */
  readonly norm: number;
  private readonly generation: number;

  constructor(
    private readonly set: CpuGradSet,
    norm: number,
    private readonly nonfiniteError: boolean,
    private readonly sawNonfinite = !Number.isFinite(norm),
    private readonly threshold = NaN,
  ) {
    this.norm = Math.fround(norm);
    this.generation = set.claim();
  }

  /** Throws as the GPU's handle does once its set is gone or its slot was claimed again. */
  checkFresh(): void {
    if (this.set.destroyed) throw new GradclipError('destroyed', "this handle's set or clipper was destroyed");
    if (!this.set.isFresh(this.generation)) {
      throw new GradclipError('stale-handle', `this NormHandle's result was overwritten: read it within ${RESULT_SLOTS} later norms of its set`);
    }
  }

  readThreshold(): Promise<number> {
    return this.settle(() => Math.fround(this.threshold));
  }

  read(): Promise<number> {
    return this.settle(() => {
      if (this.nonfiniteError) {
        throw new GradclipError('nonfinite-norm', `the total norm is ${this.norm} (errorIfNonfinite is set); no gradient was changed`);
      }
      return this.norm;
    });
  }

  readFoundInf(): Promise<boolean> {
    return this.settle(() => this.sawNonfinite);
  }

  private settle<T>(value: () => T): Promise<T> {
    try {
      this.checkFresh();
      return Promise.resolve(value());
    } catch (error) {
      return Promise.reject(error);
    }
  }
}

class CpuNormsHandle implements NormsHandle {
  readonly buffer = null;
  readonly offset = 0;
  readonly stride = SEGMENT_NORM_BYTES;
  private readonly generation: number;

  constructor(
    private readonly set: CpuGradSet,
    private readonly norms: number[],
    readonly total: NormHandle,
  ) {
    this.generation = ++set.viewGeneration;
  }

  read(): Promise<Float32Array> {
    if (this.set.destroyed) return Promise.reject(new GradclipError('destroyed', "these norms' set or clipper was destroyed"));
    if (this.set.viewGeneration !== this.generation) {
      return Promise.reject(new GradclipError('stale-handle', 'these per-view norms were overwritten by a later per-view call on the set: read them before the next one'));
    }
    return Promise.resolve(Float32Array.from(this.norms));
  }
}

/** The CPU backend: the float64 reference applied in place to Float32Arrays (and Float16Arrays). */
export class CpuClipper implements Clipper {
  readonly backend = 'cpu' as const;
  readonly device = null;
  destroyed = false;

  /** `fallbackReason`: why WebGPU was not used when it was wanted (see createClipper). */
  constructor(readonly fallbackReason: string | null = null) {}

  gradients(views: GradView[]): GradSet {
    this.checkAlive();
    return new CpuGradSet(this, resolveCpuViews(views));
  }

  clipGradNorm(set: GradSet, maxNorm: number, optionsIn?: NormOptions | null): NormHandle {
    const options = readOptions(optionsIn, OPTION_KEYS.norm, 'options');
    const cpuSet = this.setOf(set);
    checkMaxNorm(maxNorm);
    const { p } = checkNormType(options.normType);
    const onNonfinite = checkOnNonfinite(options.onNonfinite);
    checkNoEncoder(options);
    const norm = float32Norm(cpuSet.arrays, p);
    const decision = clipDecision(norm, maxNorm, options.errorIfNonfinite, onNonfinite === 'skip');
    if (decision.scale) scaleInPlace(cpuSet.arrays, decision.coef);
    return new CpuNormHandle(cpuSet, norm, decision.nonfiniteError);
  }

  getTotalNorm(set: GradSet, optionsIn?: NormOptions | null): NormHandle {
    const options = readOptions(optionsIn, OPTION_KEYS.norm, 'options');
    const cpuSet = this.setOf(set);
    const { p } = checkNormType(options.normType);
    checkOnNonfinite(options.onNonfinite);
    checkNoEncoder(options);
    const norm = float32Norm(cpuSet.arrays, p);
    return new CpuNormHandle(cpuSet, norm, Boolean(options.errorIfNonfinite) && !Number.isFinite(norm));
  }

  clipGradsWithNorm(set: GradSet, maxNorm: number, totalNorm: NormHandle | number, optionsIn?: EncoderOption | null): void {
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

  clipPerExample(set: GradSet, optionsIn: PerExampleOptions): PerExampleResult {
    const options = readOptions(optionsIn, OPTION_KEYS.perExample, 'options');
    const cpuSet = this.setOf(set);
    const { arrays } = cpuSet;
    checkNoHalfViews(arrays.map(isFloat16Array), 'clipPerExample');
    const { batchSize, maxNorm } = options;
    const b = checkBatchSize(batchSize, arrays.map((a) => a.length));
    checkMaxNorm(maxNorm);
    checkNoEncoder(options);
    if (options.out !== undefined) {
      throw new GradclipError('invalid-argument', 'options.out applies to the WebGPU backend only; the CPU backend allocates its sums once per set');
    }
    let sums = cpuSet.perExampleSums.get(b);
    if (!sums) {
      const arraysOfSums = arrays.map((a) => new Float32Array(a.length / b));
      sums = viewsAsSet(arraysOfSums, this.gradients(arraysOfSums));
      cpuSet.perExampleSums.set(b, sums);
    }
    const reference = perExampleReference(arrays, b, maxNorm);
    reference.sums.forEach((sum, v) => sums[v].set(sum));
    const anyNonfinite = reference.norms.some((n) => !Number.isFinite(n));
    return { sum: sums, numClipped: new CpuNormHandle(cpuSet, reference.numClipped, false, anyNonfinite) };
  }

  adaptiveGradClip(grads: GradSet, params: GradSet, optionsIn?: AdaptiveGradClipOptions | null): NormHandle {
    const options = readOptions(optionsIn, OPTION_KEYS.agc, 'options');
    const gradViews = this.viewsOf(grads);
    const paramViews = this.viewsOf(params);
    if (resolveSet(grads) === resolveSet(params)) throw new GradclipError('invalid-argument', 'grads and params must be two different sets');
    const { clipping, eps } = checkAgcOptions(options.clipping, options.eps);
    checkNoEncoder(options);
    checkSameUnits(
      gradViews.map((v) => ({ length: v.array.length, shape: v.shape })),
      paramViews.map((v) => ({ length: v.array.length, shape: v.shape })),
    );
    const total = new CpuNormHandle(this.setOf(grads), float32Norm(gradViews.map((v) => v.array), 2), false);
    gradViews.forEach((g, i) => {
      const w = paramViews[i].array;
      for (const [start, end] of unitRanges(g.array.length, g.shape)) {
        const unit = g.array.subarray(start, end);
        const coef = agcCoefficient(totalNormReference([unit], 2), totalNormReference([w.subarray(start, end)], 2), clipping, eps);
        if (coef !== 1) scaleInPlace([unit], coef);
      }
    });
    return total;
  }

  /** The CPU side of createAutoClip / createZClip: the rule and the clip on float64 norms. */
  createAdaptiveEngine(set: GradSet, rule: AdaptiveRule): AdaptiveEngine {
    const cpuSet = this.setOf(set);
    const { arrays } = cpuSet;
    const state = rule.kind === 'autoclip' ? new AutoClipRule(rule.config.percentile, rule.config.history) : new ZClipRule(rule.config);
    return {
      step: (stepOptions?: StepOptions | null) => {
        const options = readOptions(stepOptions, OPTION_KEYS.step, 'options');
        this.arraysOf(set);
        const skip = checkOnNonfinite(options.onNonfinite) === 'skip';
        checkNoEncoder(options);
        const norm = float32Norm(arrays, 2);
        const threshold = state.observe(norm);
        const decision = clipDecision(norm, threshold, false, skip);
        if (decision.scale) scaleInPlace(arrays, decision.coef);
        return new CpuNormHandle(cpuSet, norm, false, !Number.isFinite(norm), threshold);
      },
      readState: () =>
        Promise.resolve({
          threshold: state.threshold,
          mean: state instanceof ZClipRule ? state.mean : NaN,
          std: state instanceof ZClipRule ? state.std : NaN,
        }),
      destroy: () => {},
    };
  }

  /** The CPU side of createOptimizer: the float64 reference, parameters rounded to float32 each step. */
  createOptimizerEngine(params: GradSet, grads: GradSet, settings: OptimizerSettings): OptimizerEngine {
    for (const set of [grads, params]) checkNoHalfViews(this.arraysOf(set).map(isFloat16Array), 'createOptimizer');
    // Float32Arrays only, as just checked.
    const gradArrays = this.arraysOf(grads) as Float32Array[];
    const paramArrays = this.arraysOf(params) as Float32Array[];
    checkOptimizerSets(
      gradArrays.map((a) => ({ length: a.length })),
      paramArrays.map((a) => ({ length: a.length })),
      resolveSet(grads) === resolveSet(params),
    );
    const reference = new OptimizerReference(settings, gradArrays.map((a) => a.length));
    let destroyed = false;
    const alive = () => {
      this.arraysOf(grads);
      this.arraysOf(params);
      if (destroyed) throw new GradclipError('destroyed', 'this optimizer was destroyed');
    };
    return {
      step: (stepOptions) => {
        const options = readOptions(stepOptions, OPTION_KEYS.optimizerStep, 'options');
        alive();
        checkNoEncoder(options);
        const lr = options.lr === undefined ? settings.lr : checkLearningRate(options.lr);
        const { norm } = reference.apply(paramArrays, gradArrays, lr);
        return new CpuNormHandle(this.setOf(grads), norm, false);
      },
      state: async () => {
        alive();
        return { step: reference.step, first: reference.first.map((a) => Float32Array.from(a)), second: reference.second.map((a) => Float32Array.from(a)) };
      },
      destroy: () => {
        destroyed = true;
      },
    };
  }

  destroy(): void {
    this.destroyed = true;
  }

  private checkAlive(): void {
    if (this.destroyed) throw new GradclipError('destroyed', 'this clipper was destroyed');
  }

  private arraysOf(set: GradSet): GradArray[] {
    return this.setOf(set).arrays;
  }

  private viewsOf(value: GradSet): CpuView[] {
    return this.setOf(value).views;
  }

  /** Throws unless the clipper and `value` can be used; returns the set as this backend's type. */
  private setOf(value: GradSet): CpuGradSet {
    this.checkAlive();
    const set = resolveSet(value);
    if (!(set instanceof CpuGradSet) || set.owner !== this) {
      throw new GradclipError('invalid-argument', "set must come from this clipper's gradients()");
    }
    if (set.destroyed) throw new GradclipError('destroyed', 'set was destroyed');
    return set;
  }
}

/** The norm as the GPU computes and keeps it: the float64 norm rounded to float32 (+Inf past its range). */
function float32Norm(arrays: readonly GradArray[], p: number): number {
  return Math.fround(totalNormReference(arrays, p));
}

function checkNoEncoder(options: EncoderOption | undefined): void {
  if (!options) return;
  for (const name of ['encoder', 'timestampWrites'] as const) {
    if (options[name] !== undefined) {
      throw new GradclipError('invalid-argument', `options.${name} applies to the WebGPU backend only; this clipper runs on the CPU`);
    }
  }
}
