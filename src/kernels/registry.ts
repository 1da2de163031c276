// Bind-group layouts and compute pipelines, built once per device and cached in a WeakMap so they
// vanish with the device. Pipelines are keyed by everything that changes the compiled shader:
// the device's binding count and subgroup support (module text) and the override constants.
import { ADAPTIVE_RULES, OPS, SEGMENT_RULES, SOURCES, SUMMARIES } from '../core/abi';
import { bindingCounts, createLayouts } from './layouts';
import type { KernelBuild, Kernels } from './kernel-types';
import { normKernels } from './norm-kernels';
import { PipelineCache } from './pipeline-cache';
import { stepKernels } from './step-kernels';

export { RESERVED_STORAGE_BINDINGS } from './layouts';
export { PARTIAL_BYTES, PARAMS_BYTES, RESULT_BYTES, SEGMENT_NORM_BYTES } from '../core/abi';

export type { Kernels, NormSource, OptimizerSlots, OptimizerVariant, SegmentRule } from './kernel-types';
export const { SOURCE_PARTIALS, SOURCE_RESULT, SOURCE_PARAMS } = SOURCES;
export const { OP_SCALE, OP_CLAMP } = OPS;

/** segment_finalize.wgsl's `rule`s: what a segment's coefficient is. */
export const { RULE_NORMS, RULE_CLIP_BY_NORM, RULE_PER_EXAMPLE, RULE_AGC } = SEGMENT_RULES;
/** segment_summary.wgsl's `summary`: the total norm, or the number of segments clipped. */
export const { SUMMARY_TOTAL_NORM, SUMMARY_COUNT_CLIPPED } = SUMMARIES;
/** adaptive_threshold.wgsl's `rule`. */
export const { ADAPTIVE_AUTOCLIP, ADAPTIVE_ZCLIP } = ADAPTIVE_RULES;

const kernelsByDevice = new WeakMap<GPUDevice, Kernels>();

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
  const build: KernelBuild = { counts, subgroups, layouts, cache };

  return {
    device,
    ...counts,
    workgroupSize,
    subgroups,
    ...layouts,
    ...normKernels(build),
    ...stepKernels(build),
    prebuild: (ask) => cache.prebuild(ask),
  };
}
