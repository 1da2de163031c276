// The WGSL that gradclip generates for its main configurations, kept as files beside this test
// (__snapshots__/wgsl/*.wgsl): a change to generation shows up as a readable diff of the WGSL it
// makes (shader files and the ABI prelude, included as they are, appear as one marker line each;
// the prelude has a snapshot of its own). Update with `npx vitest run --project node -u`, review.
import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { expect, test } from 'vitest';
import { wgslAbiPrelude } from '../../src/kernels/prelude';
import * as wgsl from '../../src/kernels/wgsl';

// Text included verbatim (a shader file, the ABI prelude) stands as one marker line, so each
// snapshot shows what generation made and where the fixed parts go, not the fixed parts again.
const shaderRoot = resolve(import.meta.dirname, '../../shaders');
const verbatim = [
  ...readdirSync(shaderRoot, { recursive: true })
    .map(String)
    .filter((f) => f.endsWith('.wgsl'))
    .map((f) => ({ name: `shaders/${f}`, text: readFileSync(join(shaderRoot, f), 'utf8') })),
  { name: 'the ABI prelude (src/core/abi.ts, src/kernels/layouts.ts)', text: wgslAbiPrelude() },
];

function generatedParts(code: string): string {
  return verbatim.reduce((text, { name, text: part }) => text.replace(part, `// ⟨${name}⟩\n`), code);
}

const configurations: Array<[file: string, code: () => string]> = [
  ['abi-prelude', () => wgslAbiPrelude()],
  ['norm-partials-8-vec4-subgroups', () => wgsl.normPartialsShader(8, 8, true)],
  ['norm-partials-3-bindings-1-vec4-plain', () => wgsl.normPartialsShader(3, 1, false)],
  ['norm-partials-4-bindings-f16-slots-1-3', () => wgsl.normPartialsShader(4, 2, true, [1, 3])],
  ['norm-finalize-subgroups', () => wgsl.normFinalizeShader(true)],
  ['norm-finalize-plain', () => wgsl.normFinalizeShader(false)],
  ['elementwise-2-bindings-1-vec4', () => wgsl.elementwiseShader(2, 1)],
  ['segment-norm-3-bindings-2-vec4-plain', () => wgsl.segmentNormShader(3, 2, false)],
  ['segment-finalize-subgroups', () => wgsl.segmentFinalizeShader(true)],
  ['segment-summary-plain', () => wgsl.segmentSummaryShader(false)],
  ['segment-scale-2-bindings', () => wgsl.segmentScaleShader(2, 2)],
  ['per-example-sum-3-bindings-1-vec4', () => wgsl.perExampleSumShader(3, 1)],
  ['adaptive-threshold-subgroups', () => wgsl.adaptiveThresholdShader(true)],
  ['agc-rows-plain', () => wgsl.agcRowsShader(false)],
  ['optimizer-prepare', () => wgsl.optimizerPrepareShader()],
  ['optimizer-update-4-bindings', () => wgsl.optimizerUpdateShader(4)],
];

test.each(configurations)('%s', async (file, code) => {
  const text = file === 'abi-prelude' ? code() : generatedParts(code());
  await expect(text).toMatchFileSnapshot(`./__snapshots__/wgsl/${file}.wgsl`);
});
