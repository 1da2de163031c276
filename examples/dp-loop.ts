// The privacy guide's loops (docs/guide/privacy.md): DP-SGD with the fused optimizer's `privacy`
// option, Poisson-sampled batches of varying size and the RDP accountant stepped with each step
// (run); the same with clipPerExample and the noise's seed and step kept by the caller (runCustom).
// The `loop`, `sampler` and `custom` regions, each joined, are the guide's blocks
// (test/node/readme-examples.test.ts keeps them equal); test/browser/examples.test.ts runs both
// loops against the float64 reference. Around them, a tiny model: linear regression on a synthetic
// data set uploaded with writeBuffer, whose backward kernel writes one gradient per sampled
// example, reading the parameters on the GPU.
// #region loop
import { createClipper, createOptimizer, createRdpAccountant, getNoiseMultiplier } from 'gradclip';
// #endregion loop
import { readBytes } from '../test/shared/read-bytes';

/** The data set: examples, features per example, and the true weights and bias the targets come from. */
export const DATASET_SIZE = 1000;
export const FEATURES = 7;
export const TRUE_WEIGHTS = Array.from({ length: FEATURES }, (_, k) => (k - 3) / 2);
export const TRUE_BIAS = 0.5;
/** Opacus's expected batch size (sampleRate × DATASET_SIZE) and the rows the per-example buffer holds. */
export const EXPECTED_BATCH = 32;
export const CAPACITY = 64;
/** The guide's settings, which the test's float64 reference repeats. */
export const MAX_NORM = 1;
export const LR = 0.5;
export const TARGET_EPSILON = 3;
export const DELTA = 1e-5;

/** The features (row-major, DATASET_SIZE × FEATURES) and targets, from a fixed generator. */
export function dataset(): { features: Float32Array<ArrayBuffer>; targets: Float32Array<ArrayBuffer> } {
  let state = 20261204;
  const next = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return (state / 2 ** 32) * 2 - 1;
  };
  const features = Float32Array.from({ length: DATASET_SIZE * FEATURES }, next);
  const targets = Float32Array.from({ length: DATASET_SIZE }, (_, i) =>
    TRUE_WEIGHTS.reduce((y, w, k) => y + w * features[i * FEATURES + k], TRUE_BIAS + 0.05 * next()),
  );
  return { features, targets };
}

// #region sampler
/**
 * Poisson sampling (Opacus's UniformWithReplacementSampler): each of `size` examples joins the
 * batch on its own with probability `rate`, from crypto.getRandomValues. Returns their indices.
 */
export function poissonSample(size: number, rate: number): number[] {
  const batch: number[] = [];
  // getRandomValues fills at most 65 536 bytes a call.
  for (let start = 0; start < size; start += 16384) {
    const words = crypto.getRandomValues(new Uint32Array(Math.min(16384, size - start)));
    words.forEach((word, i) => {
      if (word < rate * 2 ** 32) batch.push(start + i);
    });
  }
  return batch;
}
// #endregion sampler

// One invocation per row of the batch: r = w·x + b − y, the gradient of r²/2 is (r·x, r). Rows
// past the batch are padding, left as they are (the optimizer never reads them).
const BACKWARD = `
override FEATURES: u32;
override CAPACITY: u32;
@group(0) @binding(0) var<storage, read> features: array<f32>;   // DATASET_SIZE × FEATURES
@group(0) @binding(1) var<storage, read> targets: array<f32>;
@group(0) @binding(2) var<storage, read> batch: array<u32>;       // the count, then the indices
@group(0) @binding(3) var<storage, read> params: array<f32>;      // the weights, then the bias
@group(0) @binding(4) var<storage, read_write> grads: array<f32>; // CAPACITY × FEATURES, then CAPACITY
@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) id: vec3<u32>) {
  let e = id.x;
  if (e >= min(batch[0], CAPACITY)) { return; }
  let row = batch[1u + e] * FEATURES;
  var r = params[FEATURES] - targets[batch[1u + e]];
  for (var k = 0u; k < FEATURES; k++) { r += params[k] * features[row + k]; }
  for (var k = 0u; k < FEATURES; k++) { grads[e * FEATURES + k] = r * features[row + k]; }
  grads[CAPACITY * FEATURES + e] = r;
}`;

