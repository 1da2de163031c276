// The per-segment kernels, the per-example sum, the adaptive rules and the fused optimizer, built
// on first use from a device's pipeline cache.
import { NORM_KINDS, OPTIMIZER } from '../core/abi';
import { slotLayout, slotsLabel } from './norm-kernels';
import type { KernelBuild, Kernels } from './kernel-types';
import {
  adaptiveThresholdShader,
  agcRowsShader,
  optimizerPrepareShader,
  optimizerUpdateShader,
  perExampleSumShader,
  segmentFinalizeShader,
  segmentNormShader,
  segmentScaleShader,
  segmentSummaryShader,
  AGC_ROW_SLOTS,
  NO_HALF_SLOTS,
} from './wgsl';

/** The per-segment passes, the per-example sum, the adaptive rules and the fused optimizer. */
export function stepKernels(
  build: KernelBuild,
): Pick<
  Kernels,
  | 'segmentNorm'
  | 'segmentFinalize'
  | 'segmentSummary'
  | 'segmentScale'
  | 'perExampleSum'
  | 'adaptive'
  | 'agcRows'
  | 'optimizerPrepare'
  | 'optimizerUpdate'
> {
  const { counts, subgroups, layouts, cache } = build;
  const { sumBindings, optimizerBindings } = counts;
  const single = (label: string, layout: GPUBindGroupLayout) => cache.layout(label, [layout]);
  return {
    segmentNorm: (kind, slots) => {
      const label = `segment_norm ${slotsLabel(slots)}`;
      const shader = cache.module(label, () =>
        segmentNormShader(slots.slots, slots.vec4Slots, subgroups, slots.halfSlots),
      );
      return cache.pipeline(
        `${label} normKind=${kind}`,
        slotLayout(build, 'partials', layouts.partialsLayout, slots),
        shader,
        { normKind: kind },
      );
    },
    agcRows: () => {
      const shader = cache.module('agc_rows', () => agcRowsShader(subgroups));
      const slots = { slots: AGC_ROW_SLOTS, vec4Slots: AGC_ROW_SLOTS, halfSlots: NO_HALF_SLOTS };
      return cache.pipeline('agc_rows', slotLayout(build, 'partials', layouts.partialsLayout, slots), shader, {
        normKind: NORM_KINDS.NORM_KIND_L2,
      });
    },
    segmentFinalize: (kind, rule) => {
      const shader = cache.module('segment_finalize', () => segmentFinalizeShader(subgroups));
      const layout = single('segment finalize', layouts.segmentFinalizeLayout);
      return cache.pipeline(`segment_finalize normKind=${kind} rule=${rule}`, layout, shader, { normKind: kind, rule });
    },
    segmentSummary: (kind, summary) => {
      const shader = cache.module('segment_summary', () => segmentSummaryShader(subgroups));
      const layout = single('segment summary', layouts.segmentSummaryLayout);
      return cache.pipeline(`segment_summary normKind=${kind} summary=${summary}`, layout, shader, {
        normKind: kind,
        summary,
      });
    },
    segmentScale: (slots) => {
      const label = `segment_scale ${slotsLabel(slots)}`;
      const shader = cache.module(label, () => segmentScaleShader(slots.slots, slots.vec4Slots, slots.halfSlots));
      return cache.pipeline(label, slotLayout(build, 'segment scale', layouts.segmentScaleLayout, slots), shader, {});
    },
    perExampleSum: (vec4Slots, noisy) => {
      const label = `per_example_sum vec4Slots=${vec4Slots}`;
      const shader = cache.module(label, () => perExampleSumShader(sumBindings, vec4Slots));
      return cache.pipeline(
        `${label} noisy=${noisy}`,
        cache.layout('per-example sum', [layouts.sumDataLayout, layouts.sumOutputLayout]),
        shader,
        { noisy: noisy ? 1 : 0 },
      );
    },
    adaptive: (rule) => {
      const shader = cache.module('adaptive_threshold', () => adaptiveThresholdShader(subgroups));
      const layout = single('adaptive threshold', layouts.adaptiveLayout);
      return cache.pipeline(`adaptive_threshold rule=${rule}`, layout, shader, {
        normKind: NORM_KINDS.NORM_KIND_L2,
        rule,
      });
    },
    optimizerPrepare: (scaled) => {
      const shader = cache.module('optimizer_prepare', () => optimizerPrepareShader());
      const layout = cache.layout('optimizer prepare', [layouts.optimizerPrepareLayout, layouts.scalerLayout]);
      return cache.pipeline(`optimizer_prepare scaled=${scaled}`, layout, shader, { scaled: Number(scaled) });
    },
    optimizerUpdate: ({ kind, clipKind, momentum, nesterov, scaled }, slots, halfSlots) => {
      const half = halfSlots[1] > halfSlots[0] ? ` f16Slots=${halfSlots[0]}-${halfSlots[1]}` : '';
      const shader = cache.module(`optimizer_update${half}`, () => optimizerUpdateShader(optimizerBindings, halfSlots));
      const layout = cache.layout(`optimizer update${half}`, [
        layouts.optimizerDataLayout,
        layouts.optimizerStateLayout,
      ]);
      const [gradSlot, paramSlot] = slots ?? [OPTIMIZER.OPT_WINDOW_FROM_TABLE, OPTIMIZER.OPT_WINDOW_FROM_TABLE];
      return cache.pipeline(
        `optimizer_update${half} kind=${kind} clipKind=${clipKind} momentum=${momentum} nesterov=${nesterov} scaled=${scaled} slots=${slots ?? 'table'}`,
        layout,
        shader,
        {
          kind,
          clipKind,
          momentum: Number(momentum),
          nesterov: Number(nesterov),
          scaled: Number(scaled),
          gradSlot,
          paramSlot,
        },
      );
    },
  };
}
