import type { AutoClipConfig, ZClipConfig } from '../core/adaptive-types';
import { GradclipError } from '../core/errors';
import { NORM_KINDS } from '../core/abi';
import type { OptimizerSettings } from '../core/optimizer-types';
import { OPTION_KEYS, readOptions } from '../core/options';

/** The WGSL `normKind` override: NORM_KIND_MAX (∞), _L1, _L2, or _P for any other p. */
export type NormKind = (typeof NORM_KINDS)[keyof typeof NORM_KINDS];

export function describe(value: unknown): string {
  if (typeof value === 'number') return String(value);
  return typeof value === 'string' ? JSON.stringify(value) : typeof value;
}

/** Throws unless `device` looks like a GPUDevice (WebGPU gives no brand check that works across realms). */
export function checkDevice(device: unknown, name = 'device'): GPUDevice {
  const d = device as Partial<GPUDevice> | null;
  const ok =
    typeof d === 'object' &&
    d !== null &&
    typeof d.createBuffer === 'function' &&
    typeof d.createBindGroup === 'function' &&
    typeof d.queue === 'object' &&
    typeof d.limits === 'object' &&
    typeof d.features === 'object' &&
    d.lost instanceof Promise;
  if (!ok) {
    throw new GradclipError(
      'invalid-argument',
      `${name} must be a GPUDevice (from adapter.requestDevice()), got ${device === null ? 'null' : describe(device)}`,
    );
  }
  return device as GPUDevice;
}

/** Throws unless `maxNorm` is a number ≥ 0 (Infinity allowed). */
export function checkMaxNorm(maxNorm: unknown, name = 'maxNorm'): number {
  if (typeof maxNorm !== 'number' || Number.isNaN(maxNorm) || maxNorm < 0) {
    throw new GradclipError('invalid-argument', `${name} must be a number >= 0, got ${describe(maxNorm)}`);
  }
  return maxNorm;
}

/** Throws unless `normType` is > 0, `Infinity` or PyTorch's `'inf'`; returns p and its kernel specialisation. */
export function checkNormType(value: unknown = 2): { p: number; kind: NormKind } {
  const normType = value === 'inf' ? Infinity : value;
  if (typeof normType !== 'number' || Number.isNaN(normType) || normType <= 0) {
    throw new GradclipError(
      'invalid-argument',
      `normType must be a number > 0, Infinity or 'inf', got ${describe(value)}`,
    );
  }
  const { NORM_KIND_MAX, NORM_KIND_L1, NORM_KIND_L2, NORM_KIND_P } = NORM_KINDS;
  const kind: NormKind =
    normType === Infinity ? NORM_KIND_MAX : normType === 1 ? NORM_KIND_L1 : normType === 2 ? NORM_KIND_L2 : NORM_KIND_P;
  return { p: normType, kind };
}

/** Clip bounds of `clipGradValue`: a number c ≥ 0 means [-c, c]; `{ min, max }` needs min <= max. */
export function checkClipRange(clip: unknown): { min: number; max: number } {
  if (typeof clip === 'number') {
    if (Number.isNaN(clip) || clip < 0) {
      throw new GradclipError('invalid-argument', `clip must be a number >= 0, got ${describe(clip)}`);
    }
    return { min: -clip, max: clip };
  }
  if (clip !== null && typeof clip === 'object') {
    const { min, max } = readOptions(clip as { min: unknown; max: unknown }, OPTION_KEYS.clipRange, 'clip');
    if (typeof min !== 'number' || Number.isNaN(min)) {
      throw new GradclipError('invalid-argument', `clip.min must be a number, got ${describe(min)}`);
    }
    if (typeof max !== 'number' || Number.isNaN(max)) {
      throw new GradclipError('invalid-argument', `clip.max must be a number, got ${describe(max)}`);
    }
    if (min > max) {
      throw new GradclipError('invalid-argument', `clip.min (${min}) must be <= clip.max (${max})`);
    }
    return { min, max };
  }
  throw new GradclipError('invalid-argument', `clip must be a number or { min, max }, got ${describe(clip)}`);
}

