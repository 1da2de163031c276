// Side-by-side training runs of the demo's model, one per clipping mode, on one device: TF.js
// computes each step's gradients (tf.variableGrads), they are copied on the GPU into a fixed
// arena, and gradclip's fused optimizer (SGD + momentum, with the run's clip) updates TF.js's own
// variables in place. The adaptive run clips with AutoClip first. Nothing is read back per step:
// a NormMonitor per run reads its history once every `readEvery` steps.
import type * as TF from '@tensorflow/tfjs-core';
import {
  createAutoClip,
  createClipper,
  createGradientArena,
  createOptimizer,
  gradientsFromTfjs,
  submitTfjsWork,
  tfjsTensorBuffer,
  type AutoClip,
  type Clipper,
  type GradView,
  type NormHandle,
  type Optimizer,
} from 'gradclip';
import { BATCH, Batches, INPUTS, Student, initialLayers } from './model';
import { NormMonitor, type GpuScalar, type StepRecord } from './monitor';

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

class TrainingRun {
  readonly records: StepRecord[] = [];
  private readonly student: Student;
  private readonly arena: { buffer: GPUBuffer; views: GradView[] };
  private readonly optimizer: Optimizer;
  private readonly autoClip: AutoClip | null;
  readonly monitor: NormMonitor;

  constructor(
    private readonly tf: typeof TF,
    private readonly device: GPUDevice,
    clipper: Clipper,
    readonly mode: ClipMode,
    settings: TrainSettings,
  ) {
    this.student = new Student(tf, initialLayers(3, 1), `train-${mode}-${Math.random().toString(36).slice(2)}`);
    // The variables' buffers stay put (gradclip updates them in place; TF.js never reassigns
    // them), so the parameter set is built once. Gradients are new tensors every step: the
    // optimizer binds a fixed arena they are copied into.
    const params = gradientsFromTfjs(clipper, this.student.variables);
    this.arena = createGradientArena(
      device,
      this.student.variables.map((v) => v.size),
    );
    const grads = clipper.gradients(this.arena.views);
    const clip =
      mode === 'norm' ? { maxNorm: settings.maxNorm } : mode === 'value' ? { value: settings.clipValue } : undefined;
    this.optimizer = createOptimizer(clipper, {
      params,
      grads,
      kind: 'sgd',
      lr: settings.lr,
      momentum: settings.momentum,
      ...(clip ? { clip } : {}),
    });
    this.autoClip = mode === 'autoclip' ? createAutoClip(clipper, grads, { percentile: settings.percentile }) : null;
    this.monitor = new NormMonitor(device, settings.readEvery, `train ${mode} monitor`);
  }

  /** One training step on the batch; the monitor's records when it read them back this step. */
  async step(step: number, inputs: TF.Tensor2D, targets: TF.Tensor2D): Promise<StepRecord[]> {
    const { tf, device } = this;
    const { value, grads } = tf.variableGrads(() => this.student.loss(inputs, targets), this.student.variables);
    // Buffers first (one TF.js computed on the CPU is uploaded by TF.js's own encoder), then submit.
    const sources = this.student.variables.map((v) => tfjsTensorBuffer(grads[v.name], tf.backend()));
    const loss = tfjsTensorBuffer(value, tf.backend());
    submitTfjsWork(tf.backend());
    const encoder = device.createCommandEncoder({ label: `train ${this.mode} step` });
    this.student.variables.forEach((v, i) => {
      const view = this.arena.views[i] as { offset: number };
      encoder.copyBufferToBuffer(sources[i], 0, this.arena.buffer, view.offset, v.size * 4);
    });
    let handle: NormHandle;
    let threshold: GpuScalar | undefined;
    if (this.autoClip) {
      const clipped = this.autoClip.step({ encoder });
      handle = clipped;
      threshold = { buffer: clipped.buffer!, offset: clipped.thresholdOffset };
      this.optimizer.step({ encoder });
    } else {
      handle = this.optimizer.step({ encoder });
    }
    const full = this.monitor.record(encoder, step, { buffer: loss, offset: 0 }, handle, threshold);
    device.queue.submit([encoder.finish()]);
    tf.dispose([value, ...Object.values(grads)]);
    return full ? this.flush() : [];
  }

  async flush(): Promise<StepRecord[]> {
    const records = await this.monitor.read();
    this.records.push(...records);
    return records;
  }

  destroy(): void {
    this.optimizer.destroy();
    this.autoClip?.destroy();
    this.monitor.destroy();
    this.arena.buffer.destroy();
    this.student.dispose();
  }
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
  const runs = (options.modes ?? CLIP_MODES).map((mode) => new TrainingRun(tf, device, clipper, mode, settings));
  try {
    for (let step = 0; step < options.steps && !options.stopped?.(); step++) {
      const batch = batches.at(step);
      const inputs = tf.tensor2d(batch.inputs, [BATCH, INPUTS]);
      const targets = tf.tensor2d(batch.targets, [BATCH, 1]);
      for (const run of runs) {
        const records = await run.step(step, inputs, targets);
        if (records.length) options.onRecords?.(run.mode, records);
      }
      tf.dispose([inputs, targets]);
    }
    for (const run of runs) {
      const records = await run.flush();
      if (records.length) options.onRecords?.(run.mode, records);
    }
    return runs.map((run) => summarize(run.mode, run.records, run.monitor.maps));
  } finally {
    for (const run of runs) run.destroy();
    clipper.destroy();
  }
}
