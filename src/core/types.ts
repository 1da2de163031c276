/// <reference types="@webgpu/types" />
import type { GradScaler } from './amp-types';
import type { EncoderOption, GradSet } from './call-types';

export type { EncoderOption, GradSet } from './call-types';

/**
 * One gradient tensor. On the WebGPU backend: a range of a GPU buffer (`offset` in bytes; `length`
 * in elements of `dtype`, default `'f32'`) or a whole buffer of f32. On the CPU backend: a
 * `Float32Array`, or a `Float16Array` where the runtime has one.
 */
export type GradView =
  | { buffer: GPUBuffer; offset: number; length: number; dtype?: GradDtype; shape?: UnitShape }
  | GPUBuffer
  | Float32Array
  | Float16ArrayLike
  | { data: Float32Array | Float16ArrayLike; shape?: UnitShape };

/**
 * The element type of a GPU view: `'f32'`, or `'f16'` (half floats; needs a device with the
 * `shader-f16` feature). Norms accumulate in f32 either way; f16 views are scaled and clamped in
 * place in f16 (rounded to nearest). One buffer holds views of one dtype.
 */
export type GradDtype = 'f32' | 'f16';

/**
 * A `Float16Array` (ES2025), described by its shape so that projects whose TypeScript `lib`
 * predates it still compile; gradclip checks `instanceof Float16Array` at run time.
 */
export interface Float16ArrayLike {
  /** Tells it from the other typed arrays, which TypeScript would otherwise match by shape. */
  readonly [Symbol.toStringTag]: 'Float16Array';
  readonly BYTES_PER_ELEMENT: number;
  readonly buffer: ArrayBufferLike;
  readonly byteOffset: number;
  readonly byteLength: number;
  readonly length: number;
  [index: number]: number;
  subarray(begin?: number, end?: number): Float16ArrayLike;
}

/**
 * `[rows, cols]` of a 2-D tensor stored row-major (rows × cols = length): adaptive gradient
 * clipping then works unit-wise, one norm per row. A view may carry it as `shape` (a
 * Float32Array too, as an own property).
 */
export type UnitShape = readonly [rows: number, cols: number];

/** p of a p-norm: any number > 0, `Infinity`, or PyTorch's spelling `'inf'` for the max norm. */
export type NormType = number | 'inf';

/** A total norm computed on the GPU (or CPU); nothing is read back until `read()`. */
export interface NormHandle {
  /**
   * Reads the norm back as a float32 value (one small copy, recorded when `read()` is called, and
   * a map). Call it after the work that computes the norm was submitted. Rejects with
   * 'nonfinite-norm' if `errorIfNonfinite` tripped, and with 'stale-handle' once 256 later norms
   * of its set (or of a set sharing its resources) have claimed its slot; never resolves with
   * another call's value.
   */
  read(): Promise<number>;
  /** The GPU buffer holding the norm as f32 at byte `offset` (null on the CPU backend). */
  readonly buffer: GPUBuffer | null;
  /** Byte offset of the f32 norm in `buffer` (0 on the CPU backend). */
  readonly offset: number;
  /**
   * GPU buffer holding a u32 that is 1 when the norm was NaN or ±Inf (an element was, or a norm of
   * finite elements overflowed float32), else 0, at
   * byte `foundInfOffset` (AMP's `found_inf`, Apex's `noop_flag`; null on the CPU backend). An
   * optimizer kernel can read it to skip its step without a readback.
   */
  readonly foundInf: GPUBuffer | null;
  /** Byte offset of the found-inf u32 in `foundInf` (0 on the CPU backend). */
  readonly foundInfOffset: number;
  /** Reads the found-inf flag back: true when the norm was NaN or ±Inf (an element was, or the sum overflowed float32). */
  readFoundInf(): Promise<boolean>;
}

/**
 * A step's norm and the threshold it was clipped at (AutoClip, ZClip): the threshold is +Infinity
 * on a step that had none (ZClip's warm-up, no finite norm yet, or a norm not far enough out).
 */
export interface ThresholdHandle extends NormHandle {
  readThreshold(): Promise<number>;
  /** Byte offset of the f32 threshold in `buffer` (0 on the CPU backend), for a monitor that copies it on the GPU. */
  readonly thresholdOffset: number;
}

