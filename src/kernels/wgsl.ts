// Assembles the WGSL modules from the files in shaders/. WGSL has no includes and cannot index
// bindings, so two things are generated here, from the files' own text: the shared declarations
// are concatenated, and each kernel's per-binding blocks are repeated once per binding slot (the
// vec4 block for the first `vec4Slots` slots, the scalar block for the rest, with GRAD_T f16 for
// the slots in `halfSlots` and f32 elsewhere) with `switch` dispatchers that pick the slot once
// per chunk.
import accumulatorWgsl from '../../shaders/common/accumulator.wgsl?raw';
import adaptiveThresholdWgsl from '../../shaders/adaptive/adaptive_threshold.wgsl?raw';
import agcRowsWgsl from '../../shaders/adaptive/agc_rows.wgsl?raw';
import commonWgsl from '../../shaders/common/common.wgsl?raw';
import decisionWgsl from '../../shaders/norm/decision.wgsl?raw';
import elementwiseWgsl from '../../shaders/norm/elementwise.wgsl?raw';
import gradReadWgsl from '../../shaders/common/grad_read.wgsl?raw';
import gradWriteWgsl from '../../shaders/common/grad_write.wgsl?raw';
import normFinalizeWgsl from '../../shaders/norm/norm_finalize.wgsl?raw';
import normPartialsWgsl from '../../shaders/norm/norm_partials.wgsl?raw';
import optimizerCommonWgsl from '../../shaders/optimizer/optimizer_common.wgsl?raw';
import optimizerPrepareWgsl from '../../shaders/optimizer/optimizer_prepare.wgsl?raw';
import optimizerUpdateWgsl from '../../shaders/optimizer/optimizer_update.wgsl?raw';
import perExampleSumWgsl from '../../shaders/segment/per_example_sum.wgsl?raw';
import preludePlainWgsl from '../../shaders/common/prelude_plain.wgsl?raw';
import preludeSubgroupsWgsl from '../../shaders/common/prelude_subgroups.wgsl?raw';
import noiseWgsl from '../../shaders/privacy/noise.wgsl?raw';
import scalerWgsl from '../../shaders/amp/scaler.wgsl?raw';
import scalerUpdateWgsl from '../../shaders/amp/scaler_update.wgsl?raw';
import unscaleWgsl from '../../shaders/amp/unscale.wgsl?raw';
import segmentFinalizeWgsl from '../../shaders/segment/segment_finalize.wgsl?raw';
import segmentNormWgsl from '../../shaders/segment/segment_norm.wgsl?raw';
import segmentScaleWgsl from '../../shaders/segment/segment_scale.wgsl?raw';
import segmentSummaryWgsl from '../../shaders/segment/segment_summary.wgsl?raw';
import { wgslAbiPrelude } from './prelude';
import { FIRST_WINDOW_BINDING } from './layouts';
import viewSearchWgsl from '../../shaders/common/view_search.wgsl?raw';
import planChunksWgsl from '../../shaders/common/plan_chunks.wgsl?raw';

/** No f16 slots: the layout of every set without f16 views. */
export const NO_HALF_SLOTS: readonly [number, number] = [0, 0];

function block(kind: 'vec4' | 'scalar'): RegExp {
  return new RegExp(`// @per-${kind}-binding-begin\\n([\\s\\S]*?)// @per-${kind}-binding-end\\n`);
}

/**
 * Replaces the per-binding blocks with one copy per slot (the vec4 block for the first
 * `vec4Slots`, the scalar block for the rest; f16 elements in slots [halfSlots[0], halfSlots[1])),
 * followed by the dispatchers. A module with f16 slots starts with `enable f16;`.
 */
function expandPerBinding(
  source: string,
  bindings: number,
  vec4Slots: number,
  dispatchers: string,
  halfSlots: readonly [number, number] = NO_HALF_SLOTS,
): string {
  const vec4 = block('vec4').exec(source);
  const scalar = block('scalar').exec(source);
  if ((vec4Slots > 0 && !vec4) || (vec4Slots < bindings && !scalar))
    throw new Error('shader lacks a per-binding block');
  const isHalf = (slot: number) => slot >= halfSlots[0] && slot < halfSlots[1];
  const copies = Array.from({ length: bindings }, (_, slot) =>
    (slot < vec4Slots ? vec4 : scalar)![1]
      .replaceAll('GRAD_T', isHalf(slot) ? 'f16' : 'f32')
      .replaceAll('SLOT_BINDING', String(FIRST_WINDOW_BINDING + slot))
      .replaceAll('SLOT', String(slot)),
  ).join('\n');
  const first = vec4 ? block('vec4') : block('scalar');
  return source.replace(first, `${copies}\n${dispatchers}\n`).replace(block('scalar'), '');
}

