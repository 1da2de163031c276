/**
 * `gradclip/reference`: the float64 oracles the CPU backend runs and every test compares against —
 * plain, exact definitions of each norm, clipping decision, mode and optimizer step, kept simple
 * rather than fast.
 *
 * @example
 * import { totalNormReference, clipDecision } from 'gradclip/reference';
 * const norm = totalNormReference([new Float32Array([3, 4])], 2); // 5
 * clipDecision(norm, 1); // { scale: true, coef: 1 / (5 + 1e-6), nonfiniteError: false }
 * @packageDocumentation
 */
export {
  totalNormReference,
  clipDecision,
  scaleInPlace,
  clampInPlace,
  type ClipDecision,
  type FloatArrayLike,
} from './norms';
export {
  viewNormsReference,
  perExampleReference,
  perExampleMultiplier,
  sumCoordinateOffsets,
  agcCoefficient,
  percentileReference,
  unitRanges,
  AutoClipRule,
  ZClipRule,
  type PerExampleNoise,
  type PerExampleReference,
  type ZClipSettings,
} from './modes';
export { OptimizerReference, type ReferenceStepResult } from './optimizer';
export { gaussianBlock, gaussianOf, noiseCounter, noiseKey, PHILOX, philox4x32, uniformOfWord } from './philox';
export type { OptimizerKind, OptimizerSettings } from '../core/optimizer-types';
