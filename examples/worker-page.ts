// The page side of examples/worker.ts: starts the worker, posts the data (its buffers transferred,
// not copied) and collects the norms the worker posts back. The `page` region is the block of
// docs/guide/workers.md; test/browser/worker.test.ts runs it.
import type { TrainMessage, TrainRequest } from './worker';

/** A seeded regression data set: y = sum of x, with noise. */
function regression(rows: number, features: number): { inputs: Float32Array; targets: Float32Array } {
  let state = 7;
  const random = () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return (state / 2 ** 31) * 2 - 1;
  };
  const inputs = Float32Array.from({ length: rows * features }, random);
  const targets = Float32Array.from({ length: rows }, (_, r) => {
    let sum = 0;
    for (let f = 0; f < features; f++) sum += inputs[r * features + f];
    return sum + 0.01 * random();
  });
  return { inputs, targets };
}

/** Trains in the worker; resolves with the norms it posted and the loss of each epoch. */
export function run({ epochs = 50 } = {}): Promise<{ norms: Array<{ step: number; norm: number }>; losses: number[] }> {
  const { inputs, targets } = regression(256, 8);
  const norms: Array<{ step: number; norm: number }> = [];
  // #region page
  const worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' });
  const request: TrainRequest = { inputs, targets, features: 8, epochs };
  worker.postMessage(request, [inputs.buffer, targets.buffer]); // moved to the worker, not copied
  return new Promise((resolve, reject) => {
    worker.onmessage = ({ data }: MessageEvent<TrainMessage>) => {
      if (data.kind === 'norm') norms.push(data); // e.g. draw it: the page never waits on the GPU
      if (data.kind === 'done') resolve({ norms, losses: data.losses });
      if (data.kind === 'error') reject(new Error(`${data.code ?? 'error'}: ${data.message}`));
      if (data.kind !== 'norm') worker.terminate();
    };
    worker.onerror = (event) => reject(new Error(event.message));
  });
  // #endregion page
}