/** `enable f16;` first when a module binds f16 gradients (directives precede every declaration). */
function withHalf(parts: string[], halfSlots: readonly [number, number]): string {
  const code = parts.join('\n');
  return halfSlots[1] > halfSlots[0] ? `enable f16;\n${code}` : code;
}

/** `fn name(signature) { switch slot { case i: { call(i) } ... default: { fallback } } }` over `slots`. */
function dispatcher(signature: string, slots: number[], call: (slot: number) => string, fallback: string): string {
  const cases = slots.map((slot) => `    case ${slot}u: { ${call(slot)} }`).join('\n');
  return `fn ${signature} {\n  switch slot {\n${cases}\n    default: { ${fallback} }\n  }\n}`;
}

function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i);
}

/** Every module's shared declarations: the ABI values (generated), then common.wgsl. */
const common = `${wgslAbiPrelude()}\n${commonWgsl}`;

function prelude(subgroups: boolean): string {
  return subgroups ? preludeSubgroupsWgsl : preludePlainWgsl;
}

/** grad_read.wgsl for `bindings` windows, the first `vec4Slots` of them vec4, with its dispatchers. */
function gradRead(bindings: number, vec4Slots: number, halfSlots: readonly [number, number]): string {
  const dispatchers = [
    dispatcher(
      'sweep(slot: u32, offset: u32, count: u32, first: u32, stride: u32, p: f32) -> Acc',
      range(0, bindings),
      (s) => `return sweep_${s}(offset, count, first, stride, p);`,
      'return emptyAcc();',
    ),
    dispatcher(
      'quickSum(slot: u32, offset: u32, count: u32, first: u32, stride: u32, p: f32) -> vec4<f32>',
      range(0, bindings),
      (s) => `return quickSum_${s}(offset, count, first, stride, p);`,
      'return vec4<f32>(0.0);',
    ),
    dispatcher(
      'loadVec(slot: u32, index: u32) -> vec4<f32>',
      range(0, vec4Slots),
      (s) => `return loadVec_${s}(index);`,
      'return vec4<f32>(0.0);',
    ),
  ].join('\n\n');
  return expandPerBinding(gradReadWgsl, bindings, vec4Slots, dispatchers, halfSlots);
}

/** grad_write.wgsl for `bindings` windows, the first `vec4Slots` of them vec4, with its dispatchers. */
function gradWrite(bindings: number, vec4Slots: number, halfSlots: readonly [number, number]): string {
  const dispatchers = [
    dispatcher(
      'apply(slot: u32, offset: u32, count: u32, first: u32, stride: u32, coef: f32, lo: f32, hi: f32)',
      range(0, bindings),
      (s) => `apply_${s}(offset, count, first, stride, coef, lo, hi);`,
      '',
    ),
    dispatcher(
      'applyMasked(slot: u32, index: u32, mask: vec4<bool>, coef: f32, lo: f32, hi: f32)',
      range(0, vec4Slots),
      (s) => `applyMasked_${s}(index, mask, coef, lo, hi);`,
      '',
    ),
  ].join('\n\n');
  return expandPerBinding(gradWriteWgsl, bindings, vec4Slots, dispatchers, halfSlots);
}

/** What every kernel that merges accumulators starts with. */
function accumulating(subgroups: boolean): string[] {
  return [prelude(subgroups), common, accumulatorWgsl];
}

/** Pass 1 of the norm over `bindings` data bindings, the first `vec4Slots` of them vec4, slots `halfSlots` f16. */
export function normPartialsShader(
  bindings: number,
  vec4Slots: number,
  subgroups: boolean,
  halfSlots = NO_HALF_SLOTS,
): string {
  return withHalf(
    [...accumulating(subgroups), gradRead(bindings, vec4Slots, halfSlots), planChunksWgsl, normPartialsWgsl],
    halfSlots,
  );
}

/** Pass 2 of the norm: partials to norm, coefficient and indirect arguments (unscaled by a GradScaler's factor when `scaled`). */
export function normFinalizeShader(subgroups: boolean): string {
  return [...accumulating(subgroups), scalerWgsl, decisionWgsl, normFinalizeWgsl].join('\n');
}

/** The in-place scale / clamp pass over `bindings` data bindings, the first `vec4Slots` of them vec4, slots `halfSlots` f16. */
export function elementwiseShader(bindings: number, vec4Slots: number, halfSlots = NO_HALF_SLOTS): string {
  return withHalf([common, gradWrite(bindings, vec4Slots, halfSlots), planChunksWgsl, elementwiseWgsl], halfSlots);
}

