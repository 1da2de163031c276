import { test } from 'vitest';
import { createClipper, createGradientArena } from '../../src/index';
import { sharedDevice } from './gpu';

test('perf', async () => {
  const device = await sharedDevice();
  const n = 4 * 1024 * 1024;
  const { views, buffer } = createGradientArena(device, [n]);
  const pristine = device.createBuffer({ size: n * 4, usage: GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
  device.queue.writeBuffer(pristine, 0, new Float32Array(n).map((_, i) => Math.sin(i)));
  const lines: string[] = [];
  const reset = async () => { const e = device.createCommandEncoder(); e.copyBufferToBuffer(pristine, 0, buffer, 0, n * 4); device.queue.submit([e.finish()]); await device.queue.onSubmittedWorkDone(); };
  for (const cap of [4, 8]) {
    const clipper = await createClipper({ device, maxWorkgroups: cap });
    const set = clipper.gradients(views);
    for (const [name, fn] of [
      ['clip2', () => clipper.clipGradNorm(set, 1)], ['noclip2', () => clipper.clipGradNorm(set, 1e9)],
      ['clipInf', () => clipper.clipGradNorm(set, 0.5, { normType: Infinity })], ['noclipInf', () => clipper.clipGradNorm(set, 1e9, { normType: Infinity })],
      ['clip1', () => clipper.clipGradNorm(set, 1, { normType: 1 })],
      ['with1', () => clipper.clipGradsWithNorm(set, 1, 2)],
      ['value', () => clipper.clipGradValue(set, 0.5)]] as const) {
      await reset(); fn(); await device.queue.onSubmittedWorkDone();
      const ts: number[] = [];
      for (let r = 0; r < 7; r++) { await reset(); const t = performance.now(); fn(); await device.queue.onSubmittedWorkDone(); ts.push(performance.now() - t); }
      ts.sort((a, b) => a - b);
      lines.push(`cap=${cap} ${name}: ${ts[3].toFixed(1)} ms`);
    }
    clipper.destroy();
  }
  console.log(lines.join('\n'));
}, 300000);
