// Keras's gradient clipping for TF.js optimizers: TF.js's `tf.train.*` optimizers have no
// `clipnorm`, `clipvalue` or `global_clipnorm`; `clippedOptimizer` wraps one and clips before it
// applies, usable in `model.compile` / `model.fit` and in custom loops (`minimize`,
// `applyGradients`). On TF.js's WebGPU backend, on the clipper's device, the gradients are clipped
// in place on the GPU with no readback (a set per step over the step's new tensors, whose GPU
// resources the clipper pools); on other backends with TF.js ops and Keras 3's exact formulas.
import * as tf from '@tensorflow/tfjs-core';
import type { NamedTensor } from '@tensorflow/tfjs-core/dist/tensor_types';
import { GradclipError } from '../core/errors';
import { OPTION_KEYS, readOptions } from '../core/options';
import type { Clipper, NormHandle } from '../core/types';
import { gradientsFromTfjs } from './tfjs';

/** Keras 3's clipping options; at most one may be set (Keras raises otherwise). */
export interface KerasClipOptions {
  /** Each gradient scaled to at most this L2 norm: g · c / max(‖g‖, c). */
  clipnorm?: number;
  /** Each element clamped to [-clipvalue, clipvalue]. */
  clipvalue?: number;
  /** All gradients scaled together to at most this global L2 norm: g · c · min(1/‖G‖, 1/c). */
  globalClipnorm?: number;
  /** Called with the gradients' norm every `logEvery` steps (one readback each time; global and per-variable clipping). */
  onNorm?: (norm: number, step: number) => void;
  /** Steps between `onNorm` calls (default 100). */
  logEvery?: number;
}

type Clip = { kind: 'none' } | { kind: 'norm' | 'global' | 'value'; limit: number };

function checkClip(options: KerasClipOptions): Clip {
  const set = (['clipnorm', 'clipvalue', 'globalClipnorm'] as const).filter((key) => options[key] !== undefined);
  if (set.length > 1) {
    throw new GradclipError(
      'invalid-argument',
      `only one of clipnorm, clipvalue and globalClipnorm can be set (as in Keras), got ${set.join(' and ')}`,
    );
  }
  if (!set.length) return { kind: 'none' };
  const key = set[0];
  const limit = options[key];
  if (typeof limit !== 'number' || !(limit > 0) || limit === Infinity) {
    throw new GradclipError('invalid-argument', `${key} must be a finite number > 0, got ${String(limit)}`);
  }
  return { kind: key === 'clipnorm' ? 'norm' : key === 'clipvalue' ? 'value' : 'global', limit };
}

/** A TF.js optimizer that clips its gradients the Keras way before `inner` applies them. */
export class ClippedOptimizer extends tf.Optimizer {
  static className = 'GradclipClippedOptimizer';
  /** The gradients' norm of the latest step clipped on the GPU (global: the total; per-variable: the total too); null before. */
  lastNorm: NormHandle | null = null;
  private readonly options: KerasClipOptions;
  private readonly clip: Clip;
  private readonly logEvery: number;
  private steps = 0;

  constructor(
    /**
     * Clips on the GPU where TF.js runs on its device; null: always TF.js ops. Settable: a model
     * restored by loadLayersModel gets its optimizer back with none, so give it yours again.
     */
    public clipper: Clipper | null,
    readonly inner: tf.Optimizer,
    options?: KerasClipOptions | null,
  ) {
    super();
    this.options = readOptions(options, OPTION_KEYS.kerasClip, 'options');
    if (!(inner instanceof tf.Optimizer))
      throw new GradclipError(
        'invalid-argument',
        'inner must be a TF.js optimizer (tf.train.sgd(…), tf.train.adam(…), …)',
      );
    this.clip = checkClip(this.options);
    this.logEvery = this.options.logEvery ?? 100;
    if (!Number.isInteger(this.logEvery) || this.logEvery < 1)
      throw new GradclipError('invalid-argument', `logEvery must be an integer >= 1, got ${this.logEvery}`);
  }

  applyGradients(variableGradients: tf.NamedTensorMap | NamedTensor[]): void {
    const named = Array.isArray(variableGradients)
      ? variableGradients
      : Object.entries(variableGradients).map(([name, tensor]) => ({ name, tensor }));
    this.steps++;
    if (this.clip.kind === 'none' || named.length === 0) {
      this.inner.applyGradients(variableGradients);
    } else if (this.onClipperDevice(named)) {
      this.clipOnGpu(named, this.clip);
      this.inner.applyGradients(variableGradients);
    } else {
      const clipped = clipWithOps(named, this.clip);
      this.inner.applyGradients(clipped);
      tf.dispose(clipped.map((c) => c.tensor));
    }
  }

  async getWeights(): Promise<NamedTensor[]> {
    return this.inner.getWeights();
  }

  async setWeights(weightValues: NamedTensor[]): Promise<void> {
    await this.inner.setWeights(weightValues);
  }

  getConfig(): tf.serialization.ConfigDict {
    const { clipnorm, clipvalue, globalClipnorm } = this.options;
    return {
      ...(clipnorm !== undefined && { clipnorm }),
      ...(clipvalue !== undefined && { clipvalue }),
      ...(globalClipnorm !== undefined && { globalClipnorm }),
      inner: { className: this.inner.getClassName(), config: this.inner.getConfig() },
    };
  }