export interface DpLoopResult {
  /** The weights, then the bias, after the last step. */
  params: Float32Array;
  /** Each step's batch: the indices sampled. */
  batches: number[][];
  noiseMultiplier: number;
  epsilon: number;
  /** The private optimizer's next noise step (its state's noiseStep); run() only. */
  noiseStep?: number;
}

/**
 * The tiny model on `device`: the data set uploaded, its parameter and per-example gradient
 * views (zero parameters), and `backward`, which records one step's per-example gradients.
 */
function tinyModel(device: GPUDevice) {
  const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC;
  const { features, targets } = dataset();
  const featureBuffer = device.createBuffer({ label: 'dp-loop features', size: features.byteLength, usage });
  const targetBuffer = device.createBuffer({ label: 'dp-loop targets', size: targets.byteLength, usage });
  device.queue.writeBuffer(featureBuffer, 0, features);
  device.queue.writeBuffer(targetBuffer, 0, targets);
  const batchBuffer = device.createBuffer({ label: 'dp-loop batch', size: 4 * (1 + CAPACITY), usage });
  const paramBuffer = device.createBuffer({ label: 'dp-loop params', size: 4 * (FEATURES + 1), usage });
  const gradBuffer = device.createBuffer({ label: 'dp-loop grads', size: 4 * CAPACITY * (FEATURES + 1), usage });
  const sumBuffer = device.createBuffer({ label: 'dp-loop sums', size: 256, usage });
  const buffers = [featureBuffer, targetBuffer, batchBuffer, paramBuffer, gradBuffer, sumBuffer];
  const pipeline = device.createComputePipeline({
    label: 'dp-loop backward',
    layout: 'auto',
    compute: {
      module: device.createShaderModule({ label: 'dp-loop backward', code: BACKWARD }),
      entryPoint: 'main',
      constants: { FEATURES, CAPACITY },
    },
  });
  const bindGroup = device.createBindGroup({
    label: 'dp-loop backward',
    layout: pipeline.getBindGroupLayout(0),
    entries: buffers.slice(0, 5).map((buffer, binding) => ({ binding, resource: { buffer } })),
  });
  const batches: number[][] = [];
  return {
    weightsView: { buffer: paramBuffer, offset: 0, length: FEATURES },
    biasView: { buffer: paramBuffer, offset: 4 * FEATURES, length: 1 },
    weightGradsView: { buffer: gradBuffer, offset: 0, length: CAPACITY * FEATURES },
    biasGradsView: { buffer: gradBuffer, offset: 4 * CAPACITY * FEATURES, length: CAPACITY },
    sumBuffer,
    batches,
    backward(encoder: GPUCommandEncoder, batch: number[]) {
      batches.push(batch);
      // The batch goes up before the encoder is submitted (queue order), then one dispatch.
      device.queue.writeBuffer(batchBuffer, 0, Uint32Array.of(batch.length, ...batch));
      const pass = encoder.beginComputePass({ label: 'dp-loop backward' });
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, bindGroup);
      pass.dispatchWorkgroups(Math.ceil(CAPACITY / 64));
      pass.end();
    },
    readParams: async () => new Float32Array(await readBytes(device, paramBuffer)),
    destroy: () => {
      for (const b of buffers) b.destroy();
    },
  };
}

