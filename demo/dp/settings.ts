// What the DP-SGD demo runs, with no GPU code in it (the CLI imports it in Node): the four runs, the
// model and data settings, the noise multipliers each privacy target needs, what a run's outcome
// holds, and whether the outcomes show what the demo is for.
import { getNoiseMultiplier } from 'gradclip';

export const DP_RUNS = ['none', 'eps1', 'eps3', 'eps8'] as const;
export type DpRun = (typeof DP_RUNS)[number];

export const DP_RUN_LABELS: Record<DpRun, string> = {
  none: 'no privacy (σ = 0, nothing clipped)',
  eps1: 'DP-SGD, ε = 1',
  eps3: 'DP-SGD, ε = 3',
  eps8: 'DP-SGD, ε = 8',
};

/** The ε each run spends by its last step (null: no noise, no privacy guarantee). */
export const DP_TARGETS: Record<DpRun, number | null> = { none: null, eps1: 1, eps3: 3, eps8: 8 };

/** The classifier: inputs → hidden (tanh) → classes (softmax). Emitted into the WGSL as constants. */
export const DP_MODEL = { inputs: 16, hidden: 32, classes: 4 } as const;

/** The non-private run's clip bound: orders of magnitude above any example's gradient norm (the run checks). */
export const UNCLIPPED_MAX_NORM = 1e6;

export interface DpSettings {
  /** Training and held-out test examples (classes balanced). */
  trainExamples: number;
  testExamples: number;
  /** Gaussian blobs per class, their means drawn with this standard deviation per coordinate (noise has 1). */
  blobsPerClass: number;
  separation: number;
  /** Poisson sampling's expected batch (sample rate q = expectedBatch / trainExamples), the noised sum's divisor. */
  expectedBatch: number;
  /** Rows of the per-example gradients: a batch above it is truncated (see demo/dp/data.ts). */
  capacity: number;
  /** SGD's learning rate. */
  lr: number;
  /** The private runs' clip bound C: each example's gradient scaled to norm at most C. */
  maxNorm: number;
  /** δ of the (ε, δ) guarantee. */
  delta: number;
  /** Steps between test-set evaluations (and ε records). */
  evalEvery: number;
  /** Steps between readbacks of the evaluations. */
  readEvery: number;
  seed: number;
}

export const DEFAULT_DP_SETTINGS: DpSettings = {
  trainExamples: 2048,
  testExamples: 2048,
  blobsPerClass: 3,
  separation: 1,
  expectedBatch: 64,
  capacity: 128,
  lr: 0.5,
  maxNorm: 1,
  delta: 1e-5,
  evalEvery: 10,
  readEvery: 50,
  seed: 1,
};

export const DEFAULT_DP_STEPS = 300;

/** getNoiseMultiplier's tolerance: a run's ε ends in [target − this, target]. */
export const EPSILON_TOLERANCE = 0.01;
/** Every private run ends with at least this test accuracy (chance is 1 / 4). */
export const LEARNS = 0.7;

export function sampleRate(settings: DpSettings): number {
  return settings.expectedBatch / settings.trainExamples;
}

/** σ of each run: 0 without privacy, else the smallest whose ε after `steps` steps meets the target (Opacus's rule). */
export function noiseMultipliers(settings: DpSettings, steps: number): Record<DpRun, number> {
  const sigma = (run: DpRun) => {
    const targetEpsilon = DP_TARGETS[run];
    if (targetEpsilon === null) return 0;
    const q = sampleRate(settings);
    return getNoiseMultiplier({
      targetEpsilon,
      delta: settings.delta,
      sampleRate: q,
      steps,
      epsilonTolerance: EPSILON_TOLERANCE,
    });
  };
  return Object.fromEntries(DP_RUNS.map((run) => [run, sigma(run)])) as Record<DpRun, number>;
}

/** One test-set evaluation of a run. */
export interface DpRecord {
  /** Steps taken before it (0: the initial weights). */
  step: number;
  /** Fraction of the test set classified right. */
  accuracy: number;
  /** ε spent so far at the settings' δ (null without privacy). */
  epsilon: number | null;
}

export interface DpOutcome {
  run: DpRun;
  targetEpsilon: number | null;
  noiseMultiplier: number;
  maxNorm: number;
  sampleRate: number;
  delta: number;
  records: DpRecord[];
  finalAccuracy: number;
  /** The accountant's ε after the run (null without privacy) and the Rényi order that gave it. */
  epsilon: number | null;
  order: number | null;
  /** Steps the optimizer took (its state's count). */
  steps: number;
  /** Examples the Poisson sampler drew, summed over the steps, and as the gradient kernel counted them. */
  examplesSampled: number;
  examplesSeen: number;
  /** Fraction of the examples seen whose gradient norm exceeded maxNorm (so were clipped), and the largest norm. */
  clippedFraction: number;
  largestNorm: number;
  /** Steps whose Poisson batch exceeded the capacity and was truncated (expected: none). */
  overflowSteps: number;
}

/** Whether the outcomes show what the demo is for (the CLI's exit code, the outcome test). */
export function dpShows(outcomes: readonly DpOutcome[]): boolean {
  const by = Object.fromEntries(outcomes.map((o) => [o.run, o])) as Partial<Record<DpRun, DpOutcome>>;
  const none = by.none;
  const privateRuns = DP_RUNS.filter((r) => r !== 'none').map((r) => by[r]);
  if (!none || privateRuns.some((o) => !o)) return false;
  if (outcomes.some((o) => o.overflowSteps > 0 || o.examplesSeen !== o.examplesSampled)) return false;
  // The baseline really is unclipped and noiseless.
  if (none.noiseMultiplier !== 0 || none.clippedFraction !== 0 || !(none.largestNorm < none.maxNorm)) return false;
  return privateRuns.every(
    (o) =>
      o!.finalAccuracy >= LEARNS &&
      o!.finalAccuracy < none.finalAccuracy &&
      o!.epsilon !== null &&
      o!.targetEpsilon !== null &&
      o!.epsilon <= o!.targetEpsilon &&
      o!.epsilon >= o!.targetEpsilon - EPSILON_TOLERANCE,
  );
}
