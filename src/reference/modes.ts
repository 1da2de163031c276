// The CPU reference of the clipping modes beyond PyTorch's four: per-view and per-example norms,
// AGC, and the threshold rules of AutoClip and ZClip. Plain float64, like reference.ts: the CPU
// backend runs it and the GPU tests compare against it.
import { totalNormReference } from './norms';
import { gaussianBlock } from './philox';
import type { UnitShape } from '../core/types';

/** The p-norm of each array on its own. */
export function viewNormsReference(arrays: readonly ArrayLike<number>[], p: number): number[] {
  return arrays.map((a) => totalNormReference([a], p));
}

/** [start, end) element ranges of a view's units: its rows when it has a shape, else the whole view. */
export function unitRanges(length: number, shape?: UnitShape): Array<[number, number]> {
  if (!shape) return [[0, length]];
  const [rows, cols] = shape;
  return Array.from({ length: rows }, (_, r): [number, number] => [r * cols, (r + 1) * cols]);
}

/** Opacus's per-example multiplier: min(1, maxNorm / (norm + 1e-6)), and 1 where that is NaN. */
export function perExampleMultiplier(norm: number, maxNorm: number): number {
  const m = Math.min(maxNorm / (norm + 1e-6), 1);
  return Number.isNaN(m) ? 1 : m;
}

/** DP-SGD's noise and divisor for perExampleReference (Opacus's add_noise and scale_grad). */
export interface PerExampleNoise {
  /** The examples summed: the first `examples` of the batch (default all; the rest are padding). */
  examples?: number;
  /** N(0, std²) per summed coordinate from the Philox stream of (seed, step) (reference/philox.ts). */
  noise?: { std: number; seed: bigint; step: number };
  /** The noisy sum is divided by this (default 1). */
  divisor?: number;
}

/** The noise stream's index of each view's first coordinate: its float offset in the sums, each view starting on a multiple of 4. */
export function sumCoordinateOffsets(lengths: readonly number[]): number[] {
  const offsets: number[] = [];
  let at = 0;
  for (const length of lengths) {
    offsets.push(at);
    at += 4 * Math.ceil(length / 4);
  }
  return offsets;
}

export interface PerExampleReference {
  /** Each example's L2 norm over all views. */
  norms: number[];
  multipliers: number[];
  numClipped: number;
  /** Per view, Σ over examples of multiplier × that example's slice (float64). */
  sums: Float64Array[];
}

/** DP-SGD clipping: view v holds `batchSize` slices of length / batchSize, one per example. */
export function perExampleReference(
  arrays: readonly ArrayLike<number>[],
  batchSize: number,
  maxNorm: number,
  { examples = batchSize, noise, divisor = 1 }: PerExampleNoise = {},
): PerExampleReference {
  const slice = (a: ArrayLike<number>, e: number) => {
    const n = a.length / batchSize;
    return Array.prototype.slice.call(a, e * n, (e + 1) * n) as number[];
  };
  const norms = Array.from({ length: examples }, (_, e) =>
    totalNormReference(
      arrays.map((a) => slice(a, e)),
      2,
    ),
  );
  const multipliers = norms.map((n) => perExampleMultiplier(n, maxNorm));
  const lengths = arrays.map((a) => a.length / batchSize);
  const starts = sumCoordinateOffsets(lengths);
  const sums = arrays.map((a, v) => {
    const n = lengths[v];
    const sum = new Float64Array(n);
    for (let e = 0; e < examples; e++) {
      for (let j = 0; j < n; j++) sum[j] += multipliers[e] * a[e * n + j];
    }
    // Coordinates come four to a Philox block: each block is drawn once.
    let block = { index: -1, normals: [] as readonly number[] };
    for (let j = 0; j < n; j++) {
      let added = 0;
      if (noise && noise.std !== 0) {
        const index = Math.floor((starts[v] + j) / 4);
        if (block.index !== index) block = { index, normals: gaussianBlock(noise.seed, noise.step, index) };
        added = noise.std * block.normals[(starts[v] + j) % 4];
      }
      sum[j] = (sum[j] + added) / divisor;
    }
    return sum;
  });
  return { norms, multipliers, numClipped: norms.filter((n) => n > maxNorm).length, sums };
}

