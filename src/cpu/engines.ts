// The CPU engines behind createAutoClip / createZClip and createOptimizer: the float64 reference
// rules and optimizer, applied in place, with handles that keep the GPU's contract.
import type { AdaptiveRule, StepOptions } from '../core/adaptive-types';
import type { AdaptiveEngine, OptimizerEngine } from '../core/backend';
import { GradclipError } from '../core/errors';
import { OPTION_KEYS, readOptions } from '../core/options';
import { resolveSet } from '../core/set-alias';
import type { GradSet } from '../core/types';
import { checkLearningRate, checkOnNonfinite, checkOptimizerSets, checkOptimizerState } from '../plan/validate';
import { checkNoHalfViews, isFloat16Array } from '../plan/views';
import { AutoClipRule, ZClipRule } from '../reference/modes';
import { clipDecision, scaleInPlace, totalNormReference } from '../reference/norms';
import { OptimizerReference } from '../reference/optimizer';
import type { OptimizerSettings } from '../core/optimizer-types';
import type { CpuGradScaler } from './scaler';
import { checkNoEncoder, CpuNormHandle, float32Norm, type CpuSets } from './set';

/** The CPU side of createAutoClip / createZClip: the rule and the clip on float64 norms. */
export function cpuAdaptiveEngine(clipper: CpuSets, set: GradSet, rule: AdaptiveRule): AdaptiveEngine {
  const cpuSet = clipper.setOf(set);
  const { arrays } = cpuSet;
  const state =
    rule.kind === 'autoclip'
      ? new AutoClipRule(rule.config.percentile, rule.config.history)
      : new ZClipRule(rule.config);
  return {
    step: (stepOptions?: StepOptions | null) => {
      const options = readOptions(stepOptions, OPTION_KEYS.step, 'options');
      clipper.arraysOf(set);
      const skip = checkOnNonfinite(options.onNonfinite) === 'skip';
      checkNoEncoder(options);
      const norm = float32Norm(arrays, 2);
      const threshold = state.observe(norm);
      const decision = clipDecision(norm, threshold, false, skip);
      if (decision.scale) scaleInPlace(arrays, decision.coef);
      return new CpuNormHandle(cpuSet, norm, false, !Number.isFinite(norm), threshold);
    },
    readState: () =>
      Promise.resolve({
        threshold: state.threshold,
        mean: state instanceof ZClipRule ? state.mean : NaN,
        std: state instanceof ZClipRule ? state.std : NaN,
      }),
    destroy: () => {},
  };
}

/** The CPU side of createOptimizer: the float64 reference, parameters rounded to float32 each step. */
export function cpuOptimizerEngine(
  clipper: CpuSets,
  params: GradSet,
  grads: GradSet,
  settings: OptimizerSettings,
  scalerOption: CpuGradScaler | null,
): OptimizerEngine {
  // f16 gradients (Float16Array) update f32 parameters and moments (master weights).
  checkNoHalfViews(clipper.arraysOf(params).map(isFloat16Array), 'createOptimizer (params: f32 master weights)');
  const gradArrays = clipper.arraysOf(grads);
  const paramArrays = clipper.arraysOf(params) as Float32Array[];
  const scaler = scalerOption?.enabled ? scalerOption : null;
  // A scaled step's gradients, unscaled: f32(g · f32(1 / scale)), as the GPU's update computes them.
  const unscaled = scaler ? gradArrays.map((a) => new Float32Array(a.length)) : [];
  checkOptimizerSets(
    gradArrays.map((a) => ({ length: a.length })),
    paramArrays.map((a) => ({ length: a.length })),
    resolveSet(grads) === resolveSet(params),
  );
  const reference = new OptimizerReference(
    settings,
    gradArrays.map((a) => a.length),
  );
  let destroyed = false;
  const alive = () => {
    clipper.arraysOf(grads);
    clipper.arraysOf(params);
    if (destroyed) throw new GradclipError('destroyed', 'this optimizer was destroyed');
  };
  return {
    step: (stepOptions) => {
      const options = readOptions(stepOptions, OPTION_KEYS.optimizerStep, 'options');
      alive();
      checkNoEncoder(options);
      const lr = options.lr === undefined ? settings.lr : checkLearningRate(options.lr);
      const cpuSet = clipper.setOf(grads);
      if (!scaler) {
        const { norm } = reference.apply(paramArrays, gradArrays, lr);
        return new CpuNormHandle(cpuSet, norm, false);
      }
      // Gradients the scaler already unscaled since its last update() are not unscaled again (PyTorch's scaler.step).
      const unscales = !scaler.unscaledSinceUpdate(cpuSet);
      scaler.noteCheck(cpuSet, unscales, 'optimizer.step');
      const inverse = unscales ? scaler.inverse : 1;
      gradArrays.forEach((g, t) => {
        for (let i = 0; i < g.length; i++) {
          if (!Number.isFinite(g[i])) scaler.noteNonfinite();
          unscaled[t][i] = g[i] * inverse;
        }
      });
      if (scaler.foundNonfinite) {
        return new CpuNormHandle(cpuSet, Math.fround(totalNormReference(gradArrays, 2) * inverse), false);
      }
      const { norm } = reference.apply(paramArrays, unscaled, lr);
      return new CpuNormHandle(cpuSet, norm, false);
    },
    state: async () => {
      alive();
      return {
        step: reference.step,
        first: reference.first.map((a) => Float32Array.from(a)),
        second: reference.second.map((a) => Float32Array.from(a)),
      };
    },
    setState: (value) => {
      alive();
      const state = checkOptimizerState(
        value,
        gradArrays.map((a) => a.length),
      );
      reference.step = state.step;
      state.first.forEach((m, i) => reference.first[i].set(Array.from(m, Math.fround)));
      state.second.forEach((v, i) => reference.second[i].set(Array.from(v, Math.fround)));
    },
    destroy: () => {
      destroyed = true;
    },
  };
}
