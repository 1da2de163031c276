// What the AMP demo runs, with no GPU code in it (the CLI imports it in Node): the three runs, the
// settings, and what a run's outcome holds.

export const AMP_RUNS = ['f32', 'f16', 'f16-scaler'] as const;
export type AmpRun = (typeof AMP_RUNS)[number];

export const AMP_RUN_LABELS: Record<AmpRun, string> = {
  f32: 'f32 gradients',
  f16: 'f16 gradients, no loss scaling',
  'f16-scaler': 'f16 gradients + GradScaler',
};

export interface AmpSettings {
  /** Examples per step. */
  batch: number;
  /** Examples in the data set (batches cycle through it). */
  examples: number;
  /** The loss's weight: its gradients land near 1e-8, where f16 flushes to zero. */
  lossWeight: number;
  /** Adam's learning rate. */
  lr: number;
  /** The GradScaler's first scale and growth interval (PyTorch's growth and backoff factors). */
  initScale: number;
  growthInterval: number;
  /** Steps between readbacks of the history. */
  readEvery: number;
  seed: number;
}

export const DEFAULT_AMP_SETTINGS: AmpSettings = {
  batch: 64,
  examples: 1024,
  lossWeight: 1e-7,
  lr: 0.01,
  initScale: 2 ** 32,
  growthInterval: 10,
  readEvery: 25,
  seed: 1,
};

export const DEFAULT_AMP_STEPS = 300;

/** One step of a run, as read back. */
export interface AmpRecord {
  step: number;
  /** Mean squared error / 2 over the batch (the unweighted loss). */
  loss: number;
  /** Fraction of the gradient values that were non-zero in f32 and flushed to zero when stored. */
  flushed: number;
  /** The loss scale the step's gradients were multiplied by (1 without a scaler). */
  scale: number;
}

export interface AmpOutcome {
  run: AmpRun;
  records: AmpRecord[];
  /** Mean loss of the first and of the last ten steps. */
  firstLoss: number;
  lastLoss: number;
  /** Steps whose scale fell below the previous step's (the GradScaler backed off). */
  backoffs: number;
  /** Mean fraction flushed to zero over the run. */
  meanFlushed: number;
  /** Steps the optimizer took (skipped ones not counted). */
  stepsTaken: number;
}

/** The f16 run with the scaler ends within this factor of the f32 run's loss (the outcome test's bar). */
export const TRACKS_F32 = 1.25;
/** The f16 run without scaling ends above this factor of the f32 run's loss. */
export const STALLS = 3;

export function summarizeAmp(run: AmpRun, records: readonly AmpRecord[], stepsTaken: number): AmpOutcome {
  const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / Math.max(values.length, 1);
  const losses = records.map((r) => r.loss);
  return {
    run,
    records: [...records],
    firstLoss: mean(losses.slice(0, 10)),
    lastLoss: mean(losses.slice(-10)),
    backoffs: records.filter((r, i) => i > 0 && r.scale < records[i - 1].scale).length,
    meanFlushed: mean(records.map((r) => r.flushed)),
    stepsTaken,
  };
}

/** Whether the outcome shows what the demo is for. */
export function ampShows(outcomes: readonly AmpOutcome[]): boolean {
  const by = Object.fromEntries(outcomes.map((o) => [o.run, o])) as Record<AmpRun, AmpOutcome | undefined>;
  if (!by.f32 || !by.f16 || !by['f16-scaler']) return false;
  return by['f16-scaler'].lastLoss <= TRACKS_F32 * by.f32.lastLoss && by.f16.lastLoss > STALLS * by.f32.lastLoss;
}
