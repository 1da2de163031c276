/**
 * gradclip: gradient clipping for WebGPU training loops, with PyTorch's semantics
 * (`clip_grad_norm_`, `get_total_norm`, `clip_grads_with_norm_`, `clip_grad_value_`) and a float64
 * CPU fallback. The float64 reference helpers are in `gradclip/reference`.
 *
 * @example
 * const clipper = await createClipper({ device });
 * const grads = clipper.gradients(views);            // once
 * const norm = clipper.clipGradNorm(grads, 1.0, { encoder }); // every step, nothing read back
 * console.log(await norm.read());                    // when you want the number
 * @packageDocumentation
 */
export { createClipper } from './api/create';
export { createGradScaler } from './api/amp';
export {
  computeRdp,
  createRdpAccountant,
  DEFAULT_ORDERS,
  getNoiseMultiplier,
  getPrivacySpent,
  type RdpAccountant,
  type RdpHistoryEntry,
  type RdpOptions,
} from './reference/rdp';
export type { GradScaler, GradScalerOptions, GradScalerState, GpuValue } from './core/amp-types';
export { createGradientArena, ARENA_ALIGNMENT_BYTES } from './api/arena';
export { GradclipError, type GradclipErrorCode } from './core/errors';
export {
  gradientsFromTfjs,
  submitTfjsWork,
  tfjsTensorBuffer,
  type TfjsTensorLike,
  type TfjsWebGPUBackendLike,
} from './interop/tfjs';
export { createOptimizer } from './api/optimizer';
export type {
  Optimizer,
  OptimizerOptions,
  OptimizerState,
  OptimizerStepOptions,
  PrivacyOptions,
  PrivateStepOptions,
} from './core/optimizer-types';
export type { OptimizerKind } from './core/optimizer-types';
export { createAutoClip, createZClip } from './api/adaptive';
export type { AutoClip, AutoClipOptions, StepOptions, ZClip, ZClipOptions } from './core/adaptive-types';
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
  ClipperTuning,
  EncoderOption,
  Float16ArrayLike,
  GradDtype,
  GradSet,
  GradView,
  NormHandle,
  NormOptions,
  NormType,
  TuningCandidate,
} from './core/types';
