// Bind-group layouts and compute pipelines, built once per device and cached in a WeakMap so they
// vanish with the device. Pipelines are keyed by everything that changes the compiled shader:
// the device's binding count and subgroup support (module text) and the override constants.
import { ADAPTIVE_RULES, NORM_KINDS, OPS, OPTIMIZER, SEGMENT_RULES, SOURCES, SUMMARIES } from '../core/abi';
import { bindingCounts, createLayouts, type BindingCounts, type Layouts } from './layouts';
import { PipelineCache } from './pipeline-cache';
import {
  adaptiveThresholdShader,
  elementwiseShader,
  normFinalizeShader,
  normPartialsShader,
  optimizerPrepareShader,
  optimizerUpdateShader,
  perExampleSumShader,
  segmentFinalizeShader,
  segmentNormShader,
  segmentScaleShader,
  segmentSummaryShader,
} from './wgsl';
import type { SlotLayout } from '../plan/windows';
import type { NormKind } from '../plan/validate';

export { RESERVED_STORAGE_BINDINGS } from './layouts';
export { PARTIAL_BYTES, PARAMS_BYTES, RESULT_BYTES, SEGMENT_NORM_BYTES } from '../core/abi';

/** Which kernel variant: where finalize takes the norm from (see norm_finalize.wgsl). */
export type NormSource = (typeof SOURCES)[keyof typeof SOURCES];
export const { SOURCE_PARTIALS, SOURCE_RESULT, SOURCE_PARAMS } = SOURCES;
export const { OP_SCALE, OP_CLAMP } = OPS;

/** segment_finalize.wgsl's `rule`: what a segment's coefficient is. */
export type SegmentRule = (typeof SEGMENT_RULES)[keyof typeof SEGMENT_RULES];
export const { RULE_NORMS, RULE_CLIP_BY_NORM, RULE_PER_EXAMPLE, RULE_AGC } = SEGMENT_RULES;
/** segment_summary.wgsl's `summary`: the total norm, or the number of segments clipped. */
export const { SUMMARY_TOTAL_NORM, SUMMARY_COUNT_CLIPPED } = SUMMARIES;
/** adaptive_threshold.wgsl's `rule`. */
export const { ADAPTIVE_AUTOCLIP, ADAPTIVE_ZCLIP } = ADAPTIVE_RULES;

export interface Kernels extends Layouts, BindingCounts {
  readonly device: GPUDevice;
  readonly workgroupSize: number;
  readonly subgroups: boolean;
  /** The norm's first pass for a dispatch group of this slot layout (vec4 and f16 slots). */
  partials(kind: NormKind, layout: SlotLayout): GPUComputePipeline;
  finalize(kind: NormKind, source: NormSource): GPUComputePipeline;
  /** The scale/clamp pass for a dispatch group of this slot layout. */
  elementwise(op: number, layout: SlotLayout): GPUComputePipeline;
  segmentNorm(kind: NormKind, layout: SlotLayout): GPUComputePipeline;
  segmentFinalize(kind: NormKind, rule: SegmentRule): GPUComputePipeline;
  segmentSummary(kind: NormKind, summary: number): GPUComputePipeline;
  segmentScale(layout: SlotLayout): GPUComputePipeline;
  /** The per-example sum for a dispatch whose first `vec4Slots` views are vec4. */
  perExampleSum(vec4Slots: number): GPUComputePipeline;
  adaptive(rule: number): GPUComputePipeline;
  optimizerPrepare(): GPUComputePipeline;
  /** The update pass specialised for one optimizer's rule (override constants of optimizer_update.wgsl). */
  optimizerUpdate(variant: OptimizerVariant, slots: OptimizerSlots): GPUComputePipeline;
}

/** What optimizer_update.wgsl is specialised for: OPTIMIZER.OPT_* and CLIP_*, and SGD's momentum options. */
export interface OptimizerVariant {
  kind: number;
  clipKind: number;
  momentum: boolean;
  nesterov: boolean;
}

/** The window slots of a dispatch whose every view has its gradients in one and its parameters in one; null: mixed. */
export type OptimizerSlots = readonly [gradSlot: number, paramSlot: number] | null;

const kernelsByDevice = new WeakMap<GPUDevice, Kernels>();

/** A slot layout as it appears in module and pipeline labels (and keys): `vec4Slots=3`, plus `f16Slots=2-4` when any. */
function slotsLabel({ vec4Slots, halfSlots: [from, to] }: SlotLayout): string {
  return to > from ? `vec4Slots=${vec4Slots} f16Slots=${from}-${to}` : `vec4Slots=${vec4Slots}`;
}

/** The device's kernels, built on first use. */
export function kernelsFor(device: GPUDevice): Kernels {
  let kernels = kernelsByDevice.get(device);
  if (!kernels) {
    kernels = buildKernels(device);
    kernelsByDevice.set(device, kernels);
  }
  return kernels;
}

function buildKernels(device: GPUDevice): Kernels {
  const limits = device.limits;
  const counts = bindingCounts(limits);
  // 64 lanes: a full wave on AMD, two warps on NVIDIA, and on CPU emulators far cheaper per
  // workgroup than 256 (measured on SwiftShader: 4x less per-workgroup overhead).
  const workgroupSize = Math.min(64, limits.maxComputeInvocationsPerWorkgroup, limits.maxComputeWorkgroupSizeX);
  const subgroups = device.features.has('subgroups');
  const layouts = createLayouts(device, counts);
  const cache = new PipelineCache(device, workgroupSize);
  // The data kernels get one pipeline layout object per slot layout (same bind group layouts):
  // wgpu (Deno 2.9) takes a binding's minimum size from the shader only when a pass switches to a
  // pipeline whose layout is another object, so two dispatch groups whose slot k is vec4<f32> in
  // one and f16 or f32 scalar in the next would keep the first shader's 16-byte minimum.
  const build: KernelBuild = { counts, subgroups, layouts, cache };

  return {
    device,
    ...counts,
    workgroupSize,
    subgroups,
    ...layouts,
    ...normKernels(build),
    ...segmentAndStepKernels(build),
  };
}

