import { expect, test } from 'vitest';
import { elementwiseShader, normFinalizeShader, normPartialsShader } from '../../src/shaders';

test('shaders compile', async () => {
  const adapter = await navigator.gpu.requestAdapter();
  const device = await adapter!.requestDevice({ requiredFeatures: ['subgroups' as GPUFeatureName] });
  const msgs: string[] = [];
  for (const [name, code] of [
    ['partials', normPartialsShader(6, true)],
    ['partials-plain', normPartialsShader(6, false)],
    ['finalize', normFinalizeShader(true)],
    ['elementwise', elementwiseShader(6)],
  ] as const) {
    const m = device.createShaderModule({ code });
    const info = await m.getCompilationInfo();
    for (const msg of info.messages) msgs.push(`${name} ${msg.type} ${msg.lineNum}:${msg.linePos} ${msg.message} | ${code.split('\n')[msg.lineNum - 1]}`);
  }
  console.log(msgs.join('\n'));
  expect(msgs.filter((m) => m.includes(' error '))).toEqual([]);
});