/** Throws unless `totalNorm` given as a number is >= 0 or non-finite (NaN/Inf propagate). */
export function checkGivenNorm(totalNorm: number): number {
  if (totalNorm < 0) {
    throw new GradclipError('invalid-argument', `totalNorm must be >= 0, got ${totalNorm}`);
  }
  return totalNorm;
}

/** `onNonfinite` of clipGradNorm: 'propagate' (default) or 'skip'. */
export function checkOnNonfinite(onNonfinite: unknown = 'propagate'): 'propagate' | 'skip' {
  if (onNonfinite !== 'propagate' && onNonfinite !== 'skip') {
    throw new GradclipError(
      'invalid-argument',
      `onNonfinite must be 'propagate' or 'skip', got ${describe(onNonfinite)}`,
    );
  }
  return onNonfinite;
}

/** Most norms an AutoClip history or a ZClip warm-up holds (its percentile is ranked on one workgroup). */
export const MAX_HISTORY = 4096;

export function checkNumberIn(
  name: string,
  value: unknown,
  low: number,
  high: number,
  openLow: boolean,
  openHigh: boolean,
): number {
  const ok =
    typeof value === 'number' &&
    !Number.isNaN(value) &&
    (openLow ? value > low : value >= low) &&
    (openHigh ? value < high : value <= high);
  if (!ok) {
    const range = `${openLow ? '(' : '['}${low}, ${high}${openHigh ? ')' : ']'}`;
    throw new GradclipError('invalid-argument', `${name} must be a number in ${range}, got ${describe(value)}`);
  }
  return value as number;
}

export function checkIntegerIn(name: string, value: unknown, low: number, high: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < low || value > high) {
    throw new GradclipError(
      'invalid-argument',
      `${name} must be an integer in [${low}, ${high}], got ${describe(value)}`,
    );
  }
  return value;
}

/** `batchSize` of clipPerExample: a positive integer dividing every view's length. */
export function checkBatchSize(batchSize: unknown, lengths: readonly number[]): number {
  const b = checkIntegerIn('batchSize', batchSize, 1, Number.MAX_SAFE_INTEGER);
  lengths.forEach((length, i) => {
    if (length % b !== 0) {
      throw new GradclipError('invalid-argument', `batchSize ${b} does not divide views[${i}]'s length ${length}`);
    }
  });
  return b;
}

/** AGC's `clipping` (> 0) and `eps` (>= 0). */
export function checkAgcOptions(clipping: unknown = 0.01, eps: unknown = 1e-3): { clipping: number; eps: number } {
  return {
    clipping: checkNumberIn('clipping', clipping, 0, Infinity, true, true),
    eps: checkNumberIn('eps', eps, 0, Infinity, false, true),
  };
}

/** AGC's two sets must match view for view: the same lengths and shapes. */
export function checkSameUnits(
  grads: readonly { length: number; shape?: readonly number[] }[],
  params: readonly { length: number; shape?: readonly number[] }[],
): void {
  if (grads.length !== params.length) {
    throw new GradclipError(
      'invalid-argument',
      `grads has ${grads.length} views but params has ${params.length}; they must match view for view`,
    );
  }
  grads.forEach((g, i) => {
    const p = params[i];
    const shapeOf = (v: { shape?: readonly number[] }) => (v.shape ? `[${v.shape.join(', ')}]` : 'none');
    if (g.length !== p.length || shapeOf(g) !== shapeOf(p)) {
      throw new GradclipError(
        'invalid-argument',
        `grads views[${i}] (length ${g.length}, shape ${shapeOf(g)}) does not match params views[${i}] (length ${p.length}, shape ${shapeOf(p)})`,
      );
    }
  });
}

