// The optimizer lines and their roofline: the fused clip + Adam, a separate clipGradNorm then Adam,
// TF.js's Adam with a hand-written clip on the same device, and the copy kernel over the same floats.
import type * as TF from '@tensorflow/tfjs-core';
import { createOptimizer, submitTfjsWork } from '../../../src/index';
import { addAll, tfjsOn } from '../../tfjs-device';
import { createMethod } from '../methods';
import { settled } from '../settled';
import { bracket, type LineContext, type Lines, type ModeRun } from './line';
import { maxNormOf, PER_EXAMPLE_BATCH, readViews, SCALE, scalerOn, SPIKE_EVERY, workload } from './workload';

export function optimizerLines({ device, gpu, cpu, tensors, model, examples }: LineContext): Lines {
  // Adam on the model's parameters, fused with the clip or after a separate clipGradNorm.
  // With `scaled`, the gradients count as scaled by SCALE: the update unscales them and the
  // scaler's update() follows every step, as in a mixed-precision loop.
  const optimizerRun = (fused: boolean, scaled = false): ModeRun => {
    const w = model();
    const params = workload(device, gpu, cpu, tensors, fused ? 10 : 11);
    const maxNorm = maxNormOf(w) / (scaled ? SCALE : 1);
    const settings = { kind: 'adam' as const, lr: 1e-3, ...(fused ? { clip: { maxNorm } } : {}) };
    const scalers = scaled ? { gpu: scalerOn(gpu), cpu: scalerOn(cpu) } : null;
    const onGpu = createOptimizer(gpu, { params: params.gpu.set, grads: w.gpu.set, ...settings, scaler: scalers?.gpu });
    const onCpu = createOptimizer(cpu, { params: params.cpu.set, grads: w.cpu.set, ...settings, scaler: scalers?.cpu });
    return {
      label: scaled
        ? 'the fused step with a GradScaler: the gradients unscaled inside the update, then update() (32 B per float)'
        : fused
          ? 'clip by norm + Adam in one step: norm, decide, update (32 B per float: g twice, p, m, v read and written)'
          : 'clipGradNorm, then Adam without clip (norm, scale g, then a second norm and the update)',
      work: w,
      bytesPerFloat: fused ? 32 : 44,
      gpuStep: (encoder) => {
        if (!fused) gpu.clipGradNorm(w.gpu.set, maxNorm, { encoder });
        const handle = onGpu.step({ encoder });
        scalers?.gpu.update({ encoder });
        return handle;
      },
      cpuStep: () => {
        if (!fused) cpu.clipGradNorm(w.cpu.set, maxNorm);
        onCpu.step();
        scalers?.cpu.update();
      },
      results: async () => ({
        actual: await readViews(device, params.gpu.buffer, params.gpu.views),
        reference: params.cpu.arrays,
      }),
    };
  };

  // DP-SGD with Adam: per-example clip, sum, noise, ÷ batch and the update, one recorded step. Its
  // roofline reads each per-example gradient once and p, m, v once each, writing them back: per
  // parameter 4 B × PER_EXAMPLE_BATCH + 24 B, against the copy kernel's 8 B over the same count.
  const privateRun = (): ModeRun => {
    const w = examples();
    const params = workload(device, gpu, cpu, tensors, 13);
    const privacy = { batchSize: PER_EXAMPLE_BATCH, maxNorm: 100, noiseMultiplier: 1, seed: 20261204n };
    const settings = { kind: 'adam' as const, lr: 1e-3, privacy };
    const onGpu = createOptimizer(gpu, { params: params.gpu.set, grads: w.gpu.set, ...settings });
    const onCpu = createOptimizer(cpu, { params: params.cpu.set, grads: w.cpu.set, ...settings });
    return {
      label: `DP-SGD Adam step: ${PER_EXAMPLE_BATCH} examples clipped at 100, summed, noise (σ = 1), ÷ ${PER_EXAMPLE_BATCH}, update (${4 * PER_EXAMPLE_BATCH + 24} B per parameter)`,
      work: params,
      bytesPerFloat: 4 * PER_EXAMPLE_BATCH + 24,
      gpuStep: (encoder) => onGpu.step({ encoder }),
      cpuStep: () => void onCpu.step(),
      results: async () => ({
        actual: await readViews(device, params.gpu.buffer, params.gpu.views),
        reference: params.cpu.arrays,
      }),
    };
  };

  // TF.js on the same device: the global-norm clip as a user writes it (tensor ops, no readback)
  // and tf.train.adam's applyGradients, checked against the CPU backend's clip + Adam.
  const tfjsAdamRun = (): ModeRun => {
    const w = model();
    const params = workload(device, gpu, cpu, tensors, 12);
    const maxNorm = maxNormOf(w);
    const settings = { kind: 'adam' as const, lr: 1e-3, eps: 1e-8, clip: { maxNorm } };
    const onCpu = createOptimizer(cpu, { params: params.cpu.set, grads: w.cpu.set, ...settings });
    let tf: typeof TF;
    let variables: TF.Variable[] = [];
    let normal: TF.Tensor[] = [];
    let spiked: TF.Tensor[] = [];
    let optimizer: TF.AdamOptimizer;
    return {
      label:
        'TF.js on the same device: hand-written global-norm clip (square, sum, addN, sqrt, minimum, mul), then tf.train.adam applyGradients',
      work: w,
      bytesPerFloat: 32,
      // TF.js rounds every op of the update to f32 (m / bc1, v / bc2, sqrt, +eps, ·lr, +p): a few
      // ulps per step where the fused kernel rounds once; over 21 steps that reached 1.9e-4.
      tolerance: 1e-3,
      gpuStep: () => {},
      cpuStep: () => void onCpu.step(),
      prepare: async () => {
        tf = await tfjsOn(device);
        const run = `bench-adam-${Date.now()}`;
        variables = params.normal.map((a, i) => tf.variable(tf.tensor1d(a), true, `${run}-${i}`));
        normal = w.normal.map((a) => tf.tensor1d(a));
        spiked = w.spiked.map((a) => tf.tensor1d(a));
        optimizer = tf.train.adam(settings.lr, 0.9, 0.999, settings.eps);
      },
      timedStep: async (step, timer) => {
        const grads = step % SPIKE_EVERY === SPIKE_EVERY - 1 ? spiked : normal;
        const start = performance.now();
        if (timer) device.queue.submit([bracket(device, timer, 'begin')]);
        tf.tidy(() => {
          const norm = tf.sqrt(
            addAll(
              tf,
              grads.map((g) => tf.sum(tf.square(g))),
              device,
            ),
          );
          const coef = tf.minimum(1, tf.div(maxNorm, tf.add(norm, 1e-6)));
          optimizer.applyGradients(variables.map((v, i) => ({ name: v.name, tensor: tf.mul(grads[i], coef) })));
        });
        submitTfjsWork(tf.backend()); // then wait for the GPU: no readback
        if (timer) device.queue.submit([bracket(device, timer, 'end')]);
        await settled(device);
        const wallMs = performance.now() - start;
        return timer ? { wallMs, gpuMs: await timer.readMs() } : { wallMs };
      },
      results: async () => {
        try {
          const actual = await Promise.all(variables.map(async (v) => (await v.data()) as Float32Array));
          return { actual, reference: params.cpu.arrays };
        } finally {
          tf.dispose([...variables, ...normal, ...spiked]);
          optimizer.dispose();
        }
      },
    };
  };

  return [
    [
      'copy kernel',
      () => {
        const w = model();
        const copy = createMethod('copy-kernel', {
          device,
          grads: w.normal,
          operation: 'clip-norm',
          normType: 2,
          threshold: 1,
        });
        let ready: Promise<void> | null = null;
        return {
          label: 'the best vec4 copy kernel over the same floats (8 B per float: the stream roofline unit)',
          work: w,
          gpuStep: () => {},
          cpuStep: () => {},
          prepare: () => (ready ??= copy.prepare()),
          timedStep: async (_, timer) => {
            await copy.reset();
            const start = performance.now();
            await copy.step();
            const wallMs = performance.now() - start;
            if (!timer || !copy.gpuStep) return { wallMs };
            await copy.reset();
            return { wallMs, gpuMs: await copy.gpuStep() };
          },
          results: async () => {
            const actual = await copy.result();
            copy.destroy();
            return { actual, reference: w.normal };
          },
        };
      },
    ],
    ['adam (fused clip)', () => optimizerRun(true)],
    ['adam (fused clip) + scaler', () => optimizerRun(true, true)],
    ['clipGradNorm then adam', () => optimizerRun(false)],
    ['tfjs adam + clip', () => tfjsAdamRun()],
    ['dp adam (fused)', () => privateRun()],
  ];
}
