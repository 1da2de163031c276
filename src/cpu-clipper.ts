import { GradclipError } from './errors';
import { clampInPlace, clipDecision, scaleInPlace, totalNormReference } from './reference';
import type { Clipper, EncoderOption, GradSet, GradView, NormHandle, NormOptions } from './types';
import { checkClipRange, checkGivenNorm, checkMaxNorm, checkNormType, checkOnNonfinite } from './validate';
import { resolveCpuViews } from './views';

class CpuGradSet implements GradSet {
  readonly viewCount: number;
  readonly elementCount: number;
  readonly dispatchGroups = 0;

  constructor(
    readonly owner: CpuClipper,
    readonly arrays: Float32Array[],
  ) {
    this.viewCount = arrays.length;
    this.elementCount = arrays.reduce((n, a) => n + a.length, 0);
  }

  get destroyed(): boolean {
    return this.owner.destroyed;
  }
}

class CpuNormHandle implements NormHandle {
  readonly buffer = null;
  readonly offset = 0;
  readonly foundInf = null;
  readonly foundInfOffset = 0;

  constructor(
    readonly norm: number,
    private readonly nonfiniteError: boolean,
  ) {}

  read(): Promise<number> {
    if (this.nonfiniteError) {
      return Promise.reject(
        new GradclipError('nonfinite-norm', `the total norm is ${this.norm} (errorIfNonfinite is set); no gradient was changed`),
      );
    }
    return Promise.resolve(this.norm);
  }

  readFoundInf(): Promise<boolean> {
    return Promise.resolve(!Number.isFinite(this.norm));
  }
}

/** The CPU backend: the float64 reference applied in place to Float32Arrays. */
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

  destroy(): void {
    this.destroyed = true;
  }

  private checkAlive(): void {
    if (this.destroyed) throw new GradclipError('destroyed', 'this clipper was destroyed');
  }

  private arraysOf(set: GradSet): Float32Array[] {
    this.checkAlive();
    if (!(set instanceof CpuGradSet) || set.owner !== this) {
      throw new GradclipError('invalid-argument', 'set must come from this clipper\'s gradients()');
    }
    return set.arrays;
  }
}

function checkNoEncoder(options: EncoderOption): void {
  for (const name of ['encoder', 'timestampWrites'] as const) {
    if (options[name] !== undefined) {
      throw new GradclipError('invalid-argument', `options.${name} applies to the WebGPU backend only; this clipper runs on the CPU`);
    }
  }
}