/** AutoClip's options: percentile in [0, 100], history an integer in [1, MAX_HISTORY]. */
export function checkAutoClipOptions(value?: { percentile?: unknown; history?: unknown } | null): AutoClipConfig {
  const options = readOptions(value, OPTION_KEYS.autoClip, 'options');
  return {
    percentile: checkNumberIn('percentile', options.percentile ?? 10, 0, 100, false, false),
    history: checkIntegerIn('history', options.history ?? 1000, 1, MAX_HISTORY),
  };
}

/** ZClip's options: alpha in (0, 1), zThreshold > 0, warmupSteps in [1, MAX_HISTORY], mode 'zscore' or 'adaptive'. */
export function checkZClipOptions(
  value?: { alpha?: unknown; zThreshold?: unknown; warmupSteps?: unknown; mode?: unknown } | null,
): ZClipConfig {
  const options = readOptions(value, OPTION_KEYS.zClip, 'options');
  const mode = options.mode ?? 'zscore';
  if (mode !== 'zscore' && mode !== 'adaptive') {
    throw new GradclipError('invalid-argument', `mode must be 'zscore' or 'adaptive', got ${describe(mode)}`);
  }
  return {
    alpha: checkNumberIn('alpha', options.alpha ?? 0.97, 0, 1, true, true),
    zThreshold: checkNumberIn('zThreshold', options.zThreshold ?? 2.5, 0, Infinity, true, true),
    warmupSteps: checkIntegerIn('warmupSteps', options.warmupSteps ?? 25, 1, MAX_HISTORY),
    mode,
  };
}

/** createOptimizer's settings with PyTorch's defaults filled in and each checked. */
export function checkOptimizerSettings(options: {
  kind?: unknown;
  lr?: unknown;
  momentum?: unknown;
  dampening?: unknown;
  nesterov?: unknown;
  betas?: unknown;
  eps?: unknown;
  weightDecay?: unknown;
  clip?: unknown;
}): OptimizerSettings {
  const kind = options.kind;
  if (kind !== 'sgd' && kind !== 'adam' && kind !== 'adamw') {
    throw new GradclipError('invalid-argument', `kind must be 'sgd', 'adam' or 'adamw', got ${describe(kind)}`);
  }
  const lr = checkNumberIn('lr', options.lr, 0, Infinity, false, true);
  const momentum = checkNumberIn('momentum', options.momentum ?? 0, 0, Infinity, false, true);
  const dampening = checkNumberIn('dampening', options.dampening ?? 0, 0, 1, false, false);
  const nesterov = options.nesterov ?? false;
  if (typeof nesterov !== 'boolean')
    throw new GradclipError('invalid-argument', `nesterov must be a boolean, got ${describe(nesterov)}`);
  if (nesterov && (momentum <= 0 || dampening !== 0)) {
    throw new GradclipError('invalid-argument', 'nesterov needs momentum > 0 and dampening 0 (as torch.optim.SGD)');
  }
  const betas = options.betas ?? [0.9, 0.999];
  if (!Array.isArray(betas) || betas.length !== 2)
    throw new GradclipError('invalid-argument', `betas must be [beta1, beta2], got ${describe(betas)}`);
  const beta1 = checkNumberIn('betas[0]', betas[0], 0, 1, false, true);
  const beta2 = checkNumberIn('betas[1]', betas[1], 0, 1, false, true);
  const eps = checkNumberIn('eps', options.eps ?? 1e-8, 0, Infinity, false, true);
  const weightDecay = checkNumberIn(
    'weightDecay',
    options.weightDecay ?? (kind === 'adamw' ? 1e-2 : 0),
    0,
    Infinity,
    false,
    true,
  );
  let clip: OptimizerSettings['clip'] = null;
  if (options.clip !== undefined && options.clip !== null) {
    const c = options.clip as { maxNorm?: unknown; normType?: unknown; value?: unknown };
    if (typeof c !== 'object')
      throw new GradclipError(
        'invalid-argument',
        `clip must be { maxNorm, normType? } or { value }, got ${describe(c)}`,
      );
    if ('maxNorm' in c) {
      readOptions(c, OPTION_KEYS.optimizerClipNorm, 'clip');
      clip = { maxNorm: checkMaxNorm(c.maxNorm, 'clip.maxNorm'), normType: checkNormType(c.normType).p };
    } else if ('value' in c) {
      readOptions(c, OPTION_KEYS.optimizerClipValue, 'clip');
      clip = { value: checkNumberIn('clip.value', c.value, 0, Infinity, false, true) };
    } else {
      throw new GradclipError('invalid-argument', 'clip must be { maxNorm, normType? } or { value }');
    }
  }
  return { kind, lr, momentum, dampening, nesterov, betas: [beta1, beta2], eps, weightDecay, clip };
}

