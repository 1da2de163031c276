/// <reference types="@webgpu/types" />

/**
 * One gradient tensor. On the WebGPU backend: a range of a GPU buffer (`offset` in bytes, a
 * multiple of 4; `length` in float32 elements) or a whole buffer. On the CPU backend: a
 * `Float32Array`.
 */
export type GradView =
  | { buffer: GPUBuffer; offset: number; length: number }
  | GPUBuffer
  | Float32Array;

/** A validated, planned set of gradient views; build once with `clipper.gradients()`, reuse every step. */
export interface GradSet {
  /** Number of views in the set. */
  readonly viewCount: number;
  /** Total float32 elements over all views. */
  readonly elementCount: number;
  /** Compute dispatches one norm pass records (grows with buffer groups, not with views). */
  readonly dispatchGroups: number;
  /** True once the set or its clipper was destroyed. */
  readonly destroyed: boolean;
}

/** A total norm computed on the GPU (or CPU); nothing is read back until `read()`. */
export interface NormHandle {
  /** Reads the norm back (one small copy and map). Rejects if `errorIfNonfinite` tripped. */
  read(): Promise<number>;
  /** The GPU buffer holding the norm as f32 at byte `offset` (null on the CPU backend). */
  readonly buffer: GPUBuffer | null;
  /** Byte offset of the f32 norm in `buffer` (0 on the CPU backend). */
  readonly offset: number;
  /**
   * GPU buffer holding a u32 that is 1 when any element of the set was NaN or ±Inf, else 0, at
   * byte `foundInfOffset` (AMP's `found_inf`, Apex's `noop_flag`; null on the CPU backend). An
   * optimizer kernel can read it to skip its step without a readback.
   */
  readonly foundInf: GPUBuffer | null;
  /** Byte offset of the found-inf u32 in `foundInf` (0 on the CPU backend). */
  readonly foundInfOffset: number;
  /** Reads the found-inf flag back: true when any element was NaN or ±Inf. */
  readFoundInf(): Promise<boolean>;
}

export interface NormOptions {
  /** p of the p-norm: any p > 0, or `Infinity` for max |g|. Default 2. */
  normType?: number;
  /** Make `read()` reject when the norm is NaN or ±Inf; gradients are then left unchanged. */
  errorIfNonfinite?: boolean;
  /**
   * What a NaN or ±Inf norm does to the gradients: 'propagate' (default, PyTorch: NaN gradients,
   * or zeros and NaN for Inf) or 'skip' (leave every gradient unchanged and set the found-inf flag,
   * so an optimizer reading it on the GPU skips the step). Ignored by getTotalNorm.
   */
  onNonfinite?: 'propagate' | 'skip';
  /** Record into this encoder instead of submitting; the caller submits. */
  encoder?: GPUCommandEncoder;
  /** Timestamps around the one compute pass the call records (profiling; needs `timestamp-query`). */
  timestampWrites?: GPUComputePassTimestampWrites;
}

export interface EncoderOption {
  /** Record into this encoder instead of submitting; the caller submits. */
  encoder?: GPUCommandEncoder;
  /** Timestamps around the one compute pass the call records (profiling; needs `timestamp-query`). */
  timestampWrites?: GPUComputePassTimestampWrites;
}

/** Gradient clipping on one backend; see `createClipper`. */
export interface Clipper {
  readonly backend: 'webgpu' | 'cpu';
  readonly device: GPUDevice | null;
  /** Validates and plans a set of views once; the set is reused every step. */
  gradients(views: GradView[]): GradSet;
  /** PyTorch `clip_grad_norm_`: scales every view by min(1, maxNorm / (norm + 1e-6)) when norm > maxNorm. */
  clipGradNorm(set: GradSet, maxNorm: number, options?: NormOptions): NormHandle;
  /** PyTorch `get_total_norm`: the p-norm over all views, nothing written. */
  getTotalNorm(set: GradSet, options?: NormOptions): NormHandle;
  /** PyTorch `clip_grads_with_norm_`: clips by a norm computed before (a handle stays on the GPU). */
  clipGradsWithNorm(set: GradSet, maxNorm: number, totalNorm: NormHandle | number, options?: EncoderOption): void;
  /** PyTorch `clip_grad_value_`: clamps every element to [-clip, clip] or [min, max]; NaN stays NaN. */
  clipGradValue(set: GradSet, clip: number | { min: number; max: number }, options?: EncoderOption): void;
  /** Releases every GPU object the clipper made; its sets become unusable. */
  destroy(): void;
}

export interface ClipperOptions {
  /** Use this device; otherwise one is requested (with `subgroups` and `timestamp-query` where offered). */
  device?: GPUDevice;
  /** Use the CPU backend even where WebGPU is available. */
  forceCpu?: boolean;
  /**
   * Workgroup count cap for the norm and scale passes. Default: measured once per device by a
   * short autotune, or derived from limits when `autotune: false`.
   */
  maxWorkgroups?: number;
  /** Run the short per-device autotune (default true). */
  autotune?: boolean;
}
