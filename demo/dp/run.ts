// Trains the DP-SGD demo's runs side by side (demo/dp/model.ts) and summarizes them; the page and
// the outcome test drive it. The CPU draws each step's Poisson batch and keeps each private run's
// RDP accountant (stepped once per step); the GPU does the rest.
import { createClipper, createRdpAccountant, type Clipper, type RdpAccountant } from 'gradclip';
import { dataSets, initialParams, PoissonSampler } from './data';
import { DpTrainer, type DpRunStats } from './model';
import {
  DEFAULT_DP_SETTINGS,
  DEFAULT_DP_STEPS,
  DP_RUNS,
  DP_TARGETS,
  noiseMultipliers,
  sampleRate,
  UNCLIPPED_MAX_NORM,
  type DpOutcome,
  type DpRecord,
  type DpRun,
  type DpSettings,
} from './settings';

export interface DpTrainOptions {
  runs?: readonly DpRun[];
  /** Steps of every run (default DEFAULT_DP_STEPS); the noise multipliers are chosen for it. */
  steps?: number;
  settings?: Partial<DpSettings>;
  /** The clipper to train with (kept); default a new one on the device (destroyed at the end). */
  clipper?: Clipper;
  /** Called with each readback's new records of a run. */
  onRecords?: (run: DpRun, records: DpRecord[]) => void;
  stopped?: () => boolean;
}

/** A private run's accountant, or null: a run without noise has no (ε, δ) guarantee to track. */
type Accountants = Map<DpRun, RdpAccountant | null>;

export async function trainDp(device: GPUDevice, options: DpTrainOptions = {}): Promise<DpOutcome[]> {
  const settings = { ...DEFAULT_DP_SETTINGS, ...options.settings };
  const steps = options.steps ?? DEFAULT_DP_STEPS;
  const runs = options.runs ?? DP_RUNS;
  const q = sampleRate(settings);
  const sigmas = noiseMultipliers(settings, steps);
  const maxNorm = (run: DpRun) => (DP_TARGETS[run] === null ? UNCLIPPED_MAX_NORM : settings.maxNorm);
  const { train, test } = dataSets(settings);
  const sampler = new PoissonSampler(train, settings);
  // Row 0 evaluates the initial weights; then one row every evalEvery steps, and one at the end.
  const rows = 2 + Math.floor(steps / settings.evalEvery);
  const clipper = options.clipper ?? (await createClipper({ device }));
  const plans = runs.map((run, i) => ({
    run,
    noiseMultiplier: sigmas[run],
    maxNorm: maxNorm(run),
    seed: settings.seed * 1000 + i,
  }));
  const trainer = new DpTrainer(device, clipper, plans, settings, rows, test, initialParams(settings.seed));
  const accountants: Accountants = new Map(runs.map((r) => [r, sigmas[r] > 0 ? createRdpAccountant() : null]));
  const records = new Map<DpRun, DpRecord[]>(runs.map((r) => [r, []]));
  /** Evaluations recorded but not yet read back: their step and each run's ε at that point. */
  const pending: Array<{ row: number; step: number; epsilon: Map<DpRun, number | null> }> = [];
  const epsilonNow = () =>
    new Map(runs.map((r) => [r, accountants.get(r)?.getEpsilon(settings.delta).epsilon ?? null] as const));
  let latest: Map<DpRun, DpRunStats> | null = null;
  const flush = async () => {
    latest = await trainer.read();
    for (const run of runs) {
      const correct = latest.get(run)!.correct;
      const rowsRead = pending.map((p) => ({
        step: p.step,
        accuracy: correct[p.row] / settings.testExamples,
        epsilon: p.epsilon.get(run) ?? null,
      }));
      records.get(run)!.push(...rowsRead);
      options.onRecords?.(run, rowsRead);
    }
    pending.length = 0;
  };
  try {
    let row = 0;
    trainer.evaluate(row);
    pending.push({ row: row++, step: 0, epsilon: epsilonNow() });
    let s = 0;
    let evaluatedAt = 0;
    for (; s < steps && !options.stopped?.(); s++) {
      const examples = sampler.next();
      const evaluate = (s + 1) % settings.evalEvery === 0 || s + 1 === steps;
      trainer.step(sampler.inputs, sampler.labels, examples, evaluate ? row : null);
      for (const [run, accountant] of accountants) accountant?.step({ noiseMultiplier: sigmas[run], sampleRate: q });
      if (evaluate) {
        pending.push({ row: row++, step: s + 1, epsilon: epsilonNow() });
        evaluatedAt = s + 1;
      }
      if ((s + 1) % settings.readEvery === 0 || s + 1 === steps) await flush();
    }
    // Stopped between evaluations: evaluate where the runs ended.
    if (evaluatedAt < s) {
      trainer.evaluate(row);
      pending.push({ row: row++, step: s, epsilon: epsilonNow() });
    }
    if (pending.length || !latest) await flush();
    const taken = await trainer.stepsTaken();
    return runs.map((run) => {
      const stats = latest!.get(run)!;
      const spent = accountants.get(run)?.getEpsilon(settings.delta) ?? null;
      const runRecords = records.get(run)!;
      return {
        run,
        targetEpsilon: DP_TARGETS[run],
        noiseMultiplier: sigmas[run],
        maxNorm: maxNorm(run),
        sampleRate: q,
        delta: settings.delta,
        records: runRecords,
        finalAccuracy: runRecords.at(-1)?.accuracy ?? Number.NaN,
        epsilon: spent?.epsilon ?? null,
        order: spent?.order ?? null,
        steps: taken.get(run)!,
        examplesSampled: sampler.examplesSampled,
        examplesSeen: stats.seen,
        clippedFraction: stats.seen ? stats.clipped / stats.seen : 0,
        largestNorm: stats.largestNorm,
        overflowSteps: sampler.overflowSteps,
      };
    });
  } finally {
    trainer.destroy();
    if (!options.clipper) clipper.destroy();
  }
}
