// clipPerExample on the CPU backend (DP-SGD): the float64 reference (each example clipped as
// Opacus does, the first `examples` summed, Gaussian noise from the same Philox stream as the GPU's,
// divided), stored as float32 into sums the set keeps per batch size.
import { GradclipError } from '../core/errors';
import { OPTION_KEYS, readOptions } from '../core/options';
import { viewsAsSet } from '../core/set-alias';
import type { GradSet, GradView, PerExampleOptions, PerExampleResult } from '../core/types';
import { checkBatchSize, checkMaxNorm } from '../plan/validate';
import { checkPerExamplePrivacy } from '../plan/validate-privacy';
import { checkNoHalfViews, isFloat16Array } from '../plan/views';
import { perExampleReference } from '../reference/modes';
import { checkNoEncoder, type CpuGradSet, CpuNormHandle, type CpuSets } from './set';

export function cpuClipPerExample(sets: PerExampleSets, set: GradSet, optionsIn: PerExampleOptions): PerExampleResult {
  const options = readOptions(optionsIn, OPTION_KEYS.perExample, 'options');
  const { cpuSet, b } = checkBatch(sets, set, options.batchSize);
  const maxNorm = checkMaxNorm(options.maxNorm);
  const { examples, noise, divisor } = checkPerExamplePrivacy(options, b, maxNorm);
  checkNoEncoder(options);
  if (options.out !== undefined) {
    throw new GradclipError(
      'invalid-argument',
      'options.out applies to the WebGPU backend only; the CPU backend allocates its sums once per set',
    );
  }
  const sums = ownSums(sets, cpuSet, b);
  const reference = perExampleReference(cpuSet.arrays, b, maxNorm, { examples, divisor, ...(noise ? { noise } : {}) });
  reference.sums.forEach((sum, v) => sums[v].set(sum));
  const anyNonfinite = reference.norms.some((n) => !Number.isFinite(n));
  return { sum: sums, numClipped: new CpuNormHandle(cpuSet, reference.numClipped, false, anyNonfinite) };
}

/** The sums clipPerExample writes for `set` at `batchSize`, allocated now (a private optimizer's gradients). */
export function cpuPerExampleSums(sets: PerExampleSets, set: GradSet, batchSize: unknown): GradSet {
  const { cpuSet, b } = checkBatch(sets, set, batchSize);
  return ownSums(sets, cpuSet, b);
}

type PerExampleSets = CpuSets & { gradients(views: GradView[]): GradSet };

function checkBatch(sets: PerExampleSets, set: GradSet, batchSize: unknown): { cpuSet: CpuGradSet; b: number } {
  const cpuSet = sets.setOf(set);
  checkNoHalfViews(cpuSet.arrays.map(isFloat16Array), 'clipPerExample');
  const b = checkBatchSize(
    batchSize,
    cpuSet.arrays.map((a) => a.length),
  );
  return { cpuSet, b };
}

/** The set's sums at batch size `b`, made once. */
function ownSums(sets: PerExampleSets, cpuSet: CpuGradSet, b: number): Float32Array[] & GradSet {
  let sums = cpuSet.perExampleSums.get(b);
  if (!sums) {
    const arraysOfSums = cpuSet.arrays.map((a) => new Float32Array(a.length / b));
    sums = viewsAsSet(arraysOfSums, sets.gradients(arraysOfSums));
    cpuSet.perExampleSums.set(b, sums);
  }
  return sums;
}
