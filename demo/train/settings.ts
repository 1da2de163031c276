// What the training demo runs, with no TF.js or gradclip in it (the CLI imports it in Node): the
// runs, their settings and what a run's outcome holds.
import type { StepRecord } from './monitor';

export const CLIP_MODES = ['none', 'norm', 'value', 'autoclip'] as const;
export type ClipMode = (typeof CLIP_MODES)[number];

export const MODE_LABELS: Record<ClipMode, string> = {
  none: 'no clipping',
  norm: 'clip by global norm',
  value: 'clip by value',
  autoclip: 'AutoClip (adaptive)',
};

export interface TrainSettings {
  lr: number;
  momentum: number;
  /** The global-norm bound of the 'norm' run. */
  maxNorm: number;
  /** The elementwise bound of the 'value' run. */
  clipValue: number;
  /** AutoClip's percentile of the norm history. */
  percentile: number;
  /** Steps between readbacks of the monitors. */
  readEvery: number;
}

export const DEFAULT_SETTINGS: TrainSettings = {
  lr: 0.2,
  momentum: 0.9,
  maxNorm: 1,
  clipValue: 0.02,
  percentile: 10,
  readEvery: 10,
};

/** A run counts as diverged once its loss is not finite or its gradient norm passes this. */
export const DIVERGED_NORM = 1e6;

export interface RunOutcome {
  mode: ClipMode;
  records: StepRecord[];
  diverged: boolean;
  /** Step at which it diverged (null if it did not). */
  divergedAt: number | null;
  /** Mean loss of the first and of the last five steps with a finite loss. */
  firstLoss: number;
  lastLoss: number;
  /** Steps whose gradients held NaN or ±Inf (skipped by the optimizer). */
  nonfiniteSteps: number;
  mapAsyncCalls: number;
}
