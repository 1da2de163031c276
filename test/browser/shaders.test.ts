// Every generated WGSL module compiles without errors or warnings on this implementation, with and
// without subgroups, for the binding counts real devices have; and the plain prelude really runs.
import { expect, test } from 'vitest';
import { createClipper } from 'gradclip';
import { totalNormReference } from 'gradclip/reference';
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
} from '../../src/kernels/wgsl';
import { randomGradient, relativeError, seededRandom } from '../shared/random';
import { readBack, upload, withErrorScopes } from './gpu';

test('shaders compile cleanly', async () => {
  const adapter = await navigator.gpu.requestAdapter();
  const subgroups = adapter!.features.has('subgroups');
  const device = await adapter!.requestDevice({ requiredFeatures: subgroups ? ['subgroups' as GPUFeatureName] : [] });
  const modules: Array<[string, string]> = [];
  for (const [bindings, vec4Slots] of [
    [1, 1],
    [1, 0],
    [6, 6],
    [6, 2],
    [8, 8],
  ]) {
    modules.push([`partials plain ${bindings}/${vec4Slots}`, normPartialsShader(bindings, vec4Slots, false)]);
    if (subgroups)
      modules.push([`partials subgroups ${bindings}/${vec4Slots}`, normPartialsShader(bindings, vec4Slots, true)]);
    modules.push([`elementwise ${bindings}/${vec4Slots}`, elementwiseShader(bindings, vec4Slots)]);
    modules.push([`segment norm ${bindings}/${vec4Slots}`, segmentNormShader(bindings, vec4Slots, subgroups)]);
    modules.push([`segment scale ${bindings}/${vec4Slots}`, segmentScaleShader(bindings, vec4Slots)]);
    modules.push([`per-example sum ${bindings}/${vec4Slots}`, perExampleSumShader(bindings, vec4Slots)]);
    modules.push([`optimizer update ${bindings}`, optimizerUpdateShader(bindings)]);
  }
  modules.push(['optimizer prepare', optimizerPrepareShader()]);
  for (const withSubgroups of subgroups ? [false, true] : [false]) {
    const kind = withSubgroups ? 'subgroups' : 'plain';
    modules.push([`finalize ${kind}`, normFinalizeShader(withSubgroups)]);
    modules.push([`segment finalize ${kind}`, segmentFinalizeShader(withSubgroups)]);
    modules.push([`segment summary ${kind}`, segmentSummaryShader(withSubgroups)]);
    modules.push([`adaptive threshold ${kind}`, adaptiveThresholdShader(withSubgroups)]);
  }
  const messages: string[] = [];
  for (const [name, code] of modules) {
    const info = await device.createShaderModule({ code }).getCompilationInfo();
    for (const m of info.messages) {
      messages.push(`${name} ${m.type} ${m.lineNum}:${m.linePos} ${m.message} | ${code.split('\n')[m.lineNum - 1]}`);
    }
  }
  expect(messages).toEqual([]);
  device.destroy();
});

test('a device without subgroups runs the plain workgroup combine', async () => {
  const adapter = await navigator.gpu.requestAdapter();
  const device = await adapter!.requestDevice();
  expect(device.features.has('subgroups')).toBe(false);
  const clipper = await createClipper({ device, maxWorkgroups: 16 });
  await withErrorScopes(device, async () => {
    const grad = randomGradient(123_457, seededRandom(12), 2);
    const buffer = upload(device, grad);
    const set = clipper.gradients([buffer]);
    for (const p of [2, Infinity, 1.5]) {
      const norm = await clipper.getTotalNorm(set, { normType: p }).read();
      expect(relativeError(norm, totalNormReference([grad], p))).toBeLessThan(1e-5);
    }
    await clipper.clipGradNorm(set, 1).read();
    const after = await readBack(device, buffer);
    expect(relativeError(totalNormReference([after], 2), 1)).toBeLessThan(1e-5);
  });
  device.destroy();
});
