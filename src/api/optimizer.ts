// Fused clip + optimizer step (Apex FusedAdam / FusedLAMB with max_grad_norm): one step records
// the gradients' norm, a one-invocation pass that decides (skip on NaN/Inf, count the step, bias
// corrections) and one pass that clips and updates parameters and optimizer state in place. No
// readback and no allocation per step.
import { GradclipError } from '../core/errors';
import type { Optimizer, OptimizerOptions } from '../core/optimizer-types';
import type { Clipper } from '../core/types';
import { backendOf } from '../core/backend';
import { OPTION_KEYS, readOptions } from '../core/options';
import { checkOptimizerSettings } from '../plan/validate';
import { checkPrivacySettings } from '../plan/validate-privacy';
import { createPrivateOptimizer } from './private-optimizer';

/**
 * PyTorch's SGD, Adam or AdamW fused with gradient clipping, on the clipper's backend. Bad
 * settings throw (naming the option and its limit) before anything is allocated.
 *
 * @example
 * const optimizer = createOptimizer(clipper, { params, grads, kind: 'adamw', lr: 3e-4, clip: { maxNorm: 1 } });
 * optimizer.step({ encoder, lr: schedule(step) }); // clip + AdamW in place; skips NaN/Inf steps
 *
 * // DP-SGD: `grads` holds 64 per-example gradients per view, `params` one example's lengths
 * const dp = createOptimizer(clipper, { params, grads, kind: 'sgd', lr: 0.1,
 *   privacy: { batchSize: 64, maxNorm: 1, noiseMultiplier: 1.1 } });
 * dp.step({ examples: sampled, encoder }); // clip each example, sum, noise, ÷ 64, update
 */
export function createOptimizer(clipper: Clipper, options: OptimizerOptions): Optimizer {
  const backend = backendOf(clipper);
  if (!options || typeof options !== 'object') throw new GradclipError('invalid-argument', 'options must be an object');
  readOptions(options, OPTION_KEYS.optimizer, 'options');
  const settings = checkOptimizerSettings(options);
  if (options.privacy !== undefined && options.privacy !== null) {
    return createPrivateOptimizer(backend, options.params, options.grads, settings, checkPrivacySettings(options));
  }
  return backend.engines.optimizer(options.params, options.grads, settings, options.scaler ?? null);
}
