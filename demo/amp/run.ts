// Trains the AMP demo's runs side by side (demo/amp/model.ts) and summarizes them; the page and
// the outcome test drive it. f16 gradients need the device's `shader-f16`.
import { createClipper, type Clipper } from 'gradclip';
import { AmpTrainer } from './model';
import {
  AMP_RUNS,
  DEFAULT_AMP_SETTINGS,
  DEFAULT_AMP_STEPS,
  summarizeAmp,
  type AmpOutcome,
  type AmpRecord,
  type AmpRun,
  type AmpSettings,
} from './settings';

export interface AmpTrainOptions {
  runs?: readonly AmpRun[];
  /** Steps of every run (default DEFAULT_AMP_STEPS). */
  steps?: number;
  settings?: Partial<AmpSettings>;
  /** The clipper to train with (kept); default a new one on the device (destroyed at the end). */
  clipper?: Clipper;
  /** Called with each readback's new records of a run. */
  onRecords?: (run: AmpRun, records: AmpRecord[]) => void;
  stopped?: () => boolean;
}

/** Why the demo cannot run on `device`, or null. */
export function ampUnsupported(device: GPUDevice): string | null {
  return device.features.has('shader-f16')
    ? null
    : "this adapter has no 'shader-f16', which f16 gradients need (Firefox has it here, through Mesa's lavapipe; Chrome on most GPUs)";
}

export async function trainAmp(device: GPUDevice, options: AmpTrainOptions = {}): Promise<AmpOutcome[]> {
  const unsupported = ampUnsupported(device);
  if (unsupported) throw new Error(`the AMP demo cannot run: ${unsupported}`);
  const settings = { ...DEFAULT_AMP_SETTINGS, ...options.settings };
  const steps = options.steps ?? DEFAULT_AMP_STEPS;
  const runs = options.runs ?? AMP_RUNS;
  const clipper = options.clipper ?? (await createClipper({ device }));
  const trainer = new AmpTrainer(device, clipper, runs, settings, steps);
  const records = new Map<AmpRun, AmpRecord[]>(runs.map((r) => [r, []]));
  try {
    let read = 0;
    let s = 0;
    for (; s < steps && !options.stopped?.(); s++) {
      trainer.step(s);
      if ((s + 1) % settings.readEvery !== 0 && s + 1 !== steps) continue;
      for (const [run, rows] of await trainer.read(read, s + 1)) {
        records.get(run)!.push(...rows);
        options.onRecords?.(run, rows);
      }
      read = s + 1;
    }
    if (read < s) {
      for (const [run, rows] of await trainer.read(read, s)) {
        records.get(run)!.push(...rows);
        options.onRecords?.(run, rows);
      }
    }
    const taken = await trainer.stepsTaken();
    return runs.map((run) => summarizeAmp(run, records.get(run)!, taken.get(run)!));
  } finally {
    trainer.destroy();
    if (!options.clipper) clipper.destroy();
  }
}
