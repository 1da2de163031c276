// README "TF.js interop": a TF.js core training loop clipped by gradclip, the per-step pattern the
// README documents for `gradientsFromTfjs`. The `readme` regions, joined, are the README's code
// block (test/node/readme-examples.test.ts keeps them equal); test/browser/examples.test.ts runs
// it for 1 000 steps and test/stress/lifecycle.test.ts for 2 000, with GPU memory counted. Each
// step builds a new GradSet over that step's new gradient tensors: sets of the same plan shape
// share their GPU resources, so a set per step allocates nothing after the first.
// #region readme
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients'; // tfjs-core alone registers no gradients
import { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { createClipper, gradientsFromTfjs } from 'gradclip';
// #endregion readme

/** What the loop read every `logEvery` steps (and after the last): the loss, and the gradients' norm before clipping. */
export interface TfjsLoopRead {
  step: number;
  loss: number;
  norm: number;
}

export interface TfjsLoopOptions {
  steps?: number;
  /** Read the loss and the norm back every this many steps. */
  logEvery?: number;
  /** Called after each step, with the number of steps done. */
  onStep?: (stepsDone: number) => void;
}

/** Trains a tiny model on `device` for `steps` steps, clipping its gradients to norm 1 each step. */
export async function run(
  device: GPUDevice,
  { steps = 1000, logEvery = 100, onStep }: TfjsLoopOptions = {},
): Promise<TfjsLoopRead[]> {
  // #region readme
  if (tf.findBackendFactory('webgpu')) tf.removeBackend('webgpu'); // tfjs-backend-webgpu registers its own device
  tf.registerBackend('webgpu', () => new WebGPUBackend(device));
  await tf.setBackend('webgpu');
  const clipper = await createClipper({ device });
  // #endregion readme

  // A tiny model of elementwise ops (TF.js's matMul is slow on a software GPU such as SwiftShader),
  // with large initial weights so that the first steps' gradients are clipped.
  const w = tf.variable(tf.randomNormal([8], 0, 2, 'float32', 1), true, 'w');
  const b = tf.variable(tf.zeros([8]), true, 'b');
  const v = tf.variable(tf.randomNormal([8], 0, 2, 'float32', 2), true, 'v');
  const x = tf.randomUniform([16, 8], -1, 1, 'float32', 3);
  const y = tf.tidy(() => tf.sum(tf.mul(x, tf.linspace(-1, 1, 8)), 1));
  const predict = () => tf.sum(tf.mul(tf.tanh(tf.add(tf.mul(x, w), b)), v), 1);
  const loss = () => tf.losses.meanSquaredError(y, predict()) as tf.Scalar;
  const optimizer = tf.train.sgd(0.05);

  const reads: TfjsLoopRead[] = [];
  for (let step = 0; step < steps; step++) {
    // #region readme

    const { value, grads } = tf.variableGrads(loss); // new tensors each step
    const norm = clipper.clipGradNorm(gradientsFromTfjs(clipper, grads), 1); // in place, on the GPU
    optimizer.applyGradients(grads); // tf.train.* as usual
    // #endregion readme
    if (step % logEvery === 0 || step === steps - 1)
      reads.push({ step, loss: (await value.data())[0], norm: await norm.read() });
    tf.dispose([value, ...Object.values(grads)]);
    onStep?.(step + 1);
  }

  optimizer.dispose();
  tf.dispose([w, b, v, x, y]);
  clipper.destroy();
  return reads;
}
