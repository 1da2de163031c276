// Bind-group layouts and compute pipelines, built once per device and cached in a WeakMap so they
// vanish with the device. Pipelines are keyed by everything that changes the compiled shader:
// the device's binding count and subgroup support (module text) and the override constants.
import { ShaderStage } from './gpu-constants';
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
} from './shaders';
import type { SlotLayout } from './plan';
import type { NormKind } from './validate';

/** Storage bindings each kernel needs besides the gradient windows (plan + partials or result). */
export const RESERVED_STORAGE_BINDINGS = 2;
/** Bytes of one `Acc` (shaders/accumulator.wgsl) in the partials buffer: 24, rounded to its 16-byte alignment. */
export const PARTIAL_BYTES = 32;
/** Bytes of the `Params` uniform (shaders/common.wgsl). */
export const PARAMS_BYTES = 32;
/** Bytes of one `NormResult` (shaders/common.wgsl). */
export const RESULT_BYTES = 32;
/** Bytes of one segment's (norm, coefficient) in segmentNorms (shaders/segment_finalize.wgsl). */
export const SEGMENT_NORM_BYTES = 8;

/** Which kernel variant: where finalize takes the norm from (see norm_finalize.wgsl). */
export type NormSource = 0 | 1 | 2;
export const SOURCE_PARTIALS: NormSource = 0;
export const SOURCE_RESULT_SLOT: NormSource = 1;
export const SOURCE_PARAMS: NormSource = 2;
export const OP_SCALE = 0;
export const OP_CLAMP = 1;

/** segment_finalize.wgsl's `rule`: what a segment's coefficient is. */
export type SegmentRule = 0 | 1 | 2 | 3;
export const RULE_NORMS: SegmentRule = 0;
export const RULE_CLIP_BY_NORM: SegmentRule = 1;
export const RULE_PER_EXAMPLE: SegmentRule = 2;
export const RULE_AGC: SegmentRule = 3;
/** segment_summary.wgsl's `summary`: the total norm, or the number of segments clipped. */
export const SUMMARY_TOTAL_NORM = 0;
export const SUMMARY_COUNT_CLIPPED = 1;
/** adaptive_threshold.wgsl's `rule`. */
export const ADAPTIVE_AUTOCLIP = 0;
export const ADAPTIVE_ZCLIP = 1;

export interface Kernels {
  readonly device: GPUDevice;
  /** Gradient windows per dispatch group. */
  readonly bindings: number;
  readonly workgroupSize: number;
  readonly subgroups: boolean;
  /** group(0) of the partials and elementwise kernels: plan + gradient windows. */
  readonly dataLayout: GPUBindGroupLayout;
  /** group(1) of the partials kernel: params (dynamic) + partials. */
  readonly partialsLayout: GPUBindGroupLayout;
  /** group(0) of the finalize kernel: params (dynamic) + partials + result (dynamic) + dispatch args. */
  readonly finalizeLayout: GPUBindGroupLayout;
  /** group(1) of the elementwise kernel: params (dynamic) + result (dynamic, read-only). */
  readonly elementwiseLayout: GPUBindGroupLayout;
  /** segment_finalize: params (dynamic) + partials + segments + segmentNorms + paramNorms. */
  readonly segmentFinalizeLayout: GPUBindGroupLayout;
  /** segment_summary: params (dynamic) + partials + segments + segmentNorms + result (dynamic). */
  readonly segmentSummaryLayout: GPUBindGroupLayout;
  /** group(1) of segment_scale: segmentNorms (read-only). */
  readonly segmentScaleLayout: GPUBindGroupLayout;
  /** Read-only views per dispatch of per_example_sum (one binding fewer than `bindings`). */
  readonly sumBindings: number;
  /** group(0) of per_example_sum: table + views (read-only). */
  readonly sumDataLayout: GPUBindGroupLayout;
  /** group(1) of per_example_sum: segmentNorms (read-only) + sums. */
  readonly sumOutputLayout: GPUBindGroupLayout;
  /** adaptive_threshold: the finalize bindings + the rule's state. */
  readonly adaptiveLayout: GPUBindGroupLayout;
  /** Windows per dispatch of optimizer_update (four fewer than the storage limit). */
  readonly optimizerBindings: number;
  /** optimizer_prepare: settings (dynamic) + result (dynamic, read-only) + step state. */
  readonly optimizerPrepareLayout: GPUBindGroupLayout;
  /** group(0) of optimizer_update: table + read-write windows. */
  readonly optimizerDataLayout: GPUBindGroupLayout;
  /** group(1) of optimizer_update: settings (dynamic) + step state (read-only) + first + second moments. */
  readonly optimizerStateLayout: GPUBindGroupLayout;
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
  optimizerUpdate(): GPUComputePipeline;
}

