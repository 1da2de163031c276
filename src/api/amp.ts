// Dynamic loss scaling for mixed-precision training: createGradScaler (PyTorch's
// torch.amp.GradScaler) on the clipper's backend. On WebGPU the scale, the found-inf flag and the
// update rule live in GPU memory, so a training loop with a scaler reads nothing back.
import type { GradScaler, GradScalerOptions } from '../core/amp-types';
import { backendOf } from '../core/backend';
import type { Clipper } from '../core/types';
import { checkGradScalerOptions } from '../plan/validate-amp';

/**
 * A GradScaler with PyTorch's defaults (initScale 2 ** 16, growthFactor 2, backoffFactor 0.5,
 * growthInterval 2000); bad options (unknown keys included) throw before anything is allocated.
 *
 * @example
 * const scaler = createGradScaler(clipper);
 * // every step: the loss times scaler.scale (on the GPU), backward in f16, then
 * clipper.clipGradNorm(grads, 1, { scaler, encoder }); // unscale + norm + clip in one write
 * optimizerStep(encoder);                             // skips on scaler.foundInf, or use createOptimizer({ …, scaler })
 * scaler.update({ encoder });                          // back off or grow, on the GPU
 */
export function createGradScaler(clipper: Clipper, options?: GradScalerOptions | null): GradScaler {
  const backend = backendOf(clipper);
  return backend.engines.scaler(checkGradScalerOptions(options));
}