/** One norm per view (or per unit), computed on the GPU; nothing is read back until `read()`. */
export interface NormsHandle {
  /** Reads the norms back (one copy and map), one float per view in the set's order. */
  read(): Promise<Float32Array>;
  /**
   * GPU buffer holding the norms: view i's norm is the f32 at byte `offset + i * stride` (null on
   * the CPU backend). Overwritten by the next per-view call on the same set.
   */
  readonly buffer: GPUBuffer | null;
  readonly offset: number;
  /** Bytes between consecutive norms in `buffer` (8 on both backends: each norm is followed by its clip coefficient). */
  readonly stride: number;
  /** The total norm over the whole set, from the same pass (no second read of the gradients). */
  readonly total: NormHandle;
}

export interface NormsOptions {
  /** p of the p-norm: any p > 0, or `Infinity` (`'inf'`). Default 2. */
  normType?: NormType;
  /** Record into this encoder instead of submitting; the caller submits. */
  encoder?: GPUCommandEncoder;
  /** Timestamps around the one compute pass the call records (profiling; needs `timestamp-query`). */
  timestampWrites?: GPUComputePassTimestampWrites;
}

export interface PerExampleOptions {
  /** Examples per view: every view holds `batchSize` per-example gradients one after another. */
  batchSize: number;
  /** Each example's gradient (over all views) is scaled by min(1, maxNorm / (norm + 1e-6)) (Opacus). */
  maxNorm: number;
  /**
   * Only the first `examples` (default `batchSize`) per-example gradients are clipped, summed and
   * counted in numClipped; the rest of the batch is padding, never read (Poisson sampling gives
   * batches of varying size). An integer in [0, batchSize].
   */
  examples?: number;
  /**
   * DP-SGD's noise (Opacus's add_noise): each summed coordinate gets an independent N(0,
   * (multiplier · maxNorm)²) from Philox4x32-10 keyed by `seed` (an integer in [0, 2^64); default a
   * fresh one from crypto.getRandomValues per call), its counter the `step` (default 0) and the
   * coordinate's index in the sums (docs/guide/privacy.md). The same (seed, step) gives the same
   * noise bit for bit.
   */
  noise?: { multiplier: number; seed?: number | bigint; step?: number };
  /** The sum, noise included, is divided by this (Opacus divides by the expected batch size). Default 1. */
  divisor?: number;
  /**
   * Where the sums go: a buffer (STORAGE) of at least `sumBytes` bytes from `byteOffset`
   * (multiple of 256). Default: a buffer the clipper allocates once per set and batch size.
   */
  out?: { buffer: GPUBuffer; byteOffset?: number };
  /** Record into this encoder instead of submitting; the caller submits. */
  encoder?: GPUCommandEncoder;
  /** Timestamps around the one compute pass the call records (profiling; needs `timestamp-query`). */
  timestampWrites?: GPUComputePassTimestampWrites;
}

export interface PerExampleResult {
  /**
   * The clipped per-example gradients summed over the batch: one view per input view, of length
   * `length / batchSize` (on the CPU backend, Float32Arrays). The list is also a GradSet of the
   * clipper: pass it straight to clipGradNorm and the rest (made once; the same list every call).
   */
  sum: GradView[] & GradSet;
  /** How many of the first `examples` had a norm above maxNorm, as the handle's `read()`; its found-inf flag covers them. */
  numClipped: NormHandle;
}

export interface AdaptiveGradClipOptions {
  /** λ: the largest allowed ratio ‖g‖ / max(‖w‖, eps) per unit. Default 0.01. */
  clipping?: number;
  /** Floor on a unit's parameter norm (so zero-initialised units can move). Default 1e-3. */
  eps?: number;
  /** Record into this encoder instead of submitting; the caller submits. */
  encoder?: GPUCommandEncoder;
  /** Timestamps around the one compute pass the call records (profiling; needs `timestamp-query`). */
  timestampWrites?: GPUComputePassTimestampWrites;
}