/** What the kernel getters build from. */
interface KernelBuild {
  counts: BindingCounts;
  subgroups: boolean;
  layouts: Layouts;
  cache: PipelineCache;
}

// The data kernels get one pipeline layout object per slot layout (same bind group layouts):
// wgpu (Deno 2.9) takes a binding's minimum size from the shader only when a pass switches to a
// pipeline whose layout is another object, so two dispatch groups whose slot k is vec4<f32> in
// one and f16 or f32 scalar in the next would keep the first shader's 16-byte minimum.
function slotLayout({ cache, layouts }: KernelBuild, kernel: string, second: GPUBindGroupLayout, slots: SlotLayout) {
  return cache.layout(`${kernel} ${slotsLabel(slots)}`, [layouts.dataLayout, second]);
}

/** The total norm's passes and the elementwise pass. */
function normKernels(build: KernelBuild): Pick<Kernels, 'partials' | 'finalize' | 'elementwise'> {
  const { counts, subgroups, layouts, cache } = build;
  const { bindings } = counts;
  const single = (label: string, layout: GPUBindGroupLayout) => cache.layout(label, [layout]);
  return {
    partials: (kind, slots) => {
      const label = `norm_partials ${slotsLabel(slots)}`;
      const shader = cache.module(label, () =>
        normPartialsShader(bindings, slots.vec4Slots, subgroups, slots.halfSlots),
      );
      return cache.pipeline(
        `${label} normKind=${kind}`,
        slotLayout(build, 'partials', layouts.partialsLayout, slots),
        shader,
        { normKind: kind },
      );
    },
    finalize: (kind, source) => {
      const shader = cache.module('norm_finalize', () => normFinalizeShader(subgroups));
      const layout = single('finalize', layouts.finalizeLayout);
      return cache.pipeline(`norm_finalize normKind=${kind} source=${source}`, layout, shader, {
        normKind: kind,
        source,
      });
    },
    elementwise: (op, slots) => {
      const label = `elementwise ${slotsLabel(slots)}`;
      const shader = cache.module(label, () => elementwiseShader(bindings, slots.vec4Slots, slots.halfSlots));
      return cache.pipeline(
        `${label} op=${op}`,
        slotLayout(build, 'elementwise', layouts.elementwiseLayout, slots),
        shader,
        {
          op,
        },
      );
    },
  };
}

/** The per-segment passes, the per-example sum, the adaptive rules and the fused optimizer. */
function segmentAndStepKernels(
  build: KernelBuild,
): Omit<
  Kernels,
  | keyof Layouts
  | keyof BindingCounts
  | 'device'
  | 'workgroupSize'
  | 'subgroups'
  | 'partials'
  | 'finalize'
  | 'elementwise'
> {
  const { counts, subgroups, layouts, cache } = build;
  const { bindings, sumBindings, optimizerBindings } = counts;
  const single = (label: string, layout: GPUBindGroupLayout) => cache.layout(label, [layout]);
  return {
    segmentNorm: (kind, slots) => {
      const label = `segment_norm ${slotsLabel(slots)}`;
      const shader = cache.module(label, () =>
        segmentNormShader(bindings, slots.vec4Slots, subgroups, slots.halfSlots),
      );
      return cache.pipeline(
        `${label} normKind=${kind}`,
        slotLayout(build, 'partials', layouts.partialsLayout, slots),
        shader,
        { normKind: kind },
      );
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
      const shader = cache.module(label, () => segmentScaleShader(bindings, slots.vec4Slots, slots.halfSlots));
      return cache.pipeline(label, slotLayout(build, 'segment scale', layouts.segmentScaleLayout, slots), shader, {});
    },
    perExampleSum: (vec4Slots) => {
      const label = `per_example_sum vec4Slots=${vec4Slots}`;
      const shader = cache.module(label, () => perExampleSumShader(sumBindings, vec4Slots));
      return cache.pipeline(
        label,
        cache.layout('per-example sum', [layouts.sumDataLayout, layouts.sumOutputLayout]),
        shader,
        {},
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
    optimizerPrepare: () => {
      const shader = cache.module('optimizer_prepare', () => optimizerPrepareShader());
      return cache.pipeline(
        'optimizer_prepare',
        single('optimizer prepare', layouts.optimizerPrepareLayout),
        shader,
        {},
      );
    },
    optimizerUpdate: ({ kind, clipKind, momentum, nesterov }, slots) => {
      const shader = cache.module('optimizer_update', () => optimizerUpdateShader(optimizerBindings));
      const layout = cache.layout('optimizer update', [layouts.optimizerDataLayout, layouts.optimizerStateLayout]);
      const [gradSlot, paramSlot] = slots ?? [OPTIMIZER.OPT_WINDOW_FROM_TABLE, OPTIMIZER.OPT_WINDOW_FROM_TABLE];
      return cache.pipeline(
        `optimizer_update kind=${kind} clipKind=${clipKind} momentum=${momentum} nesterov=${nesterov} slots=${slots ?? 'table'}`,
        layout,
        shader,
        { kind, clipKind, momentum: Number(momentum), nesterov: Number(nesterov), gradSlot, paramSlot },
      );
    },
  };
}
