// The public types of dynamic loss scaling (GradScaler, PyTorch's torch.amp.GradScaler) and the
// checked settings a backend's engine receives; the factory is in api/amp.ts.
import type { EncoderOption, GradSet } from './call-types';

export interface GradScalerOptions {
  /** The first scale (default 2 ** 16, PyTorch's; Keras's LossScaleOptimizer starts at 2 ** 15). Finite, > 0; kept as f32. */
  initScale?: number;
  /** The scale is multiplied by this after `growthInterval` steps without NaN/Inf (default 2; > 1). */
  growthFactor?: number;
  /** The scale is multiplied by this on a step with NaN/Inf (default 0.5; in (0, 1)). */
  backoffFactor?: number;
  /** Steps without NaN/Inf between growths (default 2000; a positive integer). */
  growthInterval?: number;
  /** false: the scale is 1 and every call behaves as without a scaler (default true). */
  enabled?: boolean;
}

/** A scaler's checked settings. */
export interface GradScalerConfig {
  initScale: number;
  growthFactor: number;
  backoffFactor: number;
  growthInterval: number;
  enabled: boolean;
}

/** What `state()` reads back and `loadState()` restores: PyTorch's `state_dict()`. */
export interface GradScalerState {
  scale: number;
  growthFactor: number;
  backoffFactor: number;
  growthInterval: number;
  /** Steps without NaN/Inf since the last growth or backoff. */
  growthTracker: number;
}

/** A value on the GPU: `buffer` holds it at byte `offset`. */
export interface GpuValue {
  readonly buffer: GPUBuffer;
  readonly offset: number;
}

/**
 * Dynamic loss scaling for f16 training (PyTorch's `torch.amp.GradScaler`): multiply the loss by
 * `scale`, backpropagate, then unscale (alone, fused into `clipGradNorm(…, { scaler })`, or inside
 * `createOptimizer(…, { scaler })`), and `update()`; the scale, the found-inf flag and the update
 * rule live on the GPU, so nothing is read back.
 */
export interface GradScaler {
  /** The current f32 scale on the GPU, for the loss or backward kernel to multiply by; null on the CPU backend. */
  readonly scale: GpuValue | null;
  /** The found-inf flag on the GPU (a u32, 1 when a check since the last update() saw NaN or ±Inf); null on the CPU backend. */
  readonly foundInf: GpuValue | null;
  /** Whether the scaler scales (`enabled` at creation). */
  readonly enabled: boolean;
  /** Reads the current scale back (1 when disabled). */
  getScale(): Promise<number>;
  /**
   * PyTorch's `unscale_`: every gradient of `set` × f32(1 / scale), in place; any NaN or ±Inf seen
   * sets the found-inf flag, kept on the GPU until update(). A second unscale of a set before
   * update() throws 'invalid-argument'.
   */
  unscale(set: GradSet, options?: EncoderOption | null): void;
  /** Reads back whether found-inf is set since the last update(). */
  readFoundInf(): Promise<boolean>;
  /**
   * PyTorch's update rule, on the GPU: back off on found-inf, else grow after `growthInterval`
   * steps (only to a finite scale); clears found-inf. Throws 'invalid-argument' when no unscale,
   * scaled clip or scaled optimizer step was recorded since the last update().
   */
  update(options?: { encoder?: GPUCommandEncoder } | null): void;
  /** Reads the state back (PyTorch's `state_dict()`). */
  state(): Promise<GradScalerState>;
  /** Restores a state from `state()` (queued before the next submitted work); found-inf is cleared. */
  loadState(state: GradScalerState): void;
  /** Releases the scaler's GPU state. */
  destroy(): void;
}
