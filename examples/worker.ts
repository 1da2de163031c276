// A training loop in a dedicated module worker, so the page stays responsive: the page posts the
// data, the worker trains a TF.js model with Keras's global_clipnorm clipped on the GPU and posts
// the gradient norms back as it goes. The page side is examples/worker-page.ts; the `worker`
// regions, joined, are the block of docs/guide/workers.md; test/browser/worker.test.ts runs it in
// Chromium and Firefox.
// #region worker
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import * as tfl from '@tensorflow/tfjs-layers';
import { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { createClipper, GradclipError } from 'gradclip';
import { clippedOptimizer } from 'gradclip/tfjs';

// #endregion worker
/** What the page posts: a regression data set and how long to train. */
export interface TrainRequest {
  inputs: Float32Array; // rows × features, row-major
  targets: Float32Array; // rows
  features: number;
  epochs: number;
}

/** What the worker posts back. */
export type TrainMessage =
  | { kind: 'norm'; step: number; norm: number }
  | { kind: 'done'; losses: number[] }
  | { kind: 'error'; code: string | null; message: string };

// #region worker
self.onmessage = async ({ data }: MessageEvent<TrainRequest>) => {
  const post = (message: TrainMessage) => self.postMessage(message);
  try {
    // In a worker as in a page: navigator.gpu, a device, TF.js's WebGPU backend on it.
    const adapter = await navigator.gpu.requestAdapter();
    const device = await adapter!.requestDevice();
    if (tf.findBackendFactory('webgpu')) tf.removeBackend('webgpu');
    tf.registerBackend('webgpu', () => new WebGPUBackend(device));
    await tf.setBackend('webgpu');
    const clipper = await createClipper({ device });

    const rows = data.targets.length;
    const xs = tf.tensor2d(data.inputs, [rows, data.features]);
    const ys = tf.tensor2d(data.targets, [rows, 1]);
    const model = tfl.sequential({
      layers: [
        tfl.layers.dense({ units: 16, inputShape: [data.features], activation: 'tanh' }),
        tfl.layers.dense({ units: 1 }),
      ],
    });
    const optimizer = clippedOptimizer(clipper, tf.train.adam(1e-2), {
      globalClipnorm: 1,
      onNorm: (norm, step) => post({ kind: 'norm', step, norm }), // one readback every logEvery steps
      logEvery: 5,
    });
    model.compile({ optimizer, loss: 'meanSquaredError' });
    const history = await model.fit(xs, ys, { epochs: data.epochs, batchSize: rows, verbose: 0 });
    post({ kind: 'done', losses: history.history.loss as number[] });
  } catch (error) {
    // A GradclipError's code does not survive postMessage: send it as data.
    const code = error instanceof GradclipError ? error.code : null;
    post({ kind: 'error', code, message: String(error) });
  }
};
// #endregion worker