/**
 * AGC's coefficient for one unit (Optax `adaptive_grad_clip`): with maxNorm = clipping ·
 * max(‖w‖, eps), 1 when ‖g‖ <= maxNorm, else maxNorm / max(‖g‖, 1e-6) (NaN propagates).
 */
export function agcCoefficient(gradNorm: number, paramNorm: number, clipping: number, eps: number): number {
  const maxNorm = clipping * (Number.isNaN(paramNorm) ? NaN : Math.max(paramNorm, eps));
  if (gradNorm <= maxNorm) return 1;
  return maxNorm / (Number.isNaN(gradNorm) ? NaN : Math.max(gradNorm, 1e-6));
}

/** numpy's default (linear) percentile of `values`, q in [0, 100]; NaN for no values. */
export function percentileReference(values: readonly number[], q: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const position = ((sorted.length - 1) * q) / 100;
  const lo = Math.floor(position);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (position - lo);
}

/** AutoClip (Seetharaman et al. 2020): the threshold is a percentile of the last `history` finite norms, this step's included. */
export class AutoClipRule {
  private readonly norms: number[] = [];
  private next = 0;
  threshold = Infinity;

  constructor(
    readonly percentile: number,
    readonly history: number,
  ) {}

  /** Records a norm (non-finite norms are not recorded) and returns this step's threshold. */
  observe(norm: number): number {
    if (Number.isFinite(norm)) {
      if (this.norms.length < this.history) this.norms.push(norm);
      else this.norms[this.next] = norm;
      this.next = (this.next + 1) % this.history;
    }
    this.threshold = this.norms.length === 0 ? Infinity : percentileReference(this.norms, this.percentile);
    return this.threshold;
  }
}

export interface ZClipSettings {
  alpha: number;
  zThreshold: number;
  warmupSteps: number;
  mode: 'zscore' | 'adaptive';
}

/** The ε in ZClip's z-score denominator, std + ε. */
export const ZCLIP_EPS = 1e-6;

/**
 * ZClip (Kumar et al. 2025): after `warmupSteps` finite norms (their mean and population
 * variance start the statistics) an EMA of the norm's mean and variance; a norm whose z-score
 * exceeds zThreshold is clipped to mean + zThreshold · std ('zscore') or to
 * mean + zThreshold² · std / z ('adaptive', the paper's adaptive scaling), and the EMA takes the
 * clipped value. Non-finite norms change nothing.
 */
export class ZClipRule {
  private readonly warmup: number[] = [];
  private initialized = false;
  mean = NaN;
  variance = NaN;
  threshold = Infinity;

  constructor(readonly settings: ZClipSettings) {}

  observe(norm: number): number {
    const { alpha, zThreshold, warmupSteps, mode } = this.settings;
    this.threshold = Infinity;
    if (!Number.isFinite(norm)) return this.threshold;
    if (!this.initialized) {
      this.warmup.push(norm);
      this.mean = this.warmup.reduce((s, x) => s + x, 0) / this.warmup.length;
      this.variance = this.warmup.reduce((s, x) => s + (x - this.mean) ** 2, 0) / this.warmup.length;
      this.initialized = this.warmup.length >= warmupSteps;
      return this.threshold;
    }
    const std = Math.sqrt(this.variance);
    const z = (norm - this.mean) / (std + ZCLIP_EPS);
    let effective = norm;
    if (z > zThreshold) {
      this.threshold =
        mode === 'zscore' ? this.mean + zThreshold * std : this.mean + (zThreshold * zThreshold * std) / z;
      effective = this.threshold;
    }
    this.mean = alpha * this.mean + (1 - alpha) * effective;
    this.variance = alpha * this.variance + (1 - alpha) * (effective - this.mean) ** 2;
    return this.threshold;
  }

  get std(): number {
    return Math.sqrt(this.variance);
  }
}
