// The fused optimizer's public types and the checked settings a backend's engine receives; the
// factory is in api/optimizer.ts, the float64 reference in reference/optimizer.ts.
import type { GradScaler } from './amp-types';
import type { GradSet, NormHandle, NormType } from './types';

export type OptimizerKind = 'sgd' | 'adam' | 'adamw';

export interface OptimizerSettings {
  kind: OptimizerKind;
  lr: number;
  momentum: number;
  dampening: number;
  nesterov: boolean;
  betas: [number, number];
  eps: number;
  weightDecay: number;
  /** Clip by the global norm, by value, or not at all. */
  clip: { maxNorm: number; normType: number } | { value: number } | null;
}

export interface OptimizerOptions {
  /** The parameters, updated in place; the same view lengths as `grads`, view for view. */
  params: GradSet;
  /** The gradients: read (and clipped on the fly), never written. */
  grads: GradSet;
  kind: OptimizerKind;
  lr: number;
  /** SGD momentum (default 0) and its dampening (default 0); nesterov needs momentum > 0 and dampening 0. */
  momentum?: number;
  dampening?: number;
  nesterov?: boolean;
  /** Adam's [beta1, beta2] (default [0.9, 0.999]) and eps (default 1e-8). */
  betas?: [number, number];
  eps?: number;
  /** L2 penalty for SGD and Adam, decoupled decay for AdamW (default 0; AdamW 0.01, as PyTorch). */
  weightDecay?: number;
  /** Clip by the global norm (PyTorch clip_grad_norm_) or by value (clip_grad_value_) first. */
  clip?: { maxNorm: number; normType?: NormType } | { value: number };
  /**
   * The gradients are scaled by this GradScaler: the update unscales them (no pass of its own),
   * and a step whose gradients hold NaN or ±Inf, or after any check since the scaler's last
   * update() that found one, is skipped whole (parameters and moments untouched, not counted). A
   * set already unscaled since the last update() is not unscaled again (PyTorch's scaler.step).
   */
  scaler?: GradScaler;
  /**
   * DP-SGD (Opacus's DPOptimizer): `grads` holds `batchSize` per-example gradients per view
   * (example-major, as clipPerExample reads them) and `params` one example's lengths. Each step
   * clips every example to `maxNorm`, sums, adds noise, divides and updates, all recorded; no
   * `clip` or `scaler` with it.
   */
  privacy?: PrivacyOptions;
}

export interface PrivacyOptions {
  /** Examples per batch (the per-example gradients' leading dimension). */
  batchSize: number;
  /** Each example's gradient is scaled by min(1, maxNorm / (‖g_i‖ + 1e-6)). */
  maxNorm: number;
  /** σ: each summed coordinate gets N(0, (σ · maxNorm)²); 0 adds none (clipping only, no privacy). */
  noiseMultiplier: number;
  /**
   * The noise's 64-bit Philox key, fixed for the optimizer's life; default a fresh one from
   * crypto.getRandomValues. Step n (from 0) draws clipPerExample's noise for { seed, step: n }.
   */
  seed?: number | bigint;
  /** The noised sum is divided by it: Opacus's expected batch size. Default batchSize. */
  divisor?: number;
}

/** A private optimizer's step: the optimizer's step options, and how many examples this batch holds. */
export interface PrivateStepOptions {
  /** Record into this encoder instead of submitting; the caller submits. */
  encoder?: GPUCommandEncoder;
  /** This step's learning rate; default the one given at creation. */
  lr?: number;
  /**
   * The first `examples` per-example gradients are this step's batch (Poisson sampling gives
   * batches of varying size); the rest is padding, never read. Default batchSize.
   */
  examples?: number;
}

export interface OptimizerStepOptions {
  /** Record into this encoder instead of submitting; the caller submits. */
  encoder?: GPUCommandEncoder;
  /** This step's learning rate (a schedule); default the one given at creation. */
  lr?: number;
  /** Timestamps around the one compute pass the call records (profiling; needs `timestamp-query`). */
  timestampWrites?: GPUComputePassTimestampWrites;
}

/** The optimizer state read back: steps taken and, per view, the first and second moments. */
export interface OptimizerState {
  /** Steps taken; a step skipped for NaN/Inf gradients is not counted (PyTorch's state['step']). */
  step: number;
  /** SGD's momentum buffers or Adam's first moments, one array per view. */
  first: Float32Array[];
  /** Adam's second moments (zeros for SGD), one array per view. */
  second: Float32Array[];
  /**
   * A private optimizer's next noise step (calls to step so far, skipped ones included); setState
   * resumes the noise from it (default `step`), so a restored run never draws the same noise twice.
   */
  noiseStep?: number;
}

export interface Optimizer {
  /**
   * One step: the gradients' norm (returned; its found-inf flag says whether the step was
   * skipped), the clip, and the update of parameters and state in place, all on the GPU.
   */
  step(options?: OptimizerStepOptions | PrivateStepOptions | null): NormHandle;
  /** Reads the state back (not per step). */
  state(): Promise<OptimizerState>;
  /**
   * Sets the state (a checkpoint from `state()`): the step count and, per view, the first and
   * second moments, each of its view's length. Takes effect before the next step.
   */
  setState(state: OptimizerState): void;
  /** Releases the optimizer's GPU buffers. */
  destroy(): void;
}
