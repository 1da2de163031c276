// The total norm's kernels (partials, finalize, the elementwise scale / clamp) and a GradScaler's
// (unscale, update), built on first use from a device's pipeline cache.
import { OPS } from '../core/abi';
import type { SlotLayout } from '../plan/windows';
import type { KernelBuild, Kernels } from './kernel-types';
import { elementwiseShader, normFinalizeShader, normPartialsShader, scalerUpdateShader, unscaleShader } from './wgsl';

/** A slot layout as it appears in module and pipeline labels (and keys): `slots=4 vec4Slots=3`, plus `f16Slots=2-4` when any. */
export function slotsLabel({ slots, vec4Slots, halfSlots: [from, to] }: SlotLayout): string {
  const label = `slots=${slots} vec4Slots=${vec4Slots}`;
  return to > from ? `${label} f16Slots=${from}-${to}` : label;
}

// The data kernels get one pipeline layout object per slot layout (same bind group layouts):
// wgpu (Deno 2.9) takes a binding's minimum size from the shader only when a pass switches to a
// pipeline whose layout is another object, so two dispatch groups whose slot k is vec4<f32> in
// one and f16 or f32 scalar in the next would keep the first shader's 16-byte minimum.
export function slotLayout(
  { cache, layouts }: KernelBuild,
  kernel: string,
  second: GPUBindGroupLayout,
  slots: SlotLayout,
) {
  return cache.layout(`${kernel} ${slotsLabel(slots)}`, [layouts.dataLayout, second]);
}

/** The total norm's passes and the elementwise pass. */
export function normKernels(
  build: KernelBuild,
): Pick<Kernels, 'partials' | 'finalize' | 'elementwise' | 'unscale' | 'scalerUpdate'> {
  const { subgroups, layouts, cache } = build;
  const single = (label: string, layout: GPUBindGroupLayout) => cache.layout(label, [layout]);
  return {
    partials: (kind, slots) => {
      const label = `norm_partials ${slotsLabel(slots)}`;
      const shader = cache.module(label, () =>
        normPartialsShader(slots.slots, slots.vec4Slots, subgroups, slots.halfSlots),
      );
      return cache.pipeline(
        `${label} normKind=${kind}`,
        slotLayout(build, 'partials', layouts.partialsLayout, slots),
        shader,
        { normKind: kind },
      );
    },
    finalize: (kind, source, scaled) => {
      const shader = cache.module('norm_finalize', () => normFinalizeShader(subgroups));
      const layout = cache.layout('finalize', [layouts.finalizeLayout, layouts.scalerLayout]);
      return cache.pipeline(`norm_finalize normKind=${kind} source=${source} scaled=${scaled}`, layout, shader, {
        normKind: kind,
        source,
        scaled: Number(scaled),
      });
    },
    elementwise: (op, slots) => {
      const label = `elementwise ${slotsLabel(slots)}`;
      const shader = cache.module(label, () => elementwiseShader(slots.slots, slots.vec4Slots, slots.halfSlots));
      return cache.pipeline(
        `${label} op=${op}`,
        slotLayout(build, 'elementwise', layouts.elementwiseLayout, slots),
        shader,
        {
          op,
        },
      );
    },
    unscale: (slots) => {
      const label = `unscale ${slotsLabel(slots)}`;
      const shader = cache.module(label, () => unscaleShader(slots.slots, slots.vec4Slots, slots.halfSlots));
      return cache.pipeline(label, slotLayout(build, 'unscale', layouts.scalerLayout, slots), shader, {
        op: OPS.OP_UNSCALE,
      });
    },
    scalerUpdate: () => {
      const shader = cache.module('scaler_update', () => scalerUpdateShader());
      return cache.pipeline('scaler_update', single('scaler update', layouts.scalerLayout), shader, {});
    },
  };
}
