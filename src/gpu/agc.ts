// adaptiveGradClip on the GPU. Where every unit is a row one lane reads whole (plan/agc-rows.ts),
// one pass (agc_rows.wgsl) takes each row's gradient and weight norms and scales the row; else the
// general per-unit passes run: the weights' unit norms, the gradients' norms and coefficients,
// then the scale. Either way segment_summary.wgsl writes the total norm the handle reads.
import { OPTION_KEYS, readOptions } from '../core/options';
import { GradclipError } from '../core/errors';
import type { AdaptiveGradClipOptions, GradSet, NormHandle } from '../core/types';
import { RULE_AGC, RULE_NORMS, SUMMARY_TOTAL_NORM } from '../kernels/registry';
import { planAgcRows } from '../plan/agc-rows';
import { planSegments, unitSegments } from '../plan/segments';
import { checkAgcOptions, checkSameUnits } from '../plan/validate';
import type { GpuContext } from './context';
import { AgcRowPass } from './agc-row-pass';
import { SegmentLayout } from './segments';
import type { GpuGradSet } from './set';

/** Row passes kept per gradient set, by weight set (older ones are dropped, not destroyed: an unsubmitted encoder may use them). */
const ROW_PASSES_KEPT = 4;

/** The unit layout of a set in one role (the two roles never share segment buffers). */
function unitLayout(ctx: GpuContext, set: GpuGradSet, role: 'gradient' | 'parameter'): SegmentLayout {
  return set.segmentLayout(`${role} units`, (cache) => {
    const { ranges, count } = unitSegments(set.views);
    return new SegmentLayout(ctx, planSegments(set.views, ranges, count, ctx.planLimits), `${role} units`, cache);
  });
}

export class AgcClipping {
  constructor(private readonly ctx: GpuContext) {}

  run(grads: GradSet, params: GradSet, optionsIn?: AdaptiveGradClipOptions | null): NormHandle {
    const { ctx } = this;
    const options = readOptions(optionsIn, OPTION_KEYS.agc, 'options');
    const gradSet = ctx.checkUsable(grads);
    const paramSet = ctx.checkUsable(params);
    if (gradSet === paramSet)
      throw new GradclipError('invalid-argument', 'grads and params must be two different sets');
    const { clipping, eps } = checkAgcOptions(options.clipping, options.eps);
    checkSameUnits(gradSet.views, paramSet.views);
    const gradUnits = unitLayout(ctx, gradSet, 'gradient');
    const rows = this.rowPass(gradSet, paramSet, gradUnits);
    // The gradients' pass reads the parameters' norms, so the two layouts are never one buffer.
    const paramUnits = rows ? null : unitLayout(ctx, paramSet, 'parameter');
    const paramsOffset = ctx.paramsOffset({ p: 2, maxNorm: clipping, eps }, options.encoder);
    const handle = ctx.claimHandle(gradSet);
    ctx.record(options, 'adaptiveGradClip', [gradSet, paramSet], (pass) => {
      if (rows) {
        rows.record(pass, paramsOffset);
      } else {
        paramUnits!.recordNorms(pass, 2, RULE_NORMS, paramsOffset);
        gradUnits.recordNorms(pass, 2, RULE_AGC, paramsOffset, paramUnits!.segmentNorms);
      }
      gradUnits.recordSummary(pass, 2, SUMMARY_TOTAL_NORM, paramsOffset, gradSet.results, handle.offset);
      if (!rows) gradUnits.recordScale(pass);
    });
    return handle;
  }

  /** The one-pass plan for this pair of sets, made on first use; null where it does not apply. */
  private rowPass(gradSet: GpuGradSet, paramSet: GpuGradSet, gradUnits: SegmentLayout): AgcRowPass | null {
    const kept = gradSet.agcRowPasses;
    let rows = kept.get(paramSet);
    if (rows === undefined) {
      const { limits } = this.ctx.kernels.device;
      const plan = planAgcRows(gradUnits.plan, unitSegments(gradSet.views).ranges, paramSet.views, {
        offsetAlignment: limits.minStorageBufferOffsetAlignment,
        maxBindingBytes: limits.maxStorageBufferBindingSize,
        workgroupSize: this.ctx.kernels.workgroupSize,
      });
      rows = plan ? new AgcRowPass(this.ctx, plan, gradUnits.partialsBindGroup) : null;
      if (kept.size >= ROW_PASSES_KEPT) kept.delete(kept.keys().next().value as GpuGradSet);
    } else {
      kept.delete(paramSet);
    }
    kept.set(paramSet, rows);
    return rows;
  }
}
