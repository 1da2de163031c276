// The WGSL that gradclip generates for its main configurations, kept as files beside this test
// (__snapshots__/wgsl/*.wgsl): a change to generation, to a shader or to the ABI prelude shows up
// as a readable diff of the shader text. Update with `npx vitest run --project node -u` and review.
import { expect, test } from 'vitest';
import * as wgsl from '../../src/kernels/wgsl';

const configurations: Array<[file: string, code: () => string]> = [
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
  ['optimizer-prepare', () => wgsl.optimizerPrepareShader()],
  ['optimizer-update-4-bindings', () => wgsl.optimizerUpdateShader(4)],
];

test.each(configurations)('%s', async (file, code) => {
  await expect(code()).toMatchFileSnapshot(`./__snapshots__/wgsl/${file}.wgsl`);
});
