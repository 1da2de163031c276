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
import { checkNoHalfViews, isFloat16Array, resolveCpuViews, type CpuView, type GradArray } from './views';

class CpuGradSet implements GradSet {
  readonly viewCount: number;
  readonly elementCount: number;
  readonly dispatchGroups = 0;
  readonly arrays: GradArray[];
  /** clipPerExample's sums, allocated once per batch size (views that are also a set). */
  readonly perExampleSums = new Map<number, Float32Array[] & GradSet>();

  constructor(
    readonly owner: CpuClipper,
    readonly views: CpuView[],
  ) {
    this.arrays = views.map((v) => v.array);
    this.viewCount = views.length;
    this.elementCount = this.arrays.reduce((n, a) => n + a.length, 0);
  }

  get destroyed(): boolean {
    return this.owner.destroyed;
  }
}

class CpuNormHandle implements ThresholdHandle {
  readonly buffer = null;
  readonly offset = 0;
  readonly foundInf = null;
  readonly foundInfOffset = 0;
  readonly thresholdOffset = 0;

  constructor(
    readonly norm: number,
    private readonly nonfiniteError: boolean,
    private readonly sawNonfinite = !Number.isFinite(norm),
    private readonly threshold = NaN,
  ) {}

  readThreshold(): Promise<number> {
    return Promise.resolve(this.threshold);
  }

  read(): Promise<number> {
    if (this.nonfiniteError) {
      return Promise.reject(
        new GradclipError('nonfinite-norm', `the total norm is ${this.norm} (errorIfNonfinite is set); no gradient was changed`),
      );
    }
    return Promise.resolve(this.norm);
  }

  readFoundInf(): Promise<boolean> {
    return Promise.resolve(this.sawNonfinite);
  }
}

class CpuNormsHandle implements NormsHandle {
  readonly buffer = null;
  readonly offset = 0;
  readonly stride = 0;

  constructor(
    private readonly norms: number[],
    readonly total: NormHandle,
  ) {}

  read(): Promise<Float32Array> {
    return Promise.resolve(Float32Array.from(this.norms));
  }
}

/** The CPU backend: the float64 reference applied in place to Float32Arrays (and Float16Arrays). */
export class CpuClipper implements Clipper {
  readonly backend = 'cpu' as const;
  readonly device = null;
  destroyed = false;

  gradients(views: GradView[]): GradSet {
    this.checkAlive();
    return new CpuGradSet(this, resolveCpuViews(views));
  }

  clipGradNorm(set: GradSet, maxNorm: number, options: NormOptions = {}): NormHandle {
    const arrays = this.arraysOf(set);
    checkMaxNorm(maxNorm);
    const { p } = checkNormType(options.normType);
    const onNonfinite = checkOnNonfinite(options.onNonfinite);
    checkNoEncoder(options);
    const norm = totalNormReference(arrays, p);
    const decision = clipDecision(norm, maxNorm, options.errorIfNonfinite, onNonfinite === 'skip');
    if (decision.scale) scaleInPlace(arrays, decision.coef);
    return new CpuNormHandle(norm, decision.nonfiniteError);
  }

  getTotalNorm(set: GradSet, options: NormOptions = {}): NormHandle {
    const arrays = this.arraysOf(set);
    const { p } = checkNormType(options.normType);
    checkNoEncoder(options);
    const norm = totalNormReference(arrays, p);
    return new CpuNormHandle(norm, Boolean(options.errorIfNonfinite) && !Number.isFinite(norm));
  }

  clipGradsWithNorm(set: GradSet, maxNorm: number, totalNorm: NormHandle | number, options: EncoderOption = {}): void {
    const arrays = this.arraysOf(set);
    checkMaxNorm(maxNorm);
    checkNoEncoder(options);
    let norm: number;
    if (typeof totalNorm === 'number') {
      norm = checkGivenNorm(totalNorm);
    } else if (totalNorm instanceof CpuNormHandle) {
      norm = totalNorm.norm;
    } else {
      throw new GradclipError('invalid-argument', 'totalNorm must be a number or a NormHandle from a CPU clipper');
    }
    const decision = clipDecision(norm, maxNorm);
    if (decision.scale) scaleInPlace(arrays, decision.coef);
  }

  clipGradValue(set: GradSet, clip: number | { min: number; max: number }, options: EncoderOption = {}): void {
    const arrays = this.arraysOf(set);
    const { min, max } = checkClipRange(clip);
    checkNoEncoder(options);
    clampInPlace(arrays, min, max);
  }

