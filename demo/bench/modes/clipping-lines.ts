// The clipping modes' lines: each call on the transformer's gradients (and per-example clipping on a
// batch of them), on the GPU and on the CPU backend, whose results must agree.
import { createAutoClip, createZClip, type GradView, type NormHandle } from '../../../src/index';
import type { ModeName } from '../config';
import { oddLengthShapes } from '../cases';
import { perExampleReference } from '../../../src/reference/index';
import type { LineContext, Lines, ModeRun } from './line';
import {
  halfWorkload,
  maxNormOf,
  PER_EXAMPLE_BATCH,
  readViews,
  SCALE,
  scalerOn,
  workload,
  type Workload,
} from './workload';

export function clippingLines({ device, gpu, cpu, tensors, model, examples, inPlace }: LineContext): Lines {
  const oddTotal = () => ({ name: 'all', length: oddLengthShapes().reduce((n, t) => n + t.length, 0) });
  /** getTotalNorm over the workload `w`. */
  const totalNormOn = (label: string, w: Workload): ModeRun => {
    let onGpu: NormHandle | null = null;
    let onCpu: NormHandle | null = null;
    return {
      label,
      work: w,
      gpuStep: (encoder) => (onGpu = gpu.getTotalNorm(w.gpu.set, { encoder })),
      cpuStep: () => {
        onCpu = cpu.getTotalNorm(w.cpu.set);
      },
      results: async () => ({ actual: [Float32Array.of(await onGpu!.read())], reference: [[await onCpu!.read()]] }),
    };
  };
  return [
    [
      'clipGradNorm',
      () => {
        const w = model();
        const maxNorm = maxNormOf(w);
        return {
          label: 'global L2 norm, clip at half of it',
          work: w,
          gpuStep: (encoder) => gpu.clipGradNorm(w.gpu.set, maxNorm, { encoder }),
          cpuStep: () => cpu.clipGradNorm(w.cpu.set, maxNorm),
          results: inPlace(w),
        };
      },
    ],
    [
      'clipGradNorm + scaler',
      () => {
        const w = model();
        const [onGpu, onCpu] = [scalerOn(gpu), scalerOn(cpu)];
        const maxNorm = maxNormOf(w) / SCALE;
        return {
          label: 'clipGradNorm with a GradScaler: unscale, norm and clip in one write, then update()',
          work: w,
          gpuStep: (encoder) => {
            const handle = gpu.clipGradNorm(w.gpu.set, maxNorm, { scaler: onGpu, encoder });
            onGpu.update({ encoder });
            return handle;
          },
          cpuStep: () => {
            cpu.clipGradNorm(w.cpu.set, maxNorm, { scaler: onCpu });
            onCpu.update();
          },
          results: inPlace(w),
        };
      },
    ],
    [
      'clipByNorm',
      () => {
        const w = model();
        const maxNorm = 4; // between the small and the large tensors' norms: some views clipped, some not
        return {
          label: `a norm per view (${tensors.length}), each clipped at 4`,
          work: w,
          gpuStep: (encoder) => gpu.clipByNorm(w.gpu.set, maxNorm, { encoder }),
          cpuStep: () => cpu.clipByNorm(w.cpu.set, maxNorm),
          results: inPlace(w),
        };
      },
    ],
    ['getTotalNorm', () => totalNormOn('the global L2 norm, nothing written', model())],
    // Odd-sized tensors against one tensor of their floats, timed in the same rounds (the cases of
    // the odd-lengths presets run one after the other, and the one tensor swings 2-4 ms between them).
    [
      'getTotalNorm (one view)',
      () =>
        totalNormOn(
          'one tensor of the 10 000 odd-sized ones’ floats, nothing written',
          workload(device, gpu, cpu, [oddTotal()], 11),
        ),
    ],
    [
      'getTotalNorm (odd lengths)',
      () =>
        totalNormOn(
          '10 000 tensors of 1–255 floats, nothing written',
          workload(device, gpu, cpu, oddLengthShapes(), 12),
        ),
    ],
    [
      'perTensorNorms',
      () => {
        const w = model();
        let gpuNorms: { read(): Promise<Float32Array> } | null = null;
        let cpuNorms: { read(): Promise<Float32Array> } | null = null;
        return {
          label: `a norm per view (${tensors.length}) and the total, nothing written`,
          work: w,
          gpuStep: (encoder) => (gpuNorms = gpu.perTensorNorms(w.gpu.set, { encoder })),
          cpuStep: () => {
            cpuNorms = cpu.perTensorNorms(w.cpu.set);
          },
          results: async () => ({ actual: [await gpuNorms!.read()], reference: [await cpuNorms!.read()] }),
        };
      },
    ],
    [
      'adaptiveGradClip',
      () => {
        const w = model();
        const params = workload(device, gpu, cpu, tensors, 9, 30);
        return {
          label: `AGC over the rows of ${tensors.filter((t) => t.shape).length} weight matrices and ${tensors.filter((t) => !t.shape).length} vectors`,
          work: w,
          gpuStep: (encoder) => gpu.adaptiveGradClip(w.gpu.set, params.gpu.set, { clipping: 0.05, encoder }),
          cpuStep: () => cpu.adaptiveGradClip(w.cpu.set, params.cpu.set, { clipping: 0.05 }),
          results: inPlace(w),
        };
      },
    ],
    [
      'autoClip',
      () => {
        const w = model();
        const onGpu = createAutoClip(gpu, w.gpu.set, { percentile: 10, history: 1000 });
        const onCpu = createAutoClip(cpu, w.cpu.set, { percentile: 10, history: 1000 });
        return {
          label: 'AutoClip step: percentile 10 of the history, spikes every 5 steps',
          work: w,
          gpuStep: (encoder) => onGpu.step({ encoder }),
          cpuStep: () => onCpu.step(),
          results: inPlace(w),
        };
      },
    ],
    [
      'zClip',
      () => {
        const w = model();
        const onGpu = createZClip(gpu, w.gpu.set, { warmupSteps: 2 });
        const onCpu = createZClip(cpu, w.cpu.set, { warmupSteps: 2 });
        return {
          label: 'ZClip step: EMA z-score, spikes every 5 steps',
          work: w,
          gpuStep: (encoder) => onGpu.step({ encoder }),
          cpuStep: () => onCpu.step(),
          results: inPlace(w),
        };
      },
    ],
    [
      'clipGradNorm (batch)',
      () => {
        const w = examples();
        const maxNorm = maxNormOf(w);
        return {
          label: `global L2 norm over ${PER_EXAMPLE_BATCH} examples' gradients, clip at half`,
          work: w,
          gpuStep: (encoder) => gpu.clipGradNorm(w.gpu.set, maxNorm, { encoder }),
          cpuStep: () => cpu.clipGradNorm(w.cpu.set, maxNorm),
          results: inPlace(w),
        };
      },
    ],
    [
      'clipGradNorm f16',
      () => {
        const w = halfWorkload(device, gpu, cpu, tensors, 7);
        const maxNorm = maxNormOf(w);
        return {
          label: 'global L2 norm of the same gradients stored as f16 (half the bytes), clip at half in place',
          work: w,
          // A scaled half may round to either neighbour (WGSL), the reference to nearest: one f16 step.
          tolerance: 2 ** -10,
          gpuStep: (encoder) => gpu.clipGradNorm(w.gpu.set, maxNorm, { encoder }),
          cpuStep: () => cpu.clipGradNorm(w.cpu.set, maxNorm),
          results: inPlace(w),
        };
      },
    ],
    ...(['clipPerExample', 'clipPerExample + noise'] as const).map((name): [ModeName, () => ModeRun] => [
      name,
      () => {
        const w = examples();
        let sum: GradView[] = [];
        const maxNorm = 100;
        let step = 0;
        const noisy = name === 'clipPerExample + noise';
        const seed = 20261204n;
        return {
          label: noisy
            ? `DP-SGD: ${PER_EXAMPLE_BATCH} examples each clipped at 100, summed, Gaussian noise (σ = 1) added, ÷ ${PER_EXAMPLE_BATCH}`
            : `DP-SGD: ${PER_EXAMPLE_BATCH} examples each clipped at 100, summed`,
          work: w,
          // A sum of PER_EXAMPLE_BATCH float32 terms, each with its own float32 multiplier (and the
          // noise, within 1e-6 of float64's normals): a few units in the last place of the largest
          // term, where the check's floor is 1e-3 of the largest sum. (The default 1e-4 tripped
          // at 3 units.)
          tolerance: 1e-3,
          gpuStep: (encoder) => {
            const noise = noisy ? { noise: { multiplier: 1, seed, step: step++ }, divisor: PER_EXAMPLE_BATCH } : {};
            sum = gpu.clipPerExample(w.gpu.set, { batchSize: PER_EXAMPLE_BATCH, maxNorm, ...noise, encoder }).sum;
          },
          cpuStep: () => {},
          results: async () => {
            const target = (sum[0] as { buffer: GPUBuffer }).buffer;
            const noise = noisy ? { noise: { std: maxNorm, seed, step: step - 1 }, divisor: PER_EXAMPLE_BATCH } : {};
            return {
              actual: await readViews(device, target, sum),
              reference: perExampleReference(w.cpu.arrays, PER_EXAMPLE_BATCH, maxNorm, noise).sums,
            };
          },
        };
      },
    ]),
  ];
}
