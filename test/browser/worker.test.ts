// gradclip inside a dedicated module worker, where a browser training loop runs to keep its page
// responsive: createClipper() and read(), the whole seams matrix on the worker's own device and on
// the CPU backend, TF.js's WebGPU backend with clippedOptimizer in model.fit, and a worker without
// WebGPU (the CPU fallback says why; backend 'webgpu' is a GradclipError that says so). Runs in
// Chromium (npm test) and Firefox (npm run test:firefox).
import { afterEach, expect, test } from 'vitest';
import { run as runExample } from '../../examples/worker-page';
import type { errorData, JOBS, JobName } from './worker/jobs';

type Reply<T> = { ok: true; value: T } | { ok: false; error: ReturnType<typeof errorData> };

const workers: Worker[] = [];
afterEach(() => {
  for (const w of workers.splice(0)) w.terminate();
});

/** Runs `job` in a new dedicated module worker and resolves with what it posts back. */
async function inWorker<N extends JobName>(job: N): Promise<Awaited<ReturnType<(typeof JOBS)[N]>>> {
  const worker = new Worker(new URL('./worker/entry.ts', import.meta.url), { type: 'module' });
  workers.push(worker);
  const reply = await new Promise<Reply<Awaited<ReturnType<(typeof JOBS)[N]>>>>((resolve, reject) => {
    worker.onmessage = (event) => resolve(event.data);
    worker.onerror = (event) => reject(new Error(`the worker failed to load or threw: ${event.message}`));
    worker.postMessage({ job });
  });
  if (!reply.ok)
    throw new Error(`${job} in the worker: ${reply.error.name} (${reply.error.code}) ${reply.error.message}`);
  return reply.value;
}

test('a dedicated module worker with WebGPU and no document', async () => {
  expect(await inWorker('environment')).toEqual({ dedicatedWorker: true, noDocument: true, webgpu: true });
});

test('createClipper() in the worker: the WebGPU backend, its autotune, a clip and read()', async () => {
  const { backend, tuned, norm, values } = await inWorker('clipper');
  expect(backend).toBe('webgpu');
  expect(tuned).toBe('autotune');
  expect(norm).toBe(5);
  const coefficient = Math.fround(1 / (5 + 1e-6));
  values.forEach((v, i) => expect(v).toBeCloseTo([3, 0, 4, 0][i] * coefficient, 6));
});

test('the seams matrix in the worker: every producer × consumer × axis, on the GPU and the CPU backend', async () => {
  const { counts, failures } = await inWorker('seams');
  expect(failures).toEqual([]);
  expect(counts.webgpu).toBeGreaterThan(100);
  expect(counts.cpu).toBeGreaterThan(50);
});

test('TF.js on the worker’s device: model.fit with clippedOptimizer equals the clip in TF.js ops', async () => {
  const { backend, onGpu, inOps } = await inWorker('tfjsFit');
  expect(backend).toBe('webgpu');
  expect(onGpu.losses.at(-1)!).toBeLessThan(onGpu.losses[0]);
  expect(onGpu.norms).toHaveLength(20);
  expect(Math.max(...onGpu.norms)).toBeGreaterThan(0.5); // the clip acted: the bound is 0.5
  onGpu.weights.forEach((w, i) =>
    w.forEach((v, k) =>
      expect(Math.abs(v - inOps.weights[i][k]), `weight ${i}[${k}]`).toBeLessThanOrEqual(1e-5 * Math.abs(v) + 1e-7),
    ),
  );
});

test('a worker without WebGPU: the CPU backend says why; backend webgpu is a GradclipError naming the worker', async () => {
  const { backend, fallbackReason, rejected } = await inWorker('withoutWebgpu');
  expect(backend).toBe('cpu');
  expect(fallbackReason).toMatch(/worker/);
  expect(rejected).toMatchObject({ name: 'GradclipError', code: 'unsupported' });
  expect(rejected!.message).toMatch(/worker/);
});

test('examples/worker.ts: the page posts batches, the worker trains and posts the gradient norms back', async () => {
  const { norms, losses } = await runExample({ epochs: 30 });
  expect(norms.length).toBeGreaterThan(0);
  for (const n of norms) expect(n.norm).toBeGreaterThan(0);
  expect(losses.at(-1)!).toBeLessThan(losses[0]);
});
