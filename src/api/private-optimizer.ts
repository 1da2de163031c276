// DP-SGD as one optimizer (Opacus's DPOptimizer): each step clips every example's gradient, sums,
// adds Gaussian noise, divides and updates the parameters, recorded without a readback. Built from
// the clipper's clipPerExample, writing into the sums the set keeps, and the fused optimizer
// stepping on those sums; the n-th step draws the noise of clipPerExample's { seed, step: n }.
import type { ClipperBackend } from '../core/backend';
import type { Optimizer, OptimizerSettings, OptimizerState, PrivateStepOptions } from '../core/optimizer-types';
import { OPTION_KEYS, readOptions } from '../core/options';
import type { GradSet } from '../core/types';
import { checkIntegerIn, checkLearningRate } from '../plan/validate';
import type { PrivacySettings } from '../plan/validate-privacy';

export function createPrivateOptimizer(
  backend: ClipperBackend,
  params: GradSet,
  perExampleGrads: GradSet,
  settings: OptimizerSettings,
  privacy: PrivacySettings,
): Optimizer {
  const sums = backend.engines.perExampleSums(perExampleGrads, privacy.batchSize);
  const inner = backend.engines.optimizer(params, sums, settings, null);
  const { batchSize, maxNorm, noiseMultiplier, seed, divisor } = privacy;
  /** Calls to step so far: the next call's noise step. */
  let noiseStep = 0;
  return {
    step(stepOptions?: PrivateStepOptions | null) {
      const options = readOptions(stepOptions, OPTION_KEYS.privateStep, 'options');
      // Everything is checked before the first pass is recorded.
      const examples = checkIntegerIn('examples', options.examples ?? batchSize, 0, batchSize);
      const lr = options.lr === undefined ? undefined : checkLearningRate(options.lr);
      const encoder = options.encoder;
      backend.clipPerExample(perExampleGrads, {
        batchSize,
        maxNorm,
        examples,
        divisor,
        ...(noiseMultiplier > 0 ? { noise: { multiplier: noiseMultiplier, seed, step: noiseStep } } : {}),
        ...(encoder ? { encoder } : {}),
      });
      noiseStep++;
      return inner.step({ ...(encoder ? { encoder } : {}), ...(lr === undefined ? {} : { lr }) });
    },
    async state(): Promise<OptimizerState> {
      return { ...(await inner.state()), noiseStep };
    },
    setState(state: OptimizerState) {
      const next =
        state && typeof state === 'object' && state.noiseStep !== undefined
          ? checkIntegerIn('state.noiseStep', state.noiseStep, 0, Number.MAX_SAFE_INTEGER)
          : undefined;
      inner.setState(state);
      noiseStep = next ?? state.step;
    },
    destroy() {
      inner.destroy();
    },
  };
}