/** Runs the guide's loop for `steps` steps from zero parameters. */
export async function run(device: GPUDevice, { steps = 200 } = {}): Promise<DpLoopResult> {
  const { weightsView, biasView, weightGradsView, biasGradsView, backward, ...model } = tinyModel(device);
  const [datasetSize, expectedBatch, capacity] = [DATASET_SIZE, EXPECTED_BATCH, CAPACITY];
  // #region loop
  const sampleRate = expectedBatch / datasetSize; // Opacus: 1 / len(data_loader)
  const noiseMultiplier = getNoiseMultiplier({ targetEpsilon: 3, delta: 1e-5, sampleRate, steps }); // σ
  const clipper = await createClipper({ device });
  const params = clipper.gradients([weightsView, biasView]); // f32 parameters
  const grads = clipper.gradients([weightGradsView, biasGradsView]); // `capacity` gradients per view, example-major
  const optimizer = createOptimizer(clipper, {
    params,
    grads,
    kind: 'sgd',
    lr: 0.5,
    privacy: { batchSize: capacity, maxNorm: 1, noiseMultiplier, divisor: expectedBatch },
  });
  const accountant = createRdpAccountant();

  for (let step = 0; step < steps; step++) {
    const batch = poissonSample(datasetSize, sampleRate); // Poisson: each example in with probability sampleRate
    if (batch.length > capacity) throw new Error(`a batch of ${batch.length}: raise the capacity`);
    const encoder = device.createCommandEncoder();
    backward(encoder, batch); // your kernels: example e's gradient in row e of each view
    optimizer.step({ examples: batch.length, encoder }); // clip each, sum, add noise, ÷ expectedBatch, update
    device.queue.submit([encoder.finish()]);
    accountant.step({ noiseMultiplier, sampleRate });
  }
  const { epsilon } = accountant.getEpsilon(1e-5); // at most 3
  // #endregion loop
  const result = {
    params: await model.readParams(),
    batches: model.batches,
    noiseMultiplier,
    epsilon,
    noiseStep: (await optimizer.state()).noiseStep,
  };
  optimizer.destroy();
  clipper.destroy();
  model.destroy();
  return result;
}

/**
 * The guide's custom loop: clipPerExample with the noise's seed and step kept by the caller, into
 * a buffer of the caller's, and a plain optimizer on the noisy mean; otherwise run()'s loop.
 */
export async function runCustom(device: GPUDevice, { steps = 200 } = {}): Promise<DpLoopResult> {
  const { weightsView, biasView, weightGradsView, biasGradsView, backward, sumBuffer, ...model } = tinyModel(device);
  const [datasetSize, expectedBatch, capacity] = [DATASET_SIZE, EXPECTED_BATCH, CAPACITY];
  const sampleRate = expectedBatch / datasetSize;
  const noiseMultiplier = getNoiseMultiplier({ targetEpsilon: 3, delta: 1e-5, sampleRate, steps });
  const clipper = await createClipper({ device });
  const params = clipper.gradients([weightsView, biasView]);
  const grads = clipper.gradients([weightGradsView, biasGradsView]);
  const accountant = createRdpAccountant();
  // #region custom
  const [low, high] = crypto.getRandomValues(new Uint32Array(2));
  const seed = (BigInt(high) << 32n) | BigInt(low); // secret: never logged, never reused on the same data
  const sums = clipper.gradients([
    { buffer: sumBuffer, offset: 0, length: 7 }, // each view's sum starts on a multiple of 16 bytes:
    { buffer: sumBuffer, offset: 32, length: 1 }, // the weights' 7 floats end at 28, the bias's sum is at 32
  ]);
  const sgd = createOptimizer(clipper, { params, grads: sums, kind: 'sgd', lr: 0.5 }); // or your own update

  for (let step = 0; step < steps; step++) {
    const batch = poissonSample(datasetSize, sampleRate);
    if (batch.length > capacity) throw new Error(`a batch of ${batch.length}: raise the capacity`);
    const encoder = device.createCommandEncoder();
    backward(encoder, batch);
    clipper.clipPerExample(grads, {
      batchSize: capacity,
      maxNorm: 1,
      examples: batch.length, // rows from batch.length on are padding, never read
      noise: { multiplier: noiseMultiplier, seed, step }, // a new step (or seed) for every call
      divisor: expectedBatch,
      out: { buffer: sumBuffer },
      encoder,
    });
    sgd.step({ encoder });
    device.queue.submit([encoder.finish()]);
    accountant.step({ noiseMultiplier, sampleRate });
  }
  // #endregion custom
  const result = {
    params: await model.readParams(),
    batches: model.batches,
    noiseMultiplier,
    epsilon: accountant.getEpsilon(1e-5).epsilon,
  };
  sgd.destroy();
  clipper.destroy();
  model.destroy();
  return result;
}