/** An optimizer state to set: a step count and one moment array per view of each view's length. */
export function checkOptimizerState(
  state: unknown,
  lengths: readonly number[],
): { step: number; first: ArrayLike<number>[]; second: ArrayLike<number>[] } {
  const s = state as { step?: unknown; first?: unknown; second?: unknown } | null;
  if (!s || typeof s !== 'object') throw new GradclipError('invalid-argument', 'state must be { step, first, second }');
  const step = checkIntegerIn('state.step', s.step, 0, 2 ** 31 - 1);
  const moments = (name: 'first' | 'second') => {
    const list = s[name];
    if (!Array.isArray(list) || list.length !== lengths.length) {
      throw new GradclipError('invalid-argument', `state.${name} must hold one array per view (${lengths.length})`);
    }
    list.forEach((a: { length?: unknown }, i) => {
      if (!a || a.length !== lengths[i])
        throw new GradclipError(
          'invalid-argument',
          `state.${name}[${i}] must have ${lengths[i]} elements, got ${String(a?.length)}`,
        );
    });
    return list as ArrayLike<number>[];
  };
  return { step, first: moments('first'), second: moments('second') };
}

/** A step's learning rate: a number >= 0. */
export function checkLearningRate(lr: unknown): number {
  return checkNumberIn('lr', lr, 0, Infinity, false, true);
}

/** The optimizer's parameter and gradient sets: two sets whose views match in length, view for view, and do not overlap. */
export function checkOptimizerSets(
  grads: readonly { length: number; buffer?: unknown; offsetBytes?: number; elementBytes?: number }[],
  params: readonly { length: number; buffer?: unknown; offsetBytes?: number }[],
  same: boolean,
): void {
  if (same) throw new GradclipError('invalid-argument', 'params and grads must be two different sets');
  if (grads.length !== params.length) {
    throw new GradclipError(
      'invalid-argument',
      `grads has ${grads.length} views but params has ${params.length}; they must match view for view`,
    );
  }
  grads.forEach((g, i) => {
    if (g.length !== params[i].length) {
      throw new GradclipError(
        'invalid-argument',
        `grads views[${i}] has ${g.length} elements but params views[${i}] has ${params[i].length}`,
      );
    }
  });
  // On the GPU a gradient must not share memory with a parameter, nor an f16 gradient a buffer.
  for (const g of grads) {
    for (const p of params) {
      if (g.buffer === undefined || g.buffer !== p.buffer || g.length === 0 || p.length === 0) continue;
      if (g.elementBytes === 2) {
        throw new GradclipError(
          'invalid-argument',
          'a buffer holds f16 gradients and f32 parameters: one buffer holds one dtype (keep the master weights apart)',
        );
      }
      const [a, b] = [g.offsetBytes!, p.offsetBytes!];
      if (a < b + 4 * p.length && b < a + 4 * g.length) {
        throw new GradclipError(
          'invalid-argument',
          `a gradient view overlaps a parameter view in the same buffer (bytes ${a} and ${b})`,
        );
      }
    }
  }
}
