// The benchmark's model.fit line: one `model.fit` step of the demo's GPT with AdamW-style
// optimizers as a TF.js user would compile them — tf.train.adam without clipping, the same with
// a global-norm clip written in TF.js ops, with gradclip's clippedOptimizer (the clip in place on
// the GPU) and with gradclip's fused AdamW — and the clip's overhead as a percentage of the
// unclipped step (for the fused AdamW, clip and decoupled decay together). The methods take turns
// over several rounds, in alternating order; each overhead is the median over rounds of that
// round's ratio to the unclipped step, so a drift in the machine's load cancels.
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { Clipper } from 'gradclip';
import { clippedOptimizer, fusedOptimizer } from 'gradclip/tfjs';
import { Batches } from './corpus';
import { buildGpt, nextTokenLoss, parameterCount } from './model';
import { gptConfig } from './run';
import { DEFAULT_GPT_SETTINGS, type GptSettings } from './settings';

export const FIT_METHODS = ['adam', 'adam-ops-clip', 'clipped-optimizer', 'fused-adamw'] as const;
export type FitMethod = (typeof FIT_METHODS)[number];

export const FIT_METHOD_LABELS: Record<FitMethod, string> = {
  adam: 'tf.train.adam, no clip',
  'adam-ops-clip': 'tf.train.adam + global clip in TF.js ops',
  'clipped-optimizer': 'clippedOptimizer(adam, { globalClipnorm })',
  'fused-adamw': "fusedOptimizer({ kind: 'adamw', globalClipnorm }) (AdamW, decay 0.01)",
};

export interface FitStepResult {
  parameters: number;
  batch: number;
  context: number;
  rounds: number;
  stepsPerRound: number;
  methods: Array<{
    method: FitMethod;
    /** What the method is, as a TF.js user writes it. */
    label: string;
    /** Median milliseconds per fit step over the rounds. */
    msPerStep: number;
    /** Median over rounds of (this step / the unclipped step) − 1, in percent (0 for 'adam'). */
    overheadPercent: number;
  }>;
}

function optimizerFor(method: FitMethod, clipper: Clipper, lr: number): tf.Optimizer {
  const globalClipnorm = 1;
  switch (method) {
    case 'adam':
      return tf.train.adam(lr);
    case 'adam-ops-clip':
      return clippedOptimizer(null, tf.train.adam(lr), { globalClipnorm });
    case 'clipped-optimizer':
      return clippedOptimizer(clipper, tf.train.adam(lr), { globalClipnorm });
    case 'fused-adamw':
      return fusedOptimizer(clipper, { kind: 'adamw', lr, globalClipnorm });
  }
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** Times `rounds` × `stepsPerRound` fit steps per method (after a warm-up fit each); TF.js must run on WebGPU. */
export async function measureFitStep(
  clipper: Clipper,
  options: { rounds?: number; stepsPerRound?: number; settings?: Partial<GptSettings> } = {},
): Promise<FitStepResult> {
  const { rounds = 3, stepsPerRound = 3 } = options;
  const settings = { ...DEFAULT_GPT_SETTINGS, ...options.settings };
  const config = gptConfig(settings);
  const batch = new Batches(settings.batch, settings.context).at(0);
  const x = tf.tensor2d(batch.inputs, [settings.batch, settings.context], 'int32');
  const y = tf.tidy(() =>
    tf.oneHot(tf.tensor2d(batch.targets, [settings.batch, settings.context], 'int32'), config.vocab),
  );
  const models = new Map<FitMethod, tfl.Sequential>();
  try {
    for (const method of FIT_METHODS) {
      const model = buildGpt(config, settings.seed);
      model.compile({ optimizer: optimizerFor(method, clipper, settings.lr), loss: nextTokenLoss });
      models.set(method, model);
    }
    const timedFit = async (method: FitMethod, steps: number) => {
      const start = performance.now();
      await models.get(method)!.fit(x, y, { epochs: steps, batchSize: settings.batch, shuffle: false, verbose: 0 });
      return (performance.now() - start) / steps;
    };
    for (const method of FIT_METHODS) await timedFit(method, 2); // compiles TF.js's and gradclip's pipelines
    const times = new Map<FitMethod, number[]>(FIT_METHODS.map((m) => [m, []]));
    // Odd rounds run the methods in reverse, so none always follows the same one.
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? FIT_METHODS : [...FIT_METHODS].reverse();
      for (const method of order) times.get(method)!.push(await timedFit(method, stepsPerRound));
    }
    const base = times.get('adam')!;
    return {
      parameters: parameterCount(models.get('adam')!),
      batch: settings.batch,
      context: settings.context,
      rounds,
      stepsPerRound,
      methods: FIT_METHODS.map((method) => ({
        method,
        label: FIT_METHOD_LABELS[method],
        msPerStep: median(times.get(method)!),
        overheadPercent: 100 * (median(times.get(method)!.map((t, r) => t / base[r])) - 1),
      })),
    };
  } finally {
    for (const model of models.values()) {
      model.optimizer.dispose();
      model.dispose();
    }
    tf.dispose([x, y]);
  }
}
