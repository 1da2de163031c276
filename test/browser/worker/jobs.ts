// What the worker suite runs inside a dedicated module worker (test/browser/worker/entry.ts): each
// job returns plain data the page can check. The seams matrix runs here whole, on both backends,
// so every operation and every producer × consumer pair is exercised in a worker.
import * as tfl from '@tensorflow/tfjs-layers';
import { createClipper, GradclipError } from 'gradclip';
import { clippedOptimizer } from 'gradclip/tfjs';
import { tfjsOn } from '../../../demo/tfjs-device';
import { cpuSeams, gpuSeams, seamsMatrix } from '../../shared/seams';

let devicePromise: Promise<GPUDevice> | null = null;

function workerDevice(): Promise<GPUDevice> {
  devicePromise ??= (async () => {
    const adapter = await navigator.gpu.requestAdapter();
    if (!adapter) throw new Error('no WebGPU adapter in the worker');
    const wanted = ['subgroups', 'timestamp-query', 'shader-f16'] as GPUFeatureName[];
    return adapter.requestDevice({ requiredFeatures: wanted.filter((f) => adapter.features.has(f)) });
  })();
  return devicePromise;
}

/** A GradclipError as data (structured clone keeps an Error's message, not its class or code). */
export function errorData(error: unknown): { name: string; code: string | null; message: string } {
  if (error instanceof GradclipError) return { name: error.name, code: error.code, message: error.message };
  return { name: error instanceof Error ? error.name : typeof error, code: null, message: String(error) };
}

export const JOBS = {
  /** Where the job runs: a dedicated worker, with or without WebGPU. */
  async environment() {
    const scope = globalThis as { WorkerGlobalScope?: unknown; DedicatedWorkerGlobalScope?: new () => unknown };
    return {
      dedicatedWorker:
        typeof scope.DedicatedWorkerGlobalScope === 'function' &&
        globalThis instanceof scope.DedicatedWorkerGlobalScope,
      noDocument: typeof (globalThis as { document?: unknown }).document === 'undefined',
      webgpu: Boolean(navigator.gpu),
    };
  },

  /** createClipper() as an app calls it, its clip on a GPU buffer and read(). */
  async clipper() {
    const clipper = await createClipper();
    const device = clipper.device!;
    const buffer = device.createBuffer({
      size: 16,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
    });
    device.queue.writeBuffer(buffer, 0, new Float32Array([3, 0, 4, 0]));
    const norm = await clipper.clipGradNorm(clipper.gradients([buffer]), 1).read();
    const staging = device.createBuffer({ size: 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    const encoder = device.createCommandEncoder();
    encoder.copyBufferToBuffer(buffer, 0, staging, 0, 16);
    device.queue.submit([encoder.finish()]);
    await staging.mapAsync(GPUMapMode.READ);
    const values = Array.from(new Float32Array(staging.getMappedRange()));
    staging.unmap();
    const result = { backend: clipper.backend, tuned: clipper.tuning?.source ?? null, norm, values };
    clipper.destroy();
    device.destroy();
    return result;
  },

  /** The seams matrix (every producer × consumer × axis) on the worker's own device and on the CPU backend. */
  async seams() {
    const failures: Array<{ name: string; message: string }> = [];
    const counts: Record<string, number> = {};
    for (const backend of [gpuSeams(workerDevice, 4), cpuSeams()]) {
      const matrix = seamsMatrix(backend);
      counts[backend.name] = matrix.cells.length;
      for (const cell of matrix.cells) {
        try {
          await cell.run();
        } catch (error) {
          failures.push({ name: `${backend.name}: ${cell.name}`, message: String(error) });
        }
      }
    }
    return { counts, failures };
  },

  /**
   * TF.js's WebGPU backend on the worker's device, and model.fit with clippedOptimizer's global
   * clip (in place on the GPU) beside the same fit with the clip in TF.js ops: the weights of both.
   */
  async tfjsFit() {
    const device = await workerDevice();
    const tf = await tfjsOn(device);
    await import('@tensorflow/tfjs-core/dist/register_all_gradients');
    const clipper = await createClipper({ device, maxWorkgroups: 8 });
    const x = tf.randomNormal([32, 6], 0, 2, 'float32', 3);
    const y = tf.randomNormal([32, 2], 0, 1, 'float32', 4);
    const fitModel = async (withClipper: typeof clipper | null) => {
      const model = tfl.sequential({
        layers: [
          tfl.layers.dense({
            units: 8,
            inputShape: [6],
            activation: 'tanh',
            kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }),
          }),
          tfl.layers.dense({ units: 2, kernelInitializer: tfl.initializers.glorotUniform({ seed: 2 }) }),
        ],
      });
      const norms: number[] = [];
      const optimizer = clippedOptimizer(withClipper, tf.train.sgd(0.2), {
        globalClipnorm: 0.5,
        onNorm: (norm) => norms.push(norm),
        logEvery: 1,
      });
      model.compile({ optimizer, loss: 'meanSquaredError' });
      const history = await model.fit(x, y, { epochs: 20, batchSize: 32, shuffle: false, verbose: 0 });
      const weights = await Promise.all(model.getWeights().map(async (w) => Array.from(await w.data())));
      if (optimizer.lastNorm) await optimizer.lastNorm.read(); // every onNorm read has settled
      model.dispose();
      return { weights, losses: history.history.loss as number[], norms };
    };
    const onGpu = await fitModel(clipper);
    const inOps = await fitModel(null);
    tf.dispose([x, y]);
    clipper.destroy();
    return { backend: tf.getBackend(), onGpu, inOps };
  },

  /** A worker whose browser gives workers no WebGPU: what createClipper says there. */
  async withoutWebgpu() {
    Object.defineProperty(navigator, 'gpu', { value: undefined, configurable: true });
    const auto = await createClipper();
    let rejected: ReturnType<typeof errorData> | null = null;
    try {
      await createClipper({ backend: 'webgpu' });
    } catch (error) {
      rejected = errorData(error);
    }
    return { backend: auto.backend, fallbackReason: auto.fallbackReason, rejected };
  },
};

export type JobName = keyof typeof JOBS;
