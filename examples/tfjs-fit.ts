// README "Quick start", TF.js model.fit: Keras's global_clipnorm on a tf.train optimizer through
// gradclip/tfjs, clipped in place on the GPU when TF.js runs on the clipper's device. The `readme`
// regions, joined, are the README's block; test/browser/examples.test.ts runs it.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { createClipper } from 'gradclip';
// #region readme
import { clippedOptimizer } from 'gradclip/tfjs';
// #endregion readme

/** Fits a tiny regression for `epochs` steps; returns each epoch's loss and the last step's gradient norm. */
export async function run(device: GPUDevice, { epochs = 20 } = {}): Promise<{ losses: number[]; lastNorm: number }> {
  const clipper = await createClipper({ device });
  const model = tfl.sequential({
    layers: [tfl.layers.dense({ units: 8, inputShape: [4], activation: 'tanh' }), tfl.layers.dense({ units: 1 })],
  });
  const xs = tf.randomNormal([32, 4], 0, 1, 'float32', 7);
  const ys = tf.sum(xs, 1, true);
  // #region readme
  const optimizer = clippedOptimizer(clipper, tf.train.adam(1e-2), { globalClipnorm: 1 }); // Keras's global_clipnorm
  model.compile({ optimizer, loss: 'meanSquaredError' });
  const history = await model.fit(xs, ys, { epochs, batchSize: 32 });
  console.log(await optimizer.lastNorm?.read()); // the last step's gradient norm, read once
  // #endregion readme
  const losses = history.history.loss as number[];
  const lastNorm = (await optimizer.lastNorm?.read()) ?? Number.NaN;
  tf.dispose([xs, ys]);
  model.dispose();
  clipper.destroy();
  return { losses, lastNorm };
}
