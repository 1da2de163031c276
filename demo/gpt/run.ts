// Side-by-side AdamW runs of the GPT on the same batches from the same initial weights: without
// clipping, clipped to a global norm of 1, and with ZClip. Each run is a FusedRun (TF.js computes
// the gradients, gradclip's fused AdamW clips and applies them in place, nothing read back per
// step); every `sampleEvery` steps each model writes a line of text.
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { createClipper, type Clipper } from 'gradclip';
import { FusedRun, type AdaptiveSetting } from '../train/fused-run';
import { SeededRandom } from '../train/model';
import type { StepRecord } from '../train/monitor';
import { Batches, corpusText, decode, encode, VOCABULARY } from './corpus';
import { buildGpt, nextTokenLoss, parameterCount, trainableVariables, type GptConfig } from './model';
import {
  DEFAULT_GPT_SETTINGS,
  GPT_MODES,
  type GptMode,
  type GptOutcome,
  type GptProgress,
  type GptSettings,
  type TextSample,
} from './settings';

/** Clean steps before and after a corrupted batch that its loss spike compares. */
const SPIKE_WINDOW = 5;

export interface GptTrainOptions {
  modes?: readonly GptMode[];
  /** The clipper to train with (kept); default a new one on the device (destroyed at the end). */
  clipper?: Clipper;
  steps: number;
  settings?: Partial<GptSettings>;
  onRecords?: (progress: GptProgress) => void;
  onSample?: (mode: GptMode, sample: TextSample) => void;
  stopped?: () => boolean;
}

export function gptConfig(settings: GptSettings): GptConfig {
  const { width, heads, layers, context } = settings;
  return { vocab: VOCABULARY.length, width, heads, layers, context };
}

/** What a run's records say about it. */
export function summarizeGpt(
  mode: GptMode,
  records: readonly StepRecord[],
  samples: TextSample[],
  mapAsyncCalls: number,
  maxNorm: number,
  corrupted: (step: number) => boolean,
): GptOutcome {
  // The norm run clips above maxNorm; ZClip's threshold is finite on the steps it clipped.
  const clipped = (r: StepRecord) =>
    mode === 'norm'
      ? r.norm > maxNorm
      : mode === 'zclip'
        ? Number.isFinite(r.threshold) && r.norm > r.threshold
        : false;
  const losses = records.map((r) => (Number.isFinite(r.loss) ? r.loss : Infinity));
  const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / Math.max(values.length, 1);
  const cleanSteps = records.map((r, i) => ({ step: r.step, loss: losses[i] })).filter((r) => !corrupted(r.step));
  const clean = cleanSteps.map((c) => c.loss);
  let largestSpike = NaN;
  for (const r of records) {
    if (!corrupted(r.step)) continue;
    const before = cleanSteps.filter((c) => c.step < r.step).slice(-SPIKE_WINDOW);
    const after = cleanSteps.filter((c) => c.step > r.step).slice(0, SPIKE_WINDOW);
    if (before.length < SPIKE_WINDOW || after.length < SPIKE_WINDOW) continue;
    const rise = mean(after.map((c) => c.loss)) - mean(before.map((c) => c.loss));
    if (!(rise <= largestSpike)) largestSpike = rise;
  }
  const bad = records.find((r) => !Number.isFinite(r.loss));
  return {
    mode,
    records: [...records],
    samples,
    firstLoss: mean(clean.slice(0, 10)),
    lastLoss: mean(clean.slice(-10)),
    largestSpike,
    nonfiniteAt: bad ? bad.step : null,
    clippedSteps: records.filter(clipped).length,
    mapAsyncCalls,
  };
}

/** Continues a window of the corpus by `length` characters, sampling at temperature 0.8 (seeded). */
export async function sampleText(
  model: tfl.LayersModel,
  context: number,
  length: number,
  seed: number,
): Promise<string> {
  const random = new SeededRandom(seed);
  const window = Array.from(encode(corpusText(context, 99)));
  let text = '';
  for (let i = 0; i < length; i++) {
    const probabilities = tf.tidy(() => {
      const logits = model.predict(tf.tensor2d(window, [1, context], 'int32')) as tf.Tensor3D;
      const last = tf.slice(logits, [0, context - 1, 0], [1, 1, VOCABULARY.length]);
      return tf.softmax(tf.div(tf.reshape(last, [VOCABULARY.length]), 0.8));
    });
    // Asynchronous: TF.js's synchronous read on WebGPU goes through a canvas and is unreliable headless.
    const p = await probabilities.data();
    probabilities.dispose();
    let u = random.uniform();
    let token = p.length - 1;
    for (let t = 0; t < p.length; t++) {
      u -= p[t];
      if (u <= 0) {
        token = t;
        break;
      }
    }
    window.shift();
    window.push(token);
    text += decode([token]);
  }
  return text;
}