const kernelsByDevice = new WeakMap<GPUDevice, Kernels>();

/** A slot layout as it appears in module and pipeline labels (and keys): `vec4Slots=3`, plus `f16Slots=2-4` when any. */
function slotsLabel({ vec4Slots, halfSlots: [from, to] }: SlotLayout): string {
  return to > from ? `vec4Slots=${vec4Slots} f16Slots=${from}-${to}` : `vec4Slots=${vec4Slots}`;
}

function storageEntry(binding: number, type: GPUBufferBindingType, dynamic = false): GPUBindGroupLayoutEntry {
  return { binding, visibility: ShaderStage.COMPUTE, buffer: { type, hasDynamicOffset: dynamic } };
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
  const bindings = limits.maxStorageBuffersPerShaderStage - RESERVED_STORAGE_BINDINGS;
  // 64 lanes: a full wave on AMD, two warps on NVIDIA, and on CPU emulators far cheaper per
  // workgroup than 256 (measured on SwiftShader: 4x less per-workgroup overhead).
  const workgroupSize = Math.min(64, limits.maxComputeInvocationsPerWorkgroup, limits.maxComputeWorkgroupSizeX);
  const subgroups = device.features.has('subgroups');

  const dataLayout = device.createBindGroupLayout({
    label: 'gradclip data layout',
    entries: [
      storageEntry(0, 'read-only-storage'),
      ...Array.from({ length: bindings }, (_, slot) => storageEntry(slot + 1, 'storage')),
    ],
  });
  const partialsLayout = device.createBindGroupLayout({
    label: 'gradclip partials layout',
    entries: [storageEntry(0, 'uniform', true), storageEntry(1, 'storage')],
  });
  const finalizeLayout = device.createBindGroupLayout({
    label: 'gradclip finalize layout',
    entries: [
      storageEntry(0, 'uniform', true),
      storageEntry(1, 'read-only-storage'),
      storageEntry(2, 'storage', true),
      storageEntry(3, 'storage'),
    ],
  });
  const elementwiseLayout = device.createBindGroupLayout({
    label: 'gradclip elementwise layout',
    entries: [storageEntry(0, 'uniform', true), storageEntry(1, 'read-only-storage', true)],
  });
  const segmentFinalizeLayout = device.createBindGroupLayout({
    label: 'gradclip segment finalize layout',
    entries: [
      storageEntry(0, 'uniform', true),
      storageEntry(1, 'read-only-storage'),
      storageEntry(2, 'read-only-storage'),
      storageEntry(3, 'storage'),
      storageEntry(4, 'read-only-storage'),
    ],
  });
  const segmentSummaryLayout = device.createBindGroupLayout({
    label: 'gradclip segment summary layout',
    entries: [
      storageEntry(0, 'uniform', true),
      storageEntry(1, 'read-only-storage'),
      storageEntry(2, 'read-only-storage'),
      storageEntry(3, 'read-only-storage'),
      storageEntry(4, 'storage', true),
    ],
  });
  const segmentScaleLayout = device.createBindGroupLayout({
    label: 'gradclip segment scale layout',
    entries: [storageEntry(0, 'read-only-storage')],
  });
  // per_example_sum binds its views read-only beside a table, the coefficients and the sums.
  const sumBindings = bindings - 1;
  const sumDataLayout = device.createBindGroupLayout({
    label: 'gradclip per-example sum data layout',
    entries: Array.from({ length: sumBindings + 1 }, (_, binding) => storageEntry(binding, 'read-only-storage')),
  });
  const sumOutputLayout = device.createBindGroupLayout({
    label: 'gradclip per-example sum output layout',
    entries: [storageEntry(0, 'read-only-storage'), storageEntry(1, 'storage')],
  });
  const adaptiveLayout = device.createBindGroupLayout({
    label: 'gradclip adaptive threshold layout',
    entries: [
      storageEntry(0, 'uniform', true),
      storageEntry(1, 'read-only-storage'),
      storageEntry(2, 'storage', true),
      storageEntry(3, 'storage'),
      storageEntry(4, 'storage'),
    ],
  });
  const optimizerBindings = limits.maxStorageBuffersPerShaderStage - 4;
  const optimizerPrepareLayout = device.createBindGroupLayout({
    label: 'gradclip optimizer prepare layout',
    entries: [storageEntry(0, 'uniform', true), storageEntry(1, 'read-only-storage', true), storageEntry(2, 'storage')],
  });
  const optimizerDataLayout = device.createBindGroupLayout({
    label: 'gradclip optimizer data layout',
    entries: [
      storageEntry(0, 'read-only-storage'),
      ...Array.from({ length: optimizerBindings }, (_, slot) => storageEntry(slot + 1, 'storage')),
    ],
  });
  const optimizerStateLayout = device.createBindGroupLayout({
    label: 'gradclip optimizer state layout',
    entries: [
      storageEntry(0, 'uniform', true),
      storageEntry(1, 'read-only-storage'),
      storageEntry(2, 'storage'),
      storageEntry(3, 'storage'),
    ],
  });

  // Modules by text: the vec4 and f16 slots change the generated bindings (see plan.ts).
  const modules = new Map<string, GPUShaderModule>();
  function module(label: string, code: () => string): GPUShaderModule {
    let m = modules.get(label);
    if (!m) {
      m = device.createShaderModule({ label: `gradclip ${label}`, code: code() });
      modules.set(label, m);
    }
    return m;
  }

  // The data kernels get one pipeline layout object per slot layout (same bind group layouts):
  // wgpu (Deno 2.9) takes a binding's minimum size from the shader only when a pass switches to a
  // pipeline whose layout is another object, so two dispatch groups whose slot k is vec4<f32> in
  // one and f16 or f32 scalar in the next would keep the first shader's 16-byte minimum.
  const slotPipelineLayouts = new Map<string, GPUPipelineLayout>();
  function slotPipelineLayout(kernel: string, second: GPUBindGroupLayout, slots: SlotLayout): GPUPipelineLayout {
    const label = `gradclip ${kernel} ${slotsLabel(slots)} pipeline layout`;
    let layout = slotPipelineLayouts.get(label);
    if (!layout) {
      layout = device.createPipelineLayout({ label, bindGroupLayouts: [dataLayout, second] });
      slotPipelineLayouts.set(label, layout);
    }
    return layout;
  }
  const finalizePipelineLayout = device.createPipelineLayout({
    label: 'gradclip finalize pipeline layout',
    bindGroupLayouts: [finalizeLayout],
  });

  const layoutOf = (label: string, layouts: GPUBindGroupLayout[]) =>
    device.createPipelineLayout({ label: `gradclip ${label} pipeline layout`, bindGroupLayouts: layouts });
  const segmentFinalizePipelineLayout = layoutOf('segment finalize', [segmentFinalizeLayout]);
  const segmentSummaryPipelineLayout = layoutOf('segment summary', [segmentSummaryLayout]);
  const sumPipelineLayout = layoutOf('per-example sum', [sumDataLayout, sumOutputLayout]);
  const adaptivePipelineLayout = layoutOf('adaptive threshold', [adaptiveLayout]);
  const optimizerPreparePipelineLayout = layoutOf('optimizer prepare', [optimizerPrepareLayout]);
  const optimizerUpdatePipelineLayout = layoutOf('optimizer update', [optimizerDataLayout, optimizerStateLayout]);

  const pipelines = new Map<string, GPUComputePipeline>();
  function pipeline(key: string, layout: GPUPipelineLayout, shader: GPUShaderModule, constants: Record<string, number>) {
    let p = pipelines.get(key);
    if (!p) {
      p = device.createComputePipeline({
        label: `gradclip ${key}`,
        layout,
        compute: { module: shader, entryPoint: 'main', constants: { WG: workgroupSize, ...constants } },
      });
      pipelines.set(key, p);
    }
    return p;
  }

  return {
    device,
    bindings,
    workgroupSize,
    subgroups,
    dataLayout,
    partialsLayout,
    finalizeLayout,
    elementwiseLayout,
    segmentFinalizeLayout,
    segmentSummaryLayout,
    segmentScaleLayout,
    sumBindings,
    sumDataLayout,
    sumOutputLayout,
    adaptiveLayout,
    optimizerBindings,
    optimizerPrepareLayout,
    optimizerDataLayout,
    optimizerStateLayout,
    partials: (kind, layout) => {
      const label = `norm_partials ${slotsLabel(layout)}`;
      const shader = module(label, () => normPartialsShader(bindings, layout.vec4Slots, subgroups, layout.halfSlots));
      return pipeline(`${label} normKind=${kind}`, slotPipelineLayout('partials', partialsLayout, layout), shader, { normKind: kind });
    },
    finalize: (kind, source) => {
      const shader = module('norm_finalize', () => normFinalizeShader(subgroups));
      return pipeline(`norm_finalize normKind=${kind} source=${source}`, finalizePipelineLayout, shader, { normKind: kind, source });
    },
    elementwise: (op, layout) => {
      const label = `elementwise ${slotsLabel(layout)}`;
      const shader = module(label, () => elementwiseShader(bindings, layout.vec4Slots, layout.halfSlots));
      return pipeline(`${label} op=${op}`, slotPipelineLayout('elementwise', elementwiseLayout, layout), shader, { op });
    },
    segmentNorm: (kind, layout) => {
      const label = `segment_norm ${slotsLabel(layout)}`;
      const shader = module(label, () => segmentNormShader(bindings, layout.vec4Slots, subgroups, layout.halfSlots));
      return pipeline(`${label} normKind=${kind}`, slotPipelineLayout('partials', partialsLayout, layout), shader, { normKind: kind });
    },
    segmentFinalize: (kind, rule) => {
      const shader = module('segment_finalize', () => segmentFinalizeShader(subgroups));
      return pipeline(`segment_finalize normKind=${kind} rule=${rule}`, segmentFinalizePipelineLayout, shader, { normKind: kind, rule });
    },
    segmentSummary: (kind, summary) => {
      const shader = module('segment_summary', () => segmentSummaryShader(subgroups));
      return pipeline(`segment_summary normKind=${kind} summary=${summary}`, segmentSummaryPipelineLayout, shader, { normKind: kind, summary });
    },
    segmentScale: (layout) => {
      const label = `segment_scale ${slotsLabel(layout)}`;
      const shader = module(label, () => segmentScaleShader(bindings, layout.vec4Slots, layout.halfSlots));
      return pipeline(label, slotPipelineLayout('segment scale', segmentScaleLayout, layout), shader, {});
    },
    perExampleSum: (vec4Slots) => {
      const label = `per_example_sum vec4Slots=${vec4Slots}`;
      const shader = module(label, () => perExampleSumShader(sumBindings, vec4Slots));
      return pipeline(label, sumPipelineLayout, shader, {});
    },
    adaptive: (rule) => {
      const shader = module('adaptive_threshold', () => adaptiveThresholdShader(subgroups));
      return pipeline(`adaptive_threshold rule=${rule}`, adaptivePipelineLayout, shader, { normKind: 2, rule });
    },
    optimizerPrepare: () => {
      const shader = module('optimizer_prepare', () => optimizerPrepareShader());
      return pipeline('optimizer_prepare', optimizerPreparePipelineLayout, shader, {});
    },
    optimizerUpdate: () => {
      const shader = module('optimizer_update', () => optimizerUpdateShader(optimizerBindings));
      return pipeline('optimizer_update', optimizerUpdatePipelineLayout, shader, {});
    },
  };
}
