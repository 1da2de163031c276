// The training demo's problem: a deep tanh MLP (16 → 64 → 64 → 64 → 1) learns a fixed random
// "teacher" MLP of the same shape by mean squared error, trained with SGD + momentum at a rate
// past its stability limit. Unclipped, a large step grows the weights, the next gradients are
// larger still and the loss runs off to Inf within a few dozen steps; a clipped step is bounded,
// so the same rate trains. Everything is seeded: side-by-side runs start from the same weights and
// see the same batches.
import type * as TF from '@tensorflow/tfjs-core';

export const INPUTS = 16;
export const HIDDEN = 64;
export const HIDDEN_LAYERS = 3;
export const BATCH = 64;
/** Fan-in of each layer, then its width. */
const LAYERS: Array<[number, number]> = [
  [INPUTS, HIDDEN],
  ...Array.from({ length: HIDDEN_LAYERS - 1 }, (): [number, number] => [HIDDEN, HIDDEN]),
  [HIDDEN, 1],
];

/** Park–Miller generator with a Box–Muller normal, so the demo and its test see the same numbers. */
export class SeededRandom {
  constructor(private seed: number) {}

  uniform(): number {
    this.seed = (this.seed * 16807) % 2147483647;
    return this.seed / 2147483647;
  }

  normal(): number {
    return Math.sqrt(-2 * Math.log(this.uniform() + 1e-12)) * Math.cos(2 * Math.PI * this.uniform());
  }
}

/** Weights (fan-in × width, row-major) and biases of each layer, scaled by gain / sqrt(fan-in). */
export interface Layer {
  weights: Float32Array;
  biases: Float32Array;
}

export function initialLayers(seed: number, gain: number): Layer[] {
  const random = new SeededRandom(seed);
  return LAYERS.map(([fanIn, width]) => ({
    weights: Float32Array.from({ length: fanIn * width }, () => (random.normal() * gain) / Math.sqrt(fanIn)),
    biases: new Float32Array(width),
  }));
}

/** The teacher network's output for a batch, in float64 on the CPU (the targets). */
function teacherOutput(layers: readonly Layer[], inputs: Float32Array): Float32Array {
  let rows: Float64Array = Float64Array.from(inputs);
  layers.forEach((layer, l) => {
    const [fanIn, width] = LAYERS[l];
    const out = new Float64Array(BATCH * width);
    for (let r = 0; r < BATCH; r++) {
      for (let c = 0; c < width; c++) {
        let sum = layer.biases[c];
        for (let k = 0; k < fanIn; k++) sum += rows[r * fanIn + k] * layer.weights[k * width + c];
        out[r * width + c] = l < layers.length - 1 ? Math.tanh(sum) : sum;
      }
    }
    rows = out;
  });
  return Float32Array.from(rows);
}

/** The batches of one training session: step t's batch is the same for every run. */
export class Batches {
  private readonly teacher = initialLayers(7, 1.5);
  private readonly cache: Array<{ inputs: Float32Array; targets: Float32Array }> = [];

  constructor(private readonly seed = 11) {}

  at(step: number): { inputs: Float32Array; targets: Float32Array } {
    while (this.cache.length <= step) {
      const random = new SeededRandom(this.seed + this.cache.length * 7919);
      const inputs = Float32Array.from({ length: BATCH * INPUTS }, () => random.normal());
      this.cache.push({ inputs, targets: teacherOutput(this.teacher, inputs) });
    }
    return this.cache[step];
  }
}

/** The student network as TF.js variables (weights then biases per layer), and its loss. */
export class Student {
  readonly variables: TF.Variable[];

  constructor(
    private readonly tf: typeof TF,
    layers: readonly Layer[],
    name: string,
  ) {
    this.variables = layers.flatMap((layer, l) => [
      tf.variable(tf.tensor2d(layer.weights, LAYERS[l]), true, `${name}/w${l}`),
      tf.variable(tf.tensor1d(layer.biases), true, `${name}/b${l}`),
    ]);
  }

  /** Mean squared error of the network on a batch (a scalar tensor). */
  loss(inputs: TF.Tensor2D, targets: TF.Tensor2D): TF.Scalar {
    const { tf } = this;
    let rows: TF.Tensor2D = inputs;
    for (let l = 0; l < LAYERS.length; l++) {
      const z = tf.add(tf.matMul(rows, this.variables[2 * l] as TF.Tensor2D), this.variables[2 * l + 1]) as TF.Tensor2D;
      rows = l < LAYERS.length - 1 ? tf.tanh(z) : z;
    }
    return tf.mean(tf.square(tf.sub(rows, targets)));
  }

  dispose(): void {
    this.tf.dispose(this.variables);
  }
}
