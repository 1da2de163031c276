// Adaptive clipping thresholds that follow the run: AutoClip (a percentile of the norm history)
// and ZClip (EMA statistics of the norm). On the WebGPU backend the history, the statistics and
// the decision live in GPU buffers, so a step records work and reads nothing back.
import type { AdaptiveRule, AutoClip, AutoClipOptions, ZClip, ZClipOptions } from '../core/adaptive-types';
import { backendOf, type AdaptiveEngine } from '../core/backend';
import type { Clipper, GradSet } from '../core/types';
import { checkAutoClipOptions, checkZClipOptions } from '../plan/validate';

function engineFor(clipper: Clipper, set: GradSet, rule: AdaptiveRule): AdaptiveEngine {
  return backendOf(clipper).engines.adaptive(set, rule);
}

/**
 * AutoClip: each step clips at the given percentile of the norm history, all on the GPU.
 *
 * @example
 * const autoClip = createAutoClip(clipper, grads, { percentile: 10, history: 1000 });
 * const norm = autoClip.step({ encoder }); // record the norm, clip at the 10th percentile
 */
export function createAutoClip(clipper: Clipper, set: GradSet, options?: AutoClipOptions | null): AutoClip {
  const engine = engineFor(clipper, set, { kind: 'autoclip', config: checkAutoClipOptions(options) });
  return {
    step: (stepOptions) => engine.step(stepOptions),
    threshold: async () => (await engine.readState()).threshold,
    destroy: () => engine.destroy(),
  };
}

/**
 * ZClip: z-score spike clipping against EMA statistics of the norm, all on the GPU.
 *
 * @example
 * const zclip = createZClip(clipper, grads, { zThreshold: 2.5, warmupSteps: 25 });
 * zclip.step({ encoder }); // clips a spike; after the run: await zclip.stats()
 */
export function createZClip(clipper: Clipper, set: GradSet, options?: ZClipOptions | null): ZClip {
  const engine = engineFor(clipper, set, { kind: 'zclip', config: checkZClipOptions(options) });
  return {
    step: (stepOptions) => engine.step(stepOptions),
    stats: async () => {
      const { mean, std } = await engine.readState();
      return { mean, std };
    },
    threshold: async () => (await engine.readState()).threshold,
    destroy: () => engine.destroy(),
  };
}
