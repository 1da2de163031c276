// Assembles the WGSL modules from the files in shaders/. WGSL has no includes and cannot index
// bindings, so two things are generated here, from the files' own text: the shared declarations
// are concatenated, and each kernel's per-binding block is repeated once per binding slot with a
// `switch` that picks the slot once per chunk.
import accumulatorWgsl from '../shaders/accumulator.wgsl?raw';
import commonWgsl from '../shaders/common.wgsl?raw';
import elementwiseWgsl from '../shaders/elementwise.wgsl?raw';
import normFinalizeWgsl from '../shaders/norm_finalize.wgsl?raw';
import normPartialsWgsl from '../shaders/norm_partials.wgsl?raw';
import preludePlainWgsl from '../shaders/prelude_plain.wgsl?raw';
import preludeSubgroupsWgsl from '../shaders/prelude_subgroups.wgsl?raw';

const BLOCK = /\/\/ @per-binding-begin\n([\s\S]*?)\/\/ @per-binding-end\n/;

/** Repeats the per-binding block for slots 0..bindings-1 (binding = slot + 1) and adds `dispatcher`. */
function expandPerBinding(source: string, bindings: number, dispatcher: string): string {
  const match = BLOCK.exec(source);
  if (!match) throw new Error('shader lacks a per-binding block');
  const copies = Array.from({ length: bindings }, (_, slot) =>
    match[1].replaceAll('SLOT_BINDING', String(slot + 1)).replaceAll('SLOT', String(slot)),
  ).join('\n');
  return source.replace(BLOCK, `${copies}\n${dispatcher}\n`);
}

function switchOver(bindings: number, call: (slot: number) => string, fallback: string): string {
  const cases = Array.from({ length: bindings }, (_, slot) => `    case ${slot}u: { ${call(slot)} }`).join('\n');
  return `  switch slot {\n${cases}\n    default: { ${fallback} }\n  }`;
}

function prelude(subgroups: boolean): string {
  return subgroups ? preludeSubgroupsWgsl : preludePlainWgsl;
}

/** Pass 1 of the norm over `bindings` data bindings. */
export function normPartialsShader(bindings: number, subgroups: boolean): string {
  const dispatchers =
    'fn sweep(slot: u32, acc: Acc, offset: u32, count: u32, lane: u32, p: f32) -> Acc {\n' +
    switchOver(bindings, (s) => `return sweep_${s}(acc, offset, count, lane, p);`, 'return acc;') +
    '\n}\n\nfn loadVec(slot: u32, index: u32) -> vec4<f32> {\n' +
    switchOver(bindings, (s) => `return loadVec_${s}(index);`, 'return vec4<f32>(0.0);') +
    '\n}';
  return [prelude(subgroups), commonWgsl, accumulatorWgsl, expandPerBinding(normPartialsWgsl, bindings, dispatchers)].join('\n');
}

/** Pass 2 of the norm: partials to norm, coefficient and indirect arguments. */
export function normFinalizeShader(subgroups: boolean): string {
  return [prelude(subgroups), commonWgsl, accumulatorWgsl, normFinalizeWgsl].join('\n');
}

/** The in-place scale / clamp pass over `bindings` data bindings. */
export function elementwiseShader(bindings: number): string {
  const dispatchers =
    'fn apply(slot: u32, offset: u32, count: u32, lane: u32, coef: f32, lo: f32, hi: f32) {\n' +
    switchOver(bindings, (s) => `apply_${s}(offset, count, lane, coef, lo, hi);`, '') +
    '\n}\n\nfn applyMasked(slot: u32, index: u32, mask: vec4<bool>, coef: f32, lo: f32, hi: f32) {\n' +
    switchOver(bindings, (s) => `applyMasked_${s}(index, mask, coef, lo, hi);`, '') +
    '\n}';
  return [commonWgsl, expandPerBinding(elementwiseWgsl, bindings, dispatchers)].join('\n');
}