export interface NormOptions {
  /** p of the p-norm: any p > 0, or `Infinity` (`'inf'`) for max |g|. Default 2. */
  normType?: NormType;
  /** Make `read()` reject when the norm is NaN or ±Inf; gradients are then left unchanged. */
  errorIfNonfinite?: boolean;
  /**
   * What a NaN or ±Inf norm does to the gradients: 'propagate' (default, PyTorch: NaN gradients,
   * or zeros and NaN for Inf) or 'skip' (leave every gradient unchanged and set the found-inf flag,
   * so an optimizer reading it on the GPU skips the step). Ignored by getTotalNorm.
   */
  onNonfinite?: 'propagate' | 'skip';
  /**
   * The gradients are scaled by this GradScaler (mixed precision): the norm is the unscaled
   * gradients', a NaN or ±Inf sets the scaler's found-inf flag (and changes nothing: 'skip'), and
   * clipGradNorm unscales as it clips, in one write. A set unscaled since the scaler's last
   * update() is not scaled any more: 'invalid-argument'.
   */
  scaler?: GradScaler;
  /** Record into this encoder instead of submitting; the caller submits. */
  encoder?: GPUCommandEncoder;
  /** Timestamps around the one compute pass the call records (profiling; needs `timestamp-query`). */
  timestampWrites?: GPUComputePassTimestampWrites;
}

/** Gradient clipping on one backend; see `createClipper`. */
export interface Clipper {
  readonly backend: 'webgpu' | 'cpu';
  readonly device: GPUDevice | null;
  /**
   * Why a clipper created with `backend: 'auto'` runs on the CPU although WebGPU was wanted (no
   * `navigator.gpu`, no adapter, or the adapter's or device's failure); null on the GPU and when
   * the CPU was asked for.
   */
  readonly fallbackReason: string | null;
  /**
   * How the workgroup cap of the GPU passes was chosen: the autotune's candidates with their
   * timings and the choice, or the cap given. Null on the CPU backend (and once a clipper with
   * `onDeviceLost: 'cpu'` runs on the CPU). Nothing is measured when read.
   */
  readonly tuning: ClipperTuning | null;
  /** Validates and plans a set of views once; the set is reused every step. */
  gradients(views: GradView[]): GradSet;
  /** PyTorch `clip_grad_norm_`: scales every view by min(1, maxNorm / (norm + 1e-6)) when norm > maxNorm. */
  clipGradNorm(set: GradSet, maxNorm: number, options?: NormOptions | null): NormHandle;
  /** PyTorch `get_total_norm`: the p-norm over all views, nothing written. */
  getTotalNorm(set: GradSet, options?: NormOptions | null): NormHandle;
  /** PyTorch `clip_grads_with_norm_`: clips by a norm computed before (a handle stays on the GPU). */
  clipGradsWithNorm(
    set: GradSet,
    maxNorm: number,
    totalNorm: NormHandle | number,
    options?: EncoderOption | null,
  ): void;
  /** PyTorch `clip_grad_value_`: clamps every element to [-clip, clip] or [min, max]; NaN stays NaN. */
  clipGradValue(set: GradSet, clip: number | { min: number; max: number }, options?: EncoderOption | null): void;
  /** One norm per view (Keras `clipnorm` reads these), and the total, in one pass over the data. */
  perTensorNorms(set: GradSet, options?: NormsOptions | null): NormsHandle;
  /**
   * Keras `clipnorm` / `tf.clip_by_norm` per view: each view is scaled by maxNorm / (norm + 1e-6)
   * when its own norm exceeds maxNorm (NaN/Inf propagate per view, as clipGradNorm does).
   */
  clipByNorm(set: GradSet, maxNorm: number, options?: NormsOptions | null): NormsHandle;
  /**
   * DP-SGD (Optax `per_example_global_norm_clip`): every view holds `batchSize` examples; each
   * example is scaled by min(1, maxNorm / its L2 norm over all views) (1 when that is NaN) and the
   * batch is summed into `sum`. The input views are left unchanged.
   */
  clipPerExample(set: GradSet, options: PerExampleOptions): PerExampleResult;
  /**
   * AGC (Brock et al. 2021; Optax `adaptive_grad_clip`): per unit (a row when the view has a
   * `shape`, else the whole view) g ← g · clipping · max(‖w‖, eps) / max(‖g‖, 1e-6) where
   * ‖g‖ > clipping · max(‖w‖, eps). `grads` and `params` must be sets of the same view lengths and
   * shapes. Returns the total norm of the gradients before clipping.
   */
  adaptiveGradClip(grads: GradSet, params: GradSet, options?: AdaptiveGradClipOptions | null): NormHandle;
  /** Releases every GPU object the clipper made; its sets become unusable. */
  destroy(): void;
}

