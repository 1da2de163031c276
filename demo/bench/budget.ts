// How many steps a method (or mode line) is timed for: up to the configured warm-up and reps,
// cut short once a time budget is spent, so a baseline that takes half a second a step (the
// naive clip's per-tensor readbacks, TF.js) costs seconds, not minutes, in the default run.

/** Timed steps a method gets however small the budget: enough for a median. */
export const MIN_SAMPLES = 5;

/** How long a method (or mode line) is timed; a BenchConfig carries these. */
export interface Limits {
  /** Timed steps at most (the median of these is reported). */
  reps: number;
  /** Untimed steps first at most (pipeline compilation, caches). */
  warmup: number;
  /**
   * Milliseconds of timed steps after which timing stops once MIN_SAMPLES are taken, so the slow
   * baselines (naive, TF.js) take fewer steps; 0: every rep.
   */
  budgetMs: number;
}

/** Whether to take another untimed step after `taken` of them took `elapsedMs`: one at least, then a quarter of the budget. */
export function moreWarmup(taken: number, elapsedMs: number, limits: Limits): boolean {
  if (taken >= limits.warmup) return false;
  return taken === 0 || limits.budgetMs === 0 || elapsedMs < limits.budgetMs / 4;
}

/** Whether to take another timed step after `taken` of them took `elapsedMs` in all. */
export function moreSamples(taken: number, elapsedMs: number, limits: Limits): boolean {
  if (taken >= limits.reps) return false;
  return taken < MIN_SAMPLES || limits.budgetMs === 0 || elapsedMs < limits.budgetMs;
}

/** Runs `step` (which returns its own measure, ms) under the warm-up and sample limits; the samples. */
export async function sample(limits: Limits, warm: () => Promise<unknown>, step: () => Promise<number>) {
  const warmStart = performance.now();
  for (let taken = 0; moreWarmup(taken, performance.now() - warmStart, limits); taken++) await warm();
  const samples: number[] = [];
  const start = performance.now();
  while (moreSamples(samples.length, performance.now() - start, limits)) samples.push(await step());
  return samples;
}
