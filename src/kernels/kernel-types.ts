// What a device's kernels are (the Kernels every GPU module records with) and what their getters
// are built from; kernels/registry.ts builds them, norm-kernels.ts and step-kernels.ts hold the getters.
import type { SEGMENT_RULES, SOURCES } from '../core/abi';
import type { NormKind } from '../plan/validate';
import type { SlotLayout } from '../plan/windows';
import type { BindingCounts, Layouts } from './layouts';
import type { PipelineCache } from './pipeline-cache';

/** Which kernel variant: where finalize takes the norm from (see norm_finalize.wgsl). */
export type NormSource = (typeof SOURCES)[keyof typeof SOURCES];

/** segment_finalize.wgsl's `rule`: what a segment's coefficient is. */
export type SegmentRule = (typeof SEGMENT_RULES)[keyof typeof SEGMENT_RULES];

/** What the kernel getters build from. */
export interface KernelBuild {
  counts: BindingCounts;
  subgroups: boolean;
  layouts: Layouts;
  cache: PipelineCache;
}

export interface Kernels extends Layouts, BindingCounts {
  readonly device: GPUDevice;
  readonly workgroupSize: number;
  readonly subgroups: boolean;
  /** The norm's first pass for a dispatch group of this slot layout (vec4 and f16 slots). */
  partials(kind: NormKind, layout: SlotLayout): GPUComputePipeline;
  /** The norm's second pass; `scaled`: a GradScaler's (the norm and coefficient unscaled, found-inf recorded). */
  finalize(kind: NormKind, source: NormSource, scaled: boolean): GPUComputePipeline;
  /** The scale/clamp pass for a dispatch group of this slot layout. */
  elementwise(op: number, layout: SlotLayout): GPUComputePipeline;
  segmentNorm(kind: NormKind, layout: SlotLayout): GPUComputePipeline;
  segmentFinalize(kind: NormKind, rule: SegmentRule): GPUComputePipeline;
  segmentSummary(kind: NormKind, summary: number): GPUComputePipeline;
  segmentScale(layout: SlotLayout): GPUComputePipeline;
  /** The per-example sum for a dispatch whose first `vec4Slots` views are vec4, with noise or without. */
  perExampleSum(vec4Slots: number, noisy: boolean): GPUComputePipeline;
  adaptive(rule: number): GPUComputePipeline;
  /** AGC in one pass over rows a lane reads whole: gradients in window slot 0, weights in slot 1 (agc_rows.wgsl). */
  agcRows(): GPUComputePipeline;
  optimizerPrepare(scaled: boolean): GPUComputePipeline;
  /**
   * The update pass specialised for one optimizer's rule (override constants of
   * optimizer_update.wgsl), its window slots and the f16 gradient windows' slot range.
   */
  optimizerUpdate(
    variant: OptimizerVariant,
    slots: OptimizerSlots,
    halfSlots: readonly [number, number],
  ): GPUComputePipeline;
  /** A GradScaler's unscale over a dispatch group of this slot layout. */
  unscale(layout: SlotLayout): GPUComputePipeline;
  /** A GradScaler's update(). */
  scalerUpdate(): GPUComputePipeline;
  /** Builds side by side the pipelines `ask` asks these getters for (PipelineCache.prebuild). */
  prebuild(ask: () => void): Promise<void>;
}

/** What optimizer_update.wgsl is specialised for: OPTIMIZER.OPT_* and CLIP_*, SGD's momentum options, and a GradScaler. */
export interface OptimizerVariant {
  kind: number;
  clipKind: number;
  momentum: boolean;
  nesterov: boolean;
  scaled: boolean;
}

/** The window slots of a dispatch whose every view has its gradients in one and its parameters in one; null: mixed. */
export type OptimizerSlots = readonly [gradSlot: number, paramSlot: number] | null;
