// Checks of a GradScaler's options and of a state to load (PyTorch's defaults and limits), thrown
// as GradclipError 'invalid-argument' naming the option before anything is allocated.
import type { GradScalerConfig, GradScalerOptions, GradScalerState } from '../core/amp-types';
import { GradclipError } from '../core/errors';
import { OPTION_KEYS, readOptions } from '../core/options';
import { checkIntegerIn, checkNumberIn, describe } from './validate';

/** The largest finite f32: a scale is kept as f32 and must stay finite. */
const F32_MAX = 3.4028234663852886e38;
/** Steps a growth interval and the growth tracker count at most (a u32 on the GPU). */
const MAX_INTERVAL = 2 ** 32 - 1;

function checkScale(name: string, value: unknown): number {
  const scale = checkNumberIn(name, value, 0, Infinity, true, true);
  if (Math.fround(scale) > F32_MAX || Math.fround(scale) === 0) {
    throw new GradclipError(
      'invalid-argument',
      `${name} must be a positive finite f32 (at most ${F32_MAX}, not below its smallest normal), got ${scale}`,
    );
  }
  return scale;
}

/** createGradScaler's options with PyTorch's defaults (2 ** 16, 2, 0.5, 2000, enabled). */
export function checkGradScalerOptions(value?: GradScalerOptions | null): GradScalerConfig {
  const options = readOptions(value, OPTION_KEYS.gradScaler, 'options');
  const enabled = options.enabled ?? true;
  if (typeof enabled !== 'boolean')
    throw new GradclipError('invalid-argument', `options.enabled must be a boolean, got ${describe(enabled)}`);
  return {
    initScale: checkScale('initScale', options.initScale ?? 2 ** 16),
    growthFactor: checkNumberIn('growthFactor', options.growthFactor ?? 2, 1, Infinity, true, true),
    backoffFactor: checkNumberIn('backoffFactor', options.backoffFactor ?? 0.5, 0, 1, true, true),
    growthInterval: checkIntegerIn('growthInterval', options.growthInterval ?? 2000, 1, MAX_INTERVAL),
    enabled,
  };
}

/** A state to load: PyTorch's state_dict() fields, each checked as createGradScaler checks it. */
export function checkGradScalerState(value: unknown): GradScalerState {
  if (!value || typeof value !== 'object' || Array.isArray(value))
    throw new GradclipError(
      'invalid-argument',
      'state must be { scale, growthFactor, backoffFactor, growthInterval, growthTracker }',
    );
  const state = readOptions(value as GradScalerState, OPTION_KEYS.gradScalerState, 'state');
  const config = checkGradScalerOptions({
    initScale: state.scale,
    growthFactor: state.growthFactor,
    backoffFactor: state.backoffFactor,
    growthInterval: state.growthInterval,
  });
  return {
    scale: config.initScale,
    growthFactor: config.growthFactor,
    backoffFactor: config.backoffFactor,
    growthInterval: config.growthInterval,
    growthTracker: checkIntegerIn('state.growthTracker', state.growthTracker, 0, config.growthInterval - 1),
  };
}