interface Run {
  mode: GptMode;
  model: tfl.Sequential;
  fused: FusedRun;
  samples: TextSample[];
}

function adaptiveFor(mode: GptMode, settings: GptSettings): AdaptiveSetting | undefined {
  return mode === 'zclip' ? { kind: 'zclip', options: { zThreshold: settings.zThreshold } } : undefined;
}

/** Trains one GPT per mode for `steps` steps on the same batches; TF.js must run on `device`. */
export async function trainGpts(device: GPUDevice, options: GptTrainOptions): Promise<GptOutcome[]> {
  const settings = { ...DEFAULT_GPT_SETTINGS, ...options.settings };
  const config = gptConfig(settings);
  const clipper = options.clipper ?? (await createClipper({ device }));
  const batches = new Batches(settings.batch, settings.context, settings.corruptEvery);
  const runs: Run[] = (options.modes ?? GPT_MODES).map((mode) => {
    const model = buildGpt(config, settings.seed);
    const fused = new FusedRun(tf, device, clipper, {
      label: `gpt ${mode}`,
      variables: trainableVariables(model),
      optimizer: {
        kind: 'adamw',
        lr: settings.lr,
        betas: [0.9, settings.beta2],
        weightDecay: settings.weightDecay,
        ...(mode === 'norm' ? { clip: { maxNorm: settings.maxNorm } } : {}),
      },
      ...(adaptiveFor(mode, settings) ? { adaptive: adaptiveFor(mode, settings) } : {}),
      readEvery: settings.readEvery,
    });
    return { mode, model, fused, samples: [] };
  });
  const sample = async (run: Run, step: number) => {
    const text = await sampleText(run.model, settings.context, settings.sampleLength, step + 1);
    run.samples.push({ step, text });
    options.onSample?.(run.mode, { step, text });
  };
  const tokensPerStep = settings.batch * settings.context * runs.length;
  try {
    let since = performance.now();
    let stepsSince = 0;
    const report = (run: Run, records: StepRecord[]) => {
      const now = performance.now();
      const tokensPerSecond = (stepsSince * tokensPerStep) / ((now - since) / 1000);
      options.onRecords?.({ mode: run.mode, records, tokensPerSecond });
    };
    let step = 0;
    for (; step < options.steps && !options.stopped?.(); step++) {
      const batch = batches.at(step);
      const inputs = tf.tensor2d(batch.inputs, [settings.batch, settings.context], 'int32');
      const targets = tf.tidy(() =>
        tf.oneHot(tf.tensor2d(batch.targets, [settings.batch, settings.context], 'int32'), config.vocab),
      );
      stepsSince++;
      let read = false;
      for (const run of runs) {
        const loss = () => nextTokenLoss(targets, run.model.apply(inputs, { training: true }) as tf.Tensor);
        const records = await run.fused.step(step, loss);
        if (records.length) {
          report(run, records);
          read = true;
        }
      }
      tf.dispose([inputs, targets]);
      if (settings.sampleEvery > 0 && (step + 1) % settings.sampleEvery === 0)
        for (const run of runs) await sample(run, step);
      // The next interval starts after any sampling, which is not training time.
      if (read) {
        since = performance.now();
        stepsSince = 0;
      }
    }
    for (const run of runs) {
      const records = await run.fused.flush();
      if (records.length) report(run, records);
      if (!run.samples.some((s) => s.step === step - 1)) await sample(run, step - 1);
    }
    return runs.map((run) =>
      summarizeGpt(run.mode, run.fused.records, run.samples, run.fused.monitor.maps, settings.maxNorm, (step) =>
        batches.corrupted(step),
      ),
    );
  } finally {
    for (const run of runs) {
      run.fused.destroy();
      run.model.dispose();
    }
    if (!options.clipper) clipper.destroy();
  }
}

/** Parameters of the GPT `settings` describe (builds and disposes one). */
export function gptParameterCount(settings: Partial<GptSettings> = {}): number {
  const model = buildGpt(gptConfig({ ...DEFAULT_GPT_SETTINGS, ...settings }));
  const count = parameterCount(model);
  model.dispose();
  return count;
}
