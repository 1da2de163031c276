// Side-by-side training runs of the demo's model, one per clipping mode, on one device, each a
// FusedRun: TF.js's gradients clipped and applied by gradclip's fused optimizer (SGD + momentum,
// with the run's clip; the adaptive run clips with AutoClip first), nothing read back per step.
import type * as TF from '@tensorflow/tfjs-core';
import { createClipper, type Clipper } from 'gradclip';
import { FusedRun } from './fused-run';
import { BATCH, Batches, INPUTS, Student, initialLayers } from './model';
import type { StepRecord } from './monitor';
import {
  CLIP_MODES,
  DEFAULT_SETTINGS,
  DIVERGED_NORM,
  type ClipMode,
  type RunOutcome,
  type TrainSettings,
} from './settings';

/** What a run's records say: diverged or not, and the loss at the start and the end. */
export function summarize(mode: ClipMode, records: readonly StepRecord[], mapAsyncCalls: number): RunOutcome {
  const bad = records.find((r) => !Number.isFinite(r.loss) || !(r.norm <= DIVERGED_NORM));
  const finite = records.filter((r) => Number.isFinite(r.loss)).map((r) => r.loss);
  const mean = (values: number[]) => (values.length ? values.reduce((a, b) => a + b, 0) / values.length : NaN);
  return {
    mode,
    records: [...records],
    diverged: !!bad,
    divergedAt: bad ? bad.step : null,
    firstLoss: mean(finite.slice(0, 5)),
    lastLoss: bad ? Infinity : mean(finite.slice(-5)),
    nonfiniteSteps: records.filter((r) => r.nonfinite).length,
    mapAsyncCalls,
  };
}

/** One run of the demo: the student's variables trained by gradclip's fused SGD with the mode's clip. */
function trainingRun(tf: typeof TF, device: GPUDevice, clipper: Clipper, mode: ClipMode, settings: TrainSettings) {
  const label = `train-${mode}-${Math.random().toString(36).slice(2)}`;
  const student = new Student(tf, initialLayers(3, 1), label);
  const clip =
    mode === 'norm' ? { maxNorm: settings.maxNorm } : mode === 'value' ? { value: settings.clipValue } : undefined;
  const run = new FusedRun(tf, device, clipper, {
    label,
    variables: student.variables,
    optimizer: { kind: 'sgd', lr: settings.lr, momentum: settings.momentum, ...(clip ? { clip } : {}) },
    ...(mode === 'autoclip' ? { adaptive: { kind: 'autoclip', options: { percentile: settings.percentile } } } : {}),
    readEvery: settings.readEvery,
  });
  return { mode, student, run };
}

export interface TrainOptions {
  modes?: readonly ClipMode[];
  steps: number;
  settings?: Partial<TrainSettings>;
  /** Called with each batch of records read back (every `readEvery` steps per run). */
  onRecords?: (mode: ClipMode, records: StepRecord[]) => void;
  /** Checked between steps; true stops the runs early. */
  stopped?: () => boolean;
}

/** Trains one run per mode for `steps` steps on the same batches; TF.js must run on `device`. */
export async function trainSideBySide(tf: typeof TF, device: GPUDevice, options: TrainOptions): Promise<RunOutcome[]> {
  const settings = { ...DEFAULT_SETTINGS, ...options.settings };
  const clipper = await createClipper({ device });
  const batches = new Batches();
  const runs = (options.modes ?? CLIP_MODES).map((mode) => trainingRun(tf, device, clipper, mode, settings));
  try {
    for (let step = 0; step < options.steps && !options.stopped?.(); step++) {
      const batch = batches.at(step);
      const inputs = tf.tensor2d(batch.inputs, [BATCH, INPUTS]);
      const targets = tf.tensor2d(batch.targets, [BATCH, 1]);
      for (const { mode, student, run } of runs) {
        const records = await run.step(step, () => student.loss(inputs, targets));
        if (records.length) options.onRecords?.(mode, records);
      }
      tf.dispose([inputs, targets]);
    }
    for (const { mode, run } of runs) {
      const records = await run.flush();
      if (records.length) options.onRecords?.(mode, records);
    }
    return runs.map(({ mode, run }) => summarize(mode, run.records, run.monitor.maps));
  } finally {
    for (const { run, student } of runs) {
      run.destroy();
      student.dispose();
    }
    clipper.destroy();
  }
}