/** A GradScaler's unscale in place over `bindings` data bindings, with its found-inf check. */
export function unscaleShader(bindings: number, vec4Slots: number, halfSlots = NO_HALF_SLOTS): string {
  return withHalf(
    [common, scalerWgsl, gradWrite(bindings, vec4Slots, halfSlots), planChunksWgsl, unscaleWgsl],
    halfSlots,
  );
}

/** A GradScaler's update(): PyTorch's rule on the scaler's state. */
export function scalerUpdateShader(): string {
  return [common, scalerWgsl, scalerUpdateWgsl].join('\n');
}

/** Per-segment norms, pass 1 (one lane per piece). */
export function segmentNormShader(
  bindings: number,
  vec4Slots: number,
  subgroups: boolean,
  halfSlots = NO_HALF_SLOTS,
): string {
  return withHalf([...accumulating(subgroups), gradRead(bindings, vec4Slots, halfSlots), segmentNormWgsl], halfSlots);
}

/** Per-segment norms, pass 2 (one lane per segment). */
export function segmentFinalizeShader(subgroups: boolean): string {
  return [...accumulating(subgroups), segmentFinalizeWgsl].join('\n');
}

/** Per-segment norms, pass 3 (the set's total, or the count clipped). */
export function segmentSummaryShader(subgroups: boolean): string {
  return [...accumulating(subgroups), segmentSummaryWgsl].join('\n');
}

/** Per-segment scale in place. */
export function segmentScaleShader(bindings: number, vec4Slots: number, halfSlots = NO_HALF_SLOTS): string {
  return withHalf([common, gradWrite(bindings, vec4Slots, halfSlots), segmentScaleWgsl], halfSlots);
}

/** Per-example sums over `bindings` read-only views, the first `vec4Slots` of them vec4. */
export function perExampleSumShader(bindings: number, vec4Slots: number): string {
  const dispatchers = dispatcher(
    'sumLane(slot: u32, view: vec4<u32>, first: u32, stride: u32)',
    range(0, bindings),
    (s) => `sumLane_${s}(view, first, stride);`,
    '',
  );
  return [common, noiseWgsl, expandPerBinding(perExampleSumWgsl, bindings, vec4Slots, dispatchers)].join('\n');
}

/** AutoClip / ZClip: the step's norm, the rule's GPU state and the decision. */
export function adaptiveThresholdShader(subgroups: boolean): string {
  return [...accumulating(subgroups), decisionWgsl, adaptiveThresholdWgsl].join('\n');
}

/** agc_rows.wgsl's windows: the gradients' (slot 0) and the weights' (slot 1), both vec4<f32>. */
export const AGC_ROW_SLOTS = 2;

/** AGC in one pass over rows a lane reads whole. */
export function agcRowsShader(subgroups: boolean): string {
  return [...accumulating(subgroups), gradRead(AGC_ROW_SLOTS, AGC_ROW_SLOTS, NO_HALF_SLOTS), agcRowsWgsl].join('\n');
}

/** The fused optimizer step, pass 1: the step's skip flag, count and bias corrections. */
export function optimizerPrepareShader(): string {
  return [common, scalerWgsl, optimizerCommonWgsl, optimizerPrepareWgsl].join('\n');
}

/** The fused optimizer step, pass 2: clip and update over `bindings` read-write windows, slots `halfSlots` f16 (gradients). */
export function optimizerUpdateShader(bindings: number, halfSlots = NO_HALF_SLOTS): string {
  const slots = range(0, bindings);
  const dispatchers = [
    dispatcher(
      'load4(slot: u32, index: u32) -> vec4<f32>',
      slots,
      (s) => `return load4_${s}(index);`,
      'return vec4<f32>(0.0);',
    ),
    dispatcher('store4(slot: u32, index: u32, value: vec4<f32>)', slots, (s) => `store4_${s}(index, value);`, ''),
    dispatcher(
      'loadPart(slot: u32, index: u32, count: u32) -> vec4<f32>',
      slots,
      (s) => `return loadPart_${s}(index, count);`,
      'return vec4<f32>(0.0);',
    ),
    dispatcher(
      'storePart(slot: u32, index: u32, value: vec4<f32>, count: u32)',
      slots,
      (s) => `storePart_${s}(index, value, count);`,
      '',
    ),
  ].join('\n\n');
  return withHalf(
    [
      common,
      optimizerCommonWgsl,
      viewSearchWgsl,
      expandPerBinding(optimizerUpdateWgsl, bindings, 0, dispatchers, halfSlots),
    ],
    halfSlots,
  );
}
