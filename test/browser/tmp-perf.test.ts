import { test } from 'vitest';
import { createClipper, createGradientArena } from '../../src/index';
import { sharedDevice } from './gpu';

test('perf', async () => {
  const device = await sharedDevice();
  const { views, buffer } = createGradientArena(device, [4 * 1024 * 1024]);
  device.queue.writeBuffer(buffer, 0, new Float32Array(4 * 1024 * 1024).map((_, i) => Math.sin(i)));
  const lines: string[] = [];
  for (const cap of [2, 4, 8, 16, 64, 256]) {
    const clipper = await createClipper({ device, maxWorkgroups: cap });
    const set = clipper.gradients(views);
    for (const [name, fn] of [['norm2', () => clipper.getTotalNorm(set)], ['norm1', () => clipper.getTotalNorm(set, { normType: 1 })], ['normInf', () => clipper.getTotalNorm(set, { normType: Infinity })], ['value', () => clipper.clipGradValue(set, 10)]] as const) {
      fn(); await device.queue.onSubmittedWorkDone();
      const ts: number[] = [];
      for (let r = 0; r < 5; r++) { const t = performance.now(); fn(); await device.queue.onSubmittedWorkDone(); ts.push(performance.now() - t); }
      ts.sort((a, b) => a - b);
      lines.push(`cap=${cap} ${name}: ${ts[2].toFixed(1)} ms`);
    }
    clipper.destroy();
  }
  console.log(lines.join('\n'));
}, 300000);