  perTensorNorms(set: GradSet, options: NormsOptions = {}): NormsHandle {
    const arrays = this.arraysOf(set);
    const { p } = checkNormType(options.normType);
    checkNoEncoder(options);
    return new CpuNormsHandle(viewNormsReference(arrays, p), new CpuNormHandle(totalNormReference(arrays, p), false));
  }

  clipByNorm(set: GradSet, maxNorm: number, options: NormsOptions = {}): NormsHandle {
    const arrays = this.arraysOf(set);
    checkMaxNorm(maxNorm);
    const { p } = checkNormType(options.normType);
    checkNoEncoder(options);
    const total = new CpuNormHandle(totalNormReference(arrays, p), false);
    const norms = viewNormsReference(arrays, p);
    norms.forEach((norm, i) => {
      const decision = clipDecision(norm, maxNorm);
      if (decision.scale) scaleInPlace([arrays[i]], decision.coef);
    });
    return new CpuNormsHandle(norms, total);
  }

  clipPerExample(set: GradSet, options: PerExampleOptions): PerExampleResult {
    const arrays = this.arraysOf(set);
    checkNoHalfViews(arrays.map(isFloat16Array), 'clipPerExample');
    const { batchSize, maxNorm } = options ?? ({} as PerExampleOptions);
    const b = checkBatchSize(batchSize, arrays.map((a) => a.length));
    checkMaxNorm(maxNorm);
    checkNoEncoder(options);
    if (options.out !== undefined) {
      throw new GradclipError('invalid-argument', 'options.out applies to the WebGPU backend only; the CPU backend allocates its sums once per set');
    }
    const cpuSet = resolveSet(set) as CpuGradSet;
    let sums = cpuSet.perExampleSums.get(b);
    if (!sums) {
      const arraysOfSums = arrays.map((a) => new Float32Array(a.length / b));
      sums = viewsAsSet(arraysOfSums, this.gradients(arraysOfSums));
      cpuSet.perExampleSums.set(b, sums);
    }
    const reference = perExampleReference(arrays, b, maxNorm);
    reference.sums.forEach((sum, v) => sums[v].set(sum));
    const anyNonfinite = reference.norms.some((n) => !Number.isFinite(n));
    return { sum: sums, numClipped: new CpuNormHandle(reference.numClipped, false, anyNonfinite) };
  }

  adaptiveGradClip(grads: GradSet, params: GradSet, options: AdaptiveGradClipOptions = {}): NormHandle {
    const gradViews = this.viewsOf(grads);
    const paramViews = this.viewsOf(params);
    if (resolveSet(grads) === resolveSet(params)) throw new GradclipError('invalid-argument', 'grads and params must be two different sets');
    const { clipping, eps } = checkAgcOptions(options.clipping, options.eps);
    checkNoEncoder(options);
    checkSameUnits(
      gradViews.map((v) => ({ length: v.array.length, shape: v.shape })),
      paramViews.map((v) => ({ length: v.array.length, shape: v.shape })),
    );
    const total = new CpuNormHandle(totalNormReference(gradViews.map((v) => v.array), 2), false);
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
    const arrays = this.arraysOf(set);
    const state = rule.kind === 'autoclip' ? new AutoClipRule(rule.config.percentile, rule.config.history) : new ZClipRule(rule.config);
    return {
      step: (options: StepOptions = {}) => {
        this.arraysOf(set);
        const skip = checkOnNonfinite(options.onNonfinite) === 'skip';
        checkNoEncoder(options);
        const norm = totalNormReference(arrays, 2);
        const threshold = state.observe(norm);
        const decision = clipDecision(norm, threshold, false, skip);
        if (decision.scale) scaleInPlace(arrays, decision.coef);
        return new CpuNormHandle(norm, false, !Number.isFinite(norm), threshold);
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
      step: (options = {}) => {
        alive();
        checkNoEncoder(options);
        const lr = options.lr === undefined ? settings.lr : checkLearningRate(options.lr);
        const { norm } = reference.apply(paramArrays, gradArrays, lr);
        return new CpuNormHandle(norm, false);
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
    return this.viewsOf(set).map((v) => v.array);
  }

  private viewsOf(value: GradSet): CpuView[] {
    this.checkAlive();
    const set = resolveSet(value);
    if (!(set instanceof CpuGradSet) || set.owner !== this) {
      throw new GradclipError('invalid-argument', 'set must come from this clipper\'s gradients()');
    }
    return set.views;
  }
}

function checkNoEncoder(options: EncoderOption | undefined): void {
  if (!options) return;
  for (const name of ['encoder', 'timestampWrites'] as const) {
    if (options[name] !== undefined) {
      throw new GradclipError('invalid-argument', `options.${name} applies to the WebGPU backend only; this clipper runs on the CPU`);
    }
  }
}
