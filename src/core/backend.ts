// The internal side of a clipper that the public factories (createAutoClip, createZClip,
// createOptimizer) build on: each backend (CPU, WebGPU, and the switching clipper) provides these
// engines. Declared here, beside the public types, so that the factories reach them through a type
// guard rather than a cast.
import type { AdaptiveRule } from './adaptive-types';
import type { GradScaler, GradScalerConfig } from './amp-types';
import type { Optimizer } from './optimizer-types';
import type { OptimizerSettings } from './optimizer-types';
import { GradclipError } from './errors';
import type { Clipper, GradSet, ThresholdHandle } from './types';
import type { StepOptions } from './adaptive-types';

/** What each backend provides for an adaptive rule (AutoClip, ZClip). */
export interface AdaptiveEngine {
  step(options?: StepOptions | null): ThresholdHandle;
  readState(): Promise<{ threshold: number; mean: number; std: number }>;
  destroy(): void;
}

/** What each backend provides for the fused optimizer: the optimizer itself. */
export type OptimizerEngine = Optimizer;

/** The engines behind the factories; every clipper createClipper returns has them. */
export interface ClipperEngines {
  adaptive(set: GradSet, rule: AdaptiveRule): AdaptiveEngine;
  optimizer(params: GradSet, grads: GradSet, settings: OptimizerSettings, scaler: GradScaler | null): OptimizerEngine;
  /**
   * The sums clipPerExample writes for `set` at `batchSize` when given no `out` (checked and
   * allocated now, nothing recorded): a private optimizer's gradients.
   */
  perExampleSums(set: GradSet, batchSize: number): GradSet;
  /** A GradScaler of this clipper (its calls take it as `scaler`). */
  scaler(config: GradScalerConfig): GradScaler;
}

/** A clipper as the backends implement it: the public Clipper plus its engines. */
export interface ClipperBackend extends Clipper {
  readonly engines: ClipperEngines;
}

/** `clipper` as a backend, or a GradclipError naming the argument when it did not come from createClipper. */
export function backendOf(clipper: Clipper): ClipperBackend {
  if (!isBackend(clipper)) throw new GradclipError('invalid-argument', 'clipper must come from createClipper()');
  return clipper;
}

function isBackend(clipper: Clipper | null | undefined): clipper is ClipperBackend {
  const engines = (clipper as { engines?: Partial<ClipperEngines> } | null | undefined)?.engines;
  return (
    typeof engines?.adaptive === 'function' &&
    typeof engines.optimizer === 'function' &&
    typeof engines.perExampleSums === 'function' &&
    typeof engines.scaler === 'function'
  );
}
