// What the transformer demo runs, with no TF.js in it (the CLI imports it in Node): the runs, the
// model's settings, the two sizes chosen from the adapter, and what a run's outcome holds.
import type { StepRecord } from '../train/monitor';

export const GPT_MODES = ['none', 'norm', 'zclip'] as const;
export type GptMode = (typeof GPT_MODES)[number];

export const GPT_MODE_LABELS: Record<GptMode, string> = {
  none: 'AdamW, no clipping',
  norm: 'AdamW + global norm ≤ 1',
  zclip: 'AdamW + ZClip',
};

export interface GptSettings {
  /** The model's shape (the vocabulary is the corpus's). */
  width: number;
  heads: number;
  layers: number;
  context: number;
  batch: number;
  /** AdamW's learning rate (constant, no warm-up). */
  lr: number;
  beta2: number;
  weightDecay: number;
  /** The global-norm bound of the 'norm' run. */
  maxNorm: number;
  /** ZClip's z-score threshold. */
  zThreshold: number;
  /** Steps between readbacks of the monitors. */
  readEvery: number;
  /** Steps between text samples (0: only at the end). */
  sampleEvery: number;
  /** Characters per text sample. */
  sampleLength: number;
  /** Every this many steps the batch is corrupted (one character repeated); 0: never. */
  corruptEvery: number;
  /** Seed of the initial weights. */
  seed: number;
}

/** The demo's default: a ~0.8 M-parameter character-level GPT. */
export const DEFAULT_GPT_SETTINGS: GptSettings = {
  width: 128,
  heads: 4,
  layers: 4,
  context: 64,
  batch: 8,
  lr: 0.01,
  beta2: 0.999,
  weightDecay: 0.1,
  maxNorm: 1,
  zThreshold: 2.5,
  readEvery: 10,
  sampleEvery: 100,
  sampleLength: 48,
  corruptEvery: 50,
  seed: 1,
};

/**
 * The demo's two sizes. `gpu`: the ~0.8 M-parameter GPT, 200 steps (minutes on a GPU, over an hour
 * on a software adapter). `software`: a ~27 K-parameter GPT, 80 steps, every 20th batch corrupted,
 * which a CPU emulator (SwiftShader, lavapipe) trains in about three minutes, corrupted batches and all.
 */
export const GPT_SIZES = {
  gpu: { settings: DEFAULT_GPT_SETTINGS, steps: 200 },
  software: {
    settings: {
      ...DEFAULT_GPT_SETTINGS,
      width: 32,
      heads: 4,
      layers: 2,
      context: 16,
      lr: 0.02,
      corruptEvery: 20,
      sampleEvery: 40,
      sampleLength: 32,
    },
    steps: 80,
  },
} as const satisfies Record<string, { settings: GptSettings; steps: number }>;
export type GptSize = keyof typeof GPT_SIZES;

/** The size for an adapter: `software` for a fallback (CPU) adapter, else `gpu`. */
export function gptSizeFor(adapterInfo: { isFallbackAdapter?: boolean } | null | undefined): GptSize {
  return adapterInfo?.isFallbackAdapter ? 'software' : 'gpu';
}

/** A clipped run has trained when its loss over the last ten clean steps is below this fraction of the first ten's. */
export const TRAINED_FRACTION = 0.85;

export interface TextSample {
  step: number;
  text: string;
}

export interface GptOutcome {
  mode: GptMode;
  records: StepRecord[];
  samples: TextSample[];
  /** Mean loss of the first and of the last ten clean steps (NaN/Inf losses count as Infinity). */
  firstLoss: number;
  lastLoss: number;
  /**
   * The loss spike after a corrupted batch: the largest, over corrupted batches, of the mean loss
   * of the 5 clean steps after it minus that of the 5 clean steps before it (NaN if none).
   */
  largestSpike: number;
  /** First step whose loss was not finite (null if none). */
  nonfiniteAt: number | null;
  /** Steps whose gradients were clipped (norm above the run's threshold). */
  clippedSteps: number;
  mapAsyncCalls: number;
}

export interface GptProgress {
  mode: GptMode;
  records: StepRecord[];
  /** Tokens per second over all runs since the previous readback. */
  tokensPerSecond: number;
}
