// The public types of the adaptive clipping rules (AutoClip, ZClip) and the checked rule a
// backend's engine receives; the factories are in api/adaptive.ts.
import type { ThresholdHandle } from './types';

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

/** AutoClip's checked settings. */
export interface AutoClipConfig {
  percentile: number;
  history: number;
}

/** ZClip's checked settings. */
export interface ZClipConfig {
  alpha: number;
  zThreshold: number;
  warmupSteps: number;
  mode: 'zscore' | 'adaptive';
}

/** A rule with its checked settings, as the factories hand it to a backend's engine. */
export type AdaptiveRule = { kind: 'autoclip'; config: AutoClipConfig } | { kind: 'zclip'; config: ZClipConfig };
