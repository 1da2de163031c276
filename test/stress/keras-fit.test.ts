// model.fit steps with gradclip/tfjs's clippedOptimizer clipping on the GPU: a set per step over
// TF.js's new gradient tensors, whose resources the clipper pools, so the live bytes of every GPU
// buffer on the device (gradclip's and TF.js's) stay flat after the first steps. 400 steps (each
// ~120 ms of TF.js layers on SwiftShader): enough for growthLimit to catch a 16-byte leak a step.
import * as tfl from '@tensorflow/tfjs-layers';
import { expect, test } from 'vitest';
import { createClipper } from 'gradclip';
import { clippedOptimizer } from 'gradclip/tfjs';
import { tfjsOn } from '../../demo/tfjs-device';
import { sharedDevice, withErrorScopes } from '../browser/gpu';
import { countLiveBytes, counted, growthLimit, WARMUP_STEPS } from '../shared/live-bytes';

const STEPS = 400;

test(`${counted(STEPS)} model.fit steps with clippedOptimizer: live GPU bytes grow by under ${growthLimit(STEPS)} B`, async () => {
  const device = await sharedDevice();
  const tf = await tfjsOn(device);
  await import('@tensorflow/tfjs-core/dist/register_all_gradients');
  const clipper = await createClipper({ device, maxWorkgroups: 4 });
  const model = tfl.sequential({
    layers: [tfl.layers.dense({ units: 8, inputShape: [4], activation: 'tanh' }), tfl.layers.dense({ units: 1 })],
  });
  const optimizer = clippedOptimizer(clipper, tf.train.adam(1e-2), { globalClipnorm: 0.1 });
  model.compile({ optimizer, loss: 'meanSquaredError' });
  const x = tf.randomNormal([16, 4], 0, 1, 'float32', 1);
  const y = tf.randomNormal([16, 1], 0, 1, 'float32', 2);
  const live = countLiveBytes(device);
  let early = NaN;
  let late = NaN;
  try {
    await withErrorScopes(device, async () => {
      await model.fit(x, y, {
        epochs: STEPS,
        batchSize: 16,
        shuffle: false,
        verbose: 0,
        callbacks: {
          onEpochEnd: async (epoch) => {
            if (epoch + 1 === WARMUP_STEPS) early = live.liveBytes;
            if (epoch + 1 === STEPS) late = live.liveBytes;
          },
        },
      });
      await device.queue.onSubmittedWorkDone();
    });
  } finally {
    live.restore();
  }
  expect(await optimizer.lastNorm!.read()).toBeGreaterThan(0);
  console.log(
    `model.fit + clippedOptimizer: live bytes after step ${WARMUP_STEPS} ${early}, after step ${STEPS} ${late}`,
  );
  expect(late - early).toBeLessThan(growthLimit(STEPS));
  tf.dispose([x, y]);
  model.dispose();
  clipper.destroy();
}, 900_000);
