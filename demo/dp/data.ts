// The DP-SGD demo's data, on the CPU and seeded: a classification task of Gaussian blobs (each class
// a mixture of a few blobs, so a linear model falls short and the MLP has work to do), the initial
// weights, and the Poisson sampler that draws each step's batch.
import { SeededRandom } from '../train/model';
import { DP_MODEL, sampleRate, type DpSettings } from './settings';

const { inputs: INPUTS, hidden: HIDDEN, classes: CLASSES } = DP_MODEL;

/** The parameters' tensors in order, as element counts: W1 (hidden × inputs), b1, W2 (classes × hidden), b2. */
export const PARAM_LENGTHS = [HIDDEN * INPUTS, HIDDEN, CLASSES * HIDDEN, CLASSES] as const;

/** Examples, row-major: `inputs` floats each, and their labels. */
export interface Examples {
  inputs: Float32Array<ArrayBuffer>;
  labels: Uint32Array<ArrayBuffer>;
}

/** The training and test sets: the same blobs, drawn from separate streams. */
export function dataSets(settings: DpSettings): { train: Examples; test: Examples } {
  const random = new SeededRandom(settings.seed + 1000);
  const means = Array.from({ length: CLASSES * settings.blobsPerClass }, () =>
    Float64Array.from({ length: INPUTS }, () => settings.separation * random.normal()),
  );
  const draw = (count: number, seed: number): Examples => {
    const stream = new SeededRandom(seed);
    const inputs = new Float32Array(count * INPUTS);
    const labels = new Uint32Array(count);
    for (let e = 0; e < count; e++) {
      const label = e % CLASSES;
      const blob = Math.min(Math.floor(stream.uniform() * settings.blobsPerClass), settings.blobsPerClass - 1);
      const mean = means[label * settings.blobsPerClass + blob];
      labels[e] = label;
      for (let k = 0; k < INPUTS; k++) inputs[e * INPUTS + k] = mean[k] + stream.normal();
    }
    return { inputs, labels };
  };
  return {
    train: draw(settings.trainExamples, settings.seed + 2000),
    test: draw(settings.testExamples, settings.seed + 3000),
  };
}

/** Glorot-style weights, zero biases, one array per tensor of PARAM_LENGTHS: every run starts from these. */
export function initialParams(seed: number): Float32Array<ArrayBuffer>[] {
  const random = new SeededRandom(seed);
  const layer = (fanIn: number, length: number) =>
    Float32Array.from({ length }, () => random.normal() * Math.sqrt(1 / fanIn));
  return [
    layer(INPUTS, PARAM_LENGTHS[0]),
    new Float32Array(HIDDEN),
    layer(HIDDEN, PARAM_LENGTHS[2]),
    new Float32Array(CLASSES),
  ];
}

/**
 * Poisson sampling, as the RDP analysis assumes: each step every training example joins the batch
 * with probability q, independently, so batches vary in size. The batch fills the first rows of
 * arrays sized for `capacity` examples (reused every step). A batch above the capacity would be
 * truncated to its first `capacity` examples, which the accounting does not cover: the step is
 * counted in `overflowSteps`, and the demo's outcome fails. At the defaults (q = 1/32 of 2 048,
 * 64 expected, capacity 128) the chance is about 2e-13 per step.
 */
export class PoissonSampler {
  readonly inputs: Float32Array<ArrayBuffer>;
  readonly labels: Uint32Array<ArrayBuffer>;
  overflowSteps = 0;
  /** Examples drawn over all steps (truncated ones not counted). */
  examplesSampled = 0;
  private readonly random: SeededRandom;
  private readonly q: number;

  constructor(
    private readonly train: Examples,
    private readonly settings: DpSettings,
  ) {
    this.random = new SeededRandom(settings.seed + 4000);
    this.q = sampleRate(settings);
    this.inputs = new Float32Array(settings.capacity * INPUTS);
    this.labels = new Uint32Array(settings.capacity);
  }

  /** Draws the next batch into `inputs` and `labels`; returns its size. */
  next(): number {
    let examples = 0;
    let overflowed = false;
    for (let e = 0; e < this.settings.trainExamples; e++) {
      if (this.random.uniform() >= this.q) continue;
      if (examples === this.settings.capacity) {
        overflowed = true;
        continue;
      }
      this.inputs.set(this.train.inputs.subarray(e * INPUTS, (e + 1) * INPUTS), examples * INPUTS);
      this.labels[examples++] = this.train.labels[e];
    }
    if (overflowed) this.overflowSteps++;
    this.examplesSampled += examples;
    return examples;
  }
}
