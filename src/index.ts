/**
 * gradclip: gradient clipping for WebGPU training loops, with PyTorch's semantics
 * (`clip_grad_norm_`, `get_total_norm`, `clip_grads_with_norm_`, `clip_grad_value_`) and a float64
 * CPU fallback.
 * @packageDocumentation
 */
export { createClipper } from './create';
export { createGradientArena, ARENA_ALIGNMENT_BYTES } from './arena';
export { GradclipError, type GradclipErrorCode } from './errors';
export { totalNormReference, clipDecision, type ClipDecision } from './reference';
export {
  viewNormsReference,
  perExampleReference,
  perExampleMultiplier,
  agcCoefficient,
  percentileReference,
  unitRanges,
  AutoClipRule,
  ZClipRule,
  type PerExampleReference,
  type ZClipSettings,
} from './reference-modes';
export { gradientsFromTfjs, submitTfjsWork, tfjsTensorBuffer, type TfjsTensorLike, type TfjsWebGPUBackendLike } from './tfjs';
export {
  createOptimizer,
  type Optimizer,
  type OptimizerOptions,
  type OptimizerState,
  type OptimizerStepOptions,
} from './optimizer';
export { OptimizerReference, type OptimizerKind, type OptimizerSettings, type ReferenceStepResult } from './optimizer-reference';
export {
  createAutoClip,
  createZClip,
  type AutoClip,
  type AutoClipOptions,
  type StepOptions,
  type ZClip,
  type ZClipOptions,
} from './adaptive';
export type {
  AdaptiveGradClipOptions,
  NormsHandle,
  NormsOptions,
  PerExampleOptions,
  PerExampleResult,
  ThresholdHandle,
  UnitShape,
  Clipper,
  ClipperOptions,
  EncoderOption,
  Float16ArrayLike,
  GradDtype,
  GradSet,
  GradView,
  NormHandle,
  NormOptions,
  NormType,
} from './types';
