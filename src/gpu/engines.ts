// The GPU engines behind createAutoClip / createZClip and createOptimizer: each keeps its state in
// GPU buffers (a rule's history and statistics, the optimizer's moments and step) and records a
// step as passes into the clipper's context, with no readback and no allocation per step.
import type { AdaptiveRule, StepOptions } from '../core/adaptive-types';
import type { GradScaler } from '../core/amp-types';
import type { AdaptiveEngine, OptimizerEngine } from '../core/backend';
import { GradclipError } from '../core/errors';
import { OPTION_KEYS, readOptions } from '../core/options';
import type { GradSet } from '../core/types';
import { SOURCE_PARTIALS } from '../kernels/registry';
import {
  checkLearningRate,
  checkNormType,
  checkOnNonfinite,
  checkOptimizerSets,
  checkOptimizerState,
} from '../plan/validate';
import { checkNoHalfViews } from '../plan/views';
import type { OptimizerSettings } from '../core/optimizer-types';
import { GpuAdaptiveState } from './adaptive';
import { MODE_NO_SCALE, MODE_SKIP_NONFINITE } from '../core/abi';
import type { GpuContext } from './context';
import { GpuOptimizer } from './optimizer';
import { scalerOf } from './scaler';

/** AutoClip / ZClip: the rule's state in a GPU buffer; a step is the norm's partials, the rule's pass and the scale. */
export function gpuAdaptiveEngine(ctx: GpuContext, set: GradSet, rule: AdaptiveRule): AdaptiveEngine {
  const gpuSet = ctx.checkUsable(set);
  const state = new GpuAdaptiveState(ctx.kernels, gpuSet, ctx.paramsBuffer, rule);
  ctx.owned.add(state);
  const alive = () => {
    ctx.checkUsable(gpuSet);
    if (state.destroyed) throw new GradclipError('destroyed', 'this adaptive clipper was destroyed');
  };
  return {
    step: (stepOptions?: StepOptions | null) => {
      const options = readOptions(stepOptions, OPTION_KEYS.step, 'options');
      alive();
      const skip = checkOnNonfinite(options.onNonfinite) === 'skip';
      const paramsOffset = ctx.paramsOffset({ p: 2, mode: skip ? MODE_SKIP_NONFINITE : 0 }, options.encoder);
      const handle = ctx.claimHandle(gpuSet);
      ctx.record(options, rule.kind, [gpuSet], (pass) => {
        ctx.recordPartials(pass, gpuSet, 2, paramsOffset);
        state.record(pass, paramsOffset, handle.offset);
        ctx.recordScale(pass, gpuSet, paramsOffset, handle.slot);
      });
      return handle;
    },
    readState: async () => {
      alive();
      return state.decode(await ctx.readBuffer(state.buffer, state.headerBytes));
    },
    destroy: () => {
      state.destroy();
      ctx.owned.delete(state);
    },
  };
}

/** The fused optimizer: the gradients' norm, then the one-invocation decision and the update pass. */
export function gpuOptimizerEngine(
  ctx: GpuContext,
  params: GradSet,
  grads: GradSet,
  settings: OptimizerSettings,
  scalerOption: GradScaler | null,
): OptimizerEngine {
  const gradSet = ctx.checkUsable(grads);
  const paramSet = ctx.checkUsable(params);
  // f16 gradients update f32 parameters and moments (master weights).
  checkNoHalfViews(
    paramSet.views.map((v) => v.elementBytes === 2),
    'createOptimizer (params: f32 master weights)',
  );
  checkOptimizerSets(gradSet.views, paramSet.views, gradSet === paramSet);
  const scaler = scalerOption === null ? null : scalerOf(ctx, scalerOption, 'options.scaler');
  const scaled = scaler?.enabled ? scaler : null;
  const optimizer = new GpuOptimizer(
    ctx.kernels,
    gradSet,
    paramSet,
    ctx.unusedBinding,
    settings,
    ctx.planLimits.maxWorkgroups,
    scaled !== null,
  );
  ctx.owned.add(optimizer);
  const { clip } = settings;
  const byNorm = clip !== null && 'maxNorm' in clip;
  const { p, kind } = checkNormType(byNorm ? clip.normType : 2);
  const alive = () => {
    ctx.checkUsable(gradSet);
    ctx.checkUsable(paramSet);
    scaler?.checkAlive();
    if (optimizer.destroyed) throw new GradclipError('destroyed', 'this optimizer was destroyed');
  };
  return {
    step: (stepOptions) => {
      const options = readOptions(stepOptions, OPTION_KEYS.optimizerStep, 'options');
      alive();
      const lr = options.lr === undefined ? settings.lr : checkLearningRate(options.lr);
      // Gradients a scaler already unscaled since its last update() are not unscaled again (PyTorch's scaler.step).
      const unscales = scaled !== null && !scaled.unscaledSinceUpdate(gradSet);
      scaled?.noteCheck(gradSet, unscales, 'optimizer.step');
      const settingsOffset = optimizer.settingsOffset(lr, options.encoder);
      const mode = byNorm ? MODE_SKIP_NONFINITE : MODE_NO_SCALE;
      const paramsOffset = ctx.paramsOffset({ p, maxNorm: byNorm ? clip.maxNorm : 0, mode }, options.encoder);
      const handle = ctx.claimHandle(gradSet);
      ctx.record(options, `${settings.kind} step`, [gradSet, paramSet], (pass) => {
        ctx.recordPartials(pass, gradSet, kind, paramsOffset);
        const finalizeScaler = unscales ? scaled.bindGroup : null;
        ctx.recordFinalize(pass, gradSet, kind, SOURCE_PARTIALS, paramsOffset, handle.slot, finalizeScaler);
        optimizer.record(pass, settingsOffset, handle.offset, scaled?.bindGroup ?? ctx.noScaler);
      });
      return handle;
    },
    state: async () => {
      alive();
      const total = optimizer.stateElements;
      const [step, first, second] = await Promise.all([
        ctx.readBuffer(optimizer.stepState, 4),
        ctx.readBuffer(optimizer.first, total * 4),
        ctx.readBuffer(optimizer.second, total * 4),
      ]);
      const perView = (all: Float32Array) =>
        gradSet.views.map((v, i) => all.slice(optimizer.stateOffsets[i], optimizer.stateOffsets[i] + v.length));
      return { step: new Uint32Array(step.buffer)[0], first: perView(first), second: perView(second) };
    },
    setState: (value) => {
      alive();
      optimizer.setState(
        checkOptimizerState(
          value,
          gradSet.views.map((v) => v.length),
        ),
      );
    },
    destroy: () => {
      optimizer.destroy();
      ctx.owned.delete(optimizer);
    },
  };
}
