// Adaptive clipping thresholds that follow the run: AutoClip (a percentile of the norm history)
// and ZClip (EMA statistics of the norm). On the WebGPU backend the history, the statistics and
// the decision live in GPU buffers, so a step records work and reads nothing back.
import { backendOf, type AdaptiveEngine } from './backend';
import type { Clipper, GradSet, ThresholdHandle } from './types';
import { checkAutoClipOptions, checkZClipOptions, type AutoClipConfig, type ZClipConfig } from '../plan/validate';

export interface StepOptions {
  /** Record into this encoder instead of submitting; the caller submits. */
  encoder?: GPUCommandEncoder;
  /** As clipGradNorm's: 'propagate' (default) or 'skip' (a non-finite norm leaves the gradients unchanged). */
  onNonfinite?: 'propagate' | 'skip';
  /** Timestamps around the one compute pass the call records (profiling; needs `timestamp-query`). */
  timestampWrites?: GPUComputePassTimestampWrites;
}

export interface AutoClipOptions {
  /** Clip at this percentile (0–100, numpy's linear interpolation) of the norms seen. Default 10. */
  percentile?: number;
  /** How many of the latest finite norms the percentile ranks (at most 4096). Default 1000. */
  history?: number;
}

export interface ZClipOptions {
  /** EMA smoothing of the norm's mean and variance, in (0, 1). Default 0.97. */
  alpha?: number;
  /** The z-score above which a norm is clipped. Default 2.5. */
  zThreshold?: number;
  /** Finite norms collected (no clipping) before the statistics start (1–4096). Default 25. */
  warmupSteps?: number;
  /**
   * 'zscore' (default): clip to mean + zThreshold · std; 'adaptive': the paper's adaptive scaling,
   * mean + zThreshold² · std / z, which clips larger spikes harder.
   */
  mode?: 'zscore' | 'adaptive';
}

/** AutoClip (Seetharaman et al. 2020) on one set. */
export interface AutoClip {
  /** Records this step's L2 norm into the history and clips at the percentile (this norm included). */
  step(options?: StepOptions | null): ThresholdHandle;
  /** Reads back the threshold of the latest step (+Infinity before any finite norm). */
  threshold(): Promise<number>;
  /** Releases the GPU state. */
  destroy(): void;
}

/** ZClip (Kumar et al. 2025) on one set. */
export interface ZClip {
  /** Clips this step's L2 norm when its z-score exceeds the threshold, then updates the statistics. */
  step(options?: StepOptions | null): ThresholdHandle;
  /** Reads back the statistics after the latest step (during warm-up, those of the norms so far; NaN before any). */
  stats(): Promise<{ mean: number; std: number }>;
  /** Reads back the threshold of the latest step (+Infinity when it did not clip). */
  threshold(): Promise<number>;
  destroy(): void;
}

export type AdaptiveRule = { kind: 'autoclip'; config: AutoClipConfig } | { kind: 'zclip'; config: ZClipConfig };

function engineFor(clipper: Clipper, set: GradSet, rule: AdaptiveRule): AdaptiveEngine {
  return backendOf(clipper).engines.adaptive(set, rule);
}

/**
 * AutoClip: each step clips at the given percentile of the norm history, all on the GPU.
 *
 * @example
 * const autoClip = createAutoClip(clipper, grads, { percentile: 10, history: 1000 });
 * const norm = autoClip.step({ encoder }); // record the norm, clip at the 10th percentile
 */
export function createAutoClip(clipper: Clipper, set: GradSet, options?: AutoClipOptions | null): AutoClip {
  const engine = engineFor(clipper, set, { kind: 'autoclip', config: checkAutoClipOptions(options) });
  return {
    step: (stepOptions) => engine.step(stepOptions),
    threshold: async () => (await engine.readState()).threshold,
    destroy: () => engine.destroy(),
  };
}

/**
 * ZClip: z-score spike clipping against EMA statistics of the norm, all on the GPU.
 *
 * @example
 * const zclip = createZClip(clipper, grads, { zThreshold: 2.5, warmupSteps: 25 });
 * zclip.step({ encoder }); // clips a spike; after the run: await zclip.stats()
 */
export function createZClip(clipper: Clipper, set: GradSet, options?: ZClipOptions | null): ZClip {
  const engine = engineFor(clipper, set, { kind: 'zclip', config: checkZClipOptions(options) });
  return {
    step: (stepOptions) => engine.step(stepOptions),
    stats: async () => {
      const { mean, std } = await engine.readState();
      return { mean, std };
    },
    threshold: async () => (await engine.readState()).threshold,
    destroy: () => engine.destroy(),
  };
}