  /** Rebuilds from getConfig(): the inner optimizer by its registered class; clipping by TF.js ops until given a clipper. */
  static fromConfig<T extends tf.serialization.Serializable>(
    cls: tf.serialization.SerializableConstructor<T>,
    config: tf.serialization.ConfigDict,
  ): T {
    // Only the saved keys: TF.js's loaders add their own (customObjects) beside them.
    const { inner, clipnorm, clipvalue, globalClipnorm } = config as unknown as {
      inner: { className: string; config: tf.serialization.ConfigDict };
    } & KerasClipOptions;
    const clip: KerasClipOptions = {
      ...(clipnorm !== undefined && { clipnorm }),
      ...(clipvalue !== undefined && { clipvalue }),
      ...(globalClipnorm !== undefined && { globalClipnorm }),
    };
    const entry = tf.serialization.SerializationMap.getMap().classNameMap[inner.className];
    if (!entry)
      throw new GradclipError(
        'invalid-argument',
        `inner optimizer class ${inner.className} is not registered with TF.js`,
      );
    const [innerClass, fromConfig] = entry;
    const innerOptimizer = fromConfig(innerClass, inner.config) as unknown as tf.Optimizer;
    return new (cls as unknown as typeof ClippedOptimizer)(null, innerOptimizer, clip) as unknown as T;
  }

  dispose(): void {
    this.inner.dispose();
    super.dispose();
  }

  /** True when TF.js runs on WebGPU on the clipper's device and every gradient is float32. */
  private onClipperDevice(named: NamedTensor[]): boolean {
    const { clipper } = this;
    if (clipper?.backend !== 'webgpu' || tf.getBackend() !== 'webgpu') return false;
    const backend = tf.backend() as unknown as { device?: GPUDevice };
    return backend.device === clipper.device && named.every((n) => n.tensor.dtype === 'float32');
  }

  private clipOnGpu(named: NamedTensor[], clip: Exclude<Clip, { kind: 'none' }>): void {
    const clipper = this.clipper!;
    const set = gradientsFromTfjs(
      clipper,
      named.map((n) => n.tensor),
    );
    if (clip.kind === 'value') {
      clipper.clipGradValue(set, clip.limit);
      this.lastNorm = null;
      return;
    }
    this.lastNorm =
      clip.kind === 'global' ? clipper.clipGradNorm(set, clip.limit) : clipper.clipByNorm(set, clip.limit).total;
    const { onNorm } = this.options;
    if (onNorm && this.steps % this.logEvery === 0) {
      const step = this.steps;
      void this.lastNorm.read().then((norm) => onNorm(norm, step));
    }
  }
}
tf.serialization.registerClass(ClippedOptimizer);

/** Keras 3's clipping with TF.js ops (new tensors, which the caller disposes). */
export function clipWithOps(named: readonly NamedTensor[], clip: Exclude<Clip, { kind: 'none' }>): NamedTensor[] {
  return tf.tidy(() => {
    const c = clip.limit;
    if (clip.kind === 'value')
      return named.map(({ name, tensor }) => ({ name, tensor: tf.clipByValue(tensor, -c, c) }));
    if (clip.kind === 'norm') return named.map(({ name, tensor }) => ({ name, tensor: clipByNormKeras(tensor, c) }));
    // clip_by_global_norm: scale = c · min(1/‖G‖, 1/c), NaN when ‖G‖ is not finite.
    const norm = tf.sqrt(sumPairwise(named.map(({ tensor }) => tf.sum(tf.square(tensor)))));
    const scale = tf.add(tf.mul(c, tf.minimum(tf.div(1, norm), 1 / c)), tf.sub(norm, norm));
    return named.map(({ name, tensor }) => ({ name, tensor: tf.mul(tensor, scale) }));
  });
}

/**
 * The sum of scalars by pairwise adds: tf.addN binds every input at once, and TF.js's WebGPU
 * kernel for it fails validation past the device's storage-buffer limit (8 by default).
 */
function sumPairwise(scalars: tf.Tensor[]): tf.Tensor {
  let level = scalars;
  while (level.length > 1) {
    const next: tf.Tensor[] = [];
    for (let i = 0; i < level.length; i += 2)
      next.push(i + 1 < level.length ? tf.add(level[i], level[i + 1]) : level[i]);
    level = next;
  }
  return level[0] ?? tf.scalar(0);
}

/** Keras 3's `_clip_by_norm`: g · c / max(‖g‖, c), with the two-tap where for a zero norm. */
function clipByNormKeras(g: tf.Tensor, c: number): tf.Tensor {
  const l2sum = tf.sum(tf.square(g));
  const positive = tf.greater(l2sum, 0);
  const l2norm = tf.where(positive, tf.sqrt(tf.where(positive, l2sum, tf.onesLike(l2sum))), l2sum);
  return tf.div(tf.mul(g, c), tf.maximum(l2norm, c));
}

/**
 * Wraps a TF.js optimizer with Keras 3's `clipnorm`, `clipvalue` or `global_clipnorm`, for
 * `model.compile({ optimizer })` and custom loops alike.
 *
 * @example
 * model.compile({ optimizer: clippedOptimizer(clipper, tf.train.adam(1e-3), { globalClipnorm: 1 }), loss: 'meanSquaredError' });
 * await model.fit(xs, ys, { epochs: 10 });
 */
export function clippedOptimizer(
  clipper: Clipper | null,
  inner: tf.Optimizer,
  options?: KerasClipOptions | null,
): ClippedOptimizer {
  return new ClippedOptimizer(clipper, inner, options);
}