/** One workgroup cap the autotune timed (see `ClipperTuning`). */
export interface TuningCandidate {
  /** The cap: workgroups per dispatch group at most. */
  readonly maxWorkgroups: number;
  /**
   * Milliseconds per step, one per batch timed, in the order taken. A step is a norm pass and a
   * clamp pass over the tuning buffer (`ClipperTuning.elements` floats).
   */
  readonly samplesMs: readonly number[];
  /** What the choice compares: the median of `samplesMs`, in ms per step. */
  readonly medianMs: number;
  /** Timed in the final rounds (the chosen cap and its two neighbours, timed the most); the choice is the fastest of these. */
  readonly final: boolean;
}

/**
 * How a WebGPU clipper's workgroup cap was chosen (`clipper.tuning`). The autotune runs once per
 * device, when the first clipper on it is created; every later clipper on that device shares its result.
 */
export interface ClipperTuning {
  /** The cap every norm and scale pass of this clipper uses (at most `maxComputeWorkgroupsPerDimension`). */
  readonly maxWorkgroups: number;
  /**
   * `'autotune'`: measured on this device; `'stored'`: a tuning an earlier page measured on this
   * adapter, passed back as `createClipper({ tuning })`; `'option'`: `maxWorkgroups` was given;
   * `'default'`: `autotune: false`.
   */
  readonly source: 'autotune' | 'stored' | 'option' | 'default';
  /**
   * Which adapter (and which gradclip kernels) the measurement holds for: its vendor,
   * architecture, device and description, whether it is a CPU (fallback) adapter and its core
   * count, the limits the plans use, and the tuning format. A stored tuning whose key differs from
   * the device's is not used: the clipper tunes afresh.
   */
  readonly adapterKey: string;
  /**
   * The candidate of smallest `medianMs` among the `final` ones (`'autotune'` only, else null).
   * `maxWorkgroups` equals it, except when it is the largest cap the tuning buffer can use (one
   * workgroup per 4 096 floats): more parallelism then pays, and the cap is the device's limit.
   */
  readonly chosen: number | null;
  /** The caps timed, in increasing order (empty unless `'autotune'`); caps far from the fastest are never timed. */
  readonly candidates: readonly TuningCandidate[];
  /** Where the search started: the adapter's core count for a CPU (fallback) adapter, else a mid-size GPU's cap; null unless `'autotune'`. */
  readonly prior: number | null;
  /** How batches were timed: GPU timestamps where the device has `timestamp-query`, else the wall clock; null unless `'autotune'`. */
  readonly timer: 'timestamps' | 'wall' | null;
  /** Floats in the tuning buffer (0 unless `'autotune'`). */
  readonly elements: number;
  /** Wall-clock milliseconds the autotune took, buffers and warm-up included (0 unless `'autotune'`). */
  readonly elapsedMs: number;
}

export interface ClipperOptions {
  /** Use this device; otherwise one is requested (with `subgroups`, `timestamp-query` and `shader-f16` where offered). */
  device?: GPUDevice;
  /**
   * `'auto'` (default): WebGPU where a device can be had, else the CPU backend with the reason in
   * `fallbackReason`; `'webgpu'`: WebGPU or reject with GradclipError 'unsupported' carrying the
   * adapter's or device's failure as `cause`; `'cpu'`: the CPU backend.
   */
  backend?: 'auto' | 'webgpu' | 'cpu';
  /** Same as `backend: 'cpu'` (kept for older code). */
  forceCpu?: boolean;
  /**
   * Workgroup count cap for the norm and scale passes. Default: measured once per device by a
   * short autotune, or derived from limits when `autotune: false`.
   */
  maxWorkgroups?: number;
  /** Run the short per-device autotune (default true). */
  autotune?: boolean;
  /**
   * A `clipper.tuning` kept from an earlier page (for instance `JSON.stringify`-ed into
   * localStorage): used as it is when its `adapterKey` is this device's, so a reload skips the
   * autotune; otherwise the clipper tunes afresh (its `tuning.source` says which). Checked (each
   * field's type and range) before use; not with `maxWorkgroups` or `autotune: false`.
   */
  tuning?: ClipperTuning;
  /**
   * What the clipper does once its device is lost: `'throw'` (default): every call throws
   * 'device-lost'; `'cpu'`: calls on the GPU's sets still throw 'device-lost', and the clipper
   * switches to the CPU backend (`backend` becomes 'cpu'; `gradients()` then takes Float32Arrays).
   */
  onDeviceLost?: 'throw' | 'cpu';
}
