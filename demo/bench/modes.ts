// The clipping modes' line of the benchmark: each mode's step on the transformer preset (and
// per-example clipping on a batch of it), timed like the methods, as a ratio to plain
// clipGradNorm on the same bytes in the same run, and checked against the CPU backend (the float64
// reference) that runs the same sequence of steps.
import {
  createAutoClip,
  createClipper,
  createGradientArena,
  createOptimizer,
  createZClip,
  type Clipper,
  type GradSet,
  type GradView,
  type NormHandle,
  submitTfjsWork,
} from '../../src/index';
import { perExampleReference } from '../../src/reference/index';
import { seeded, transformerShapes, type Tensor } from './cases';
import { MODES, type BenchConfig, type ModeName } from './config';
import { moreSamples, moreWarmup } from './budget';
import type * as TF from '@tensorflow/tfjs-core';
import { TimestampPair } from '../../src/gpu/timestamps';
import { addAll, createMethod, readBuffer, tfjsOn } from './methods';
import { summarize, type Summary } from './stats';
import { settled } from './settled';

export { MODES, type ModeName } from './config';

/** Examples per batch in the per-example line: the transformer's gradients this many times. */
export const PER_EXAMPLE_BATCH = 4;
/** Every this many steps the gradients are 10× larger, so the adaptive rules see spikes to clip. */
const SPIKE_EVERY = 5;

export interface ModeResult {
  mode: ModeName;
  /** What one step does. */
  label: string;
  elements: number;
  /** The line this one is divided by (plain clipGradNorm on the same bytes). */
  baseline: ModeName;
  wall: Summary | null;
  /**
   * GPU time of a step from timestamps (where the adapter has them): from the start of the step's
   * first pass to the end of its last. For TF.js, which submits its own command buffers, the span
   * from before its first submit to after its last (GPU idle time between them included).
   */
  gpu: Summary | null;
  /** Wall median / the baseline's wall median, and the same for the GPU medians. */
  overBaseline: number | null;
  gpuOverBaseline: number | null;
  /** Bytes per float the step must move at least (optimizer lines), and its median over that many bytes of the copy kernel's (wall and GPU). */
  bytesPerFloat?: number;
  overRoofline?: number | null;
  gpuOverRoofline?: number | null;
  check: { ok: boolean; maxRelativeError: number } | null;
  error?: string;
  /** Why the line did not run here (the f16 line on an adapter without shader-f16). */
  skipped?: string;
}

/** Thrown by a line's set-up when this device or runtime cannot run it: the line is skipped, not failed. */
class SkipMode extends Error {}

/** A CPU twin: a Float32Array, or a Float16Array for the f16 line. */
interface CpuArray extends ArrayLike<number> {
  [index: number]: number;
  set(values: ArrayLike<number>): void;
}

/** The runtime's Float16Array (Chromium 135+, Deno), for the f16 line's data and reference. */
type Float16Constructor = new (
  values: number | ArrayLike<number> | ArrayBuffer,
) => CpuArray & { buffer: ArrayBuffer; byteOffset: number; byteLength: number };

interface Workload {
  /** Views of the gradients on the GPU and their CPU twins. */
  gpu: { set: GradSet; buffer: GPUBuffer; views: GradView[] };
  cpu: { set: GradSet; arrays: CpuArray[] };
  /** Pristine contents: normal and spiked. */
  normal: Float32Array<ArrayBuffer>[];
  spiked: Float32Array<ArrayBuffer>[];
  /** The f16 line's Float16Array: the GPU views hold halves. */
  half?: Float16Constructor;
}

function randomArrays(tensors: readonly Tensor[], seed: number, scale: number): Float32Array<ArrayBuffer>[] {
  const random = seeded(seed);
  return tensors.map((t) => {
    const a = new Float32Array(t.length);
    for (let i = 0; i < a.length; i++) a[i] = (random() * 2 - 1) * scale;
    return a;
  });
}

function workload(
  device: GPUDevice,
  gpu: Clipper,
  cpu: Clipper,
  tensors: readonly Tensor[],
  seed: number,
  scale = 1,
): Workload {
  const normal = randomArrays(tensors, seed, scale);
  const spiked = normal.map((a) => a.map((v) => v * 10));
  const { buffer, views } = createGradientArena(
    device,
    tensors.map((t) => t.length),
  );
  const shaped = views.map((v, i) => ({
    ...(v as { buffer: GPUBuffer; offset: number; length: number }),
    shape: tensors[i].shape,
  }));
  const arrays = normal.map((a) => a.slice());
  shaped.forEach((v, i) => device.queue.writeBuffer(v.buffer, v.offset, normal[i]));
  return {
    gpu: { set: gpu.gradients(shaped), buffer, views: shaped },
    cpu: { set: cpu.gradients(arrays.map((data, i) => ({ data, shape: tensors[i].shape }))), arrays },
    normal,
    spiked,
  };
}

/**
 * The same gradients as halves (values rounded to f16 once, so both backends start from the same
 * numbers) in an f16 arena; the CPU twins are Float16Arrays.
 */
function halfWorkload(
  device: GPUDevice,
  gpu: Clipper,
  cpu: Clipper,
  tensors: readonly Tensor[],
  seed: number,
): Workload {
  if (!device.features.has('shader-f16')) throw new SkipMode('the device lacks shader-f16');
  const Float16 = (globalThis as { Float16Array?: Float16Constructor }).Float16Array;
  if (!Float16) throw new SkipMode('the runtime lacks Float16Array (the reference)');
  const toHalf = (a: Float32Array) => Float32Array.from(new Float16(a));
  const normal = randomArrays(tensors, seed, 1).map(toHalf);
  const spiked = normal.map((a) => toHalf(a.map((v) => v * 10)));
  const { buffer, views } = createGradientArena(
    device,
    tensors.map((t) => t.length),
    { dtype: 'f16' },
  );
  const arrays = normal.map((a) => new Float16(a));
  const w: Workload = {
    gpu: { set: gpu.gradients(views), buffer, views },
    cpu: { set: cpu.gradients(arrays as unknown as GradView[]), arrays },
    normal,
    spiked,
    half: Float16,
  };
  load(device, w, 0);
  return w;
}

/** Writes step `step`'s gradients (normal, or spiked every SPIKE_EVERY steps) into both copies. */
function load(device: GPUDevice, w: Workload, step: number): void {
  const source = step % SPIKE_EVERY === SPIKE_EVERY - 1 ? w.spiked : w.normal;
  w.gpu.views.forEach((v, i) => {
    const view = v as { buffer: GPUBuffer; offset: number };
    if (w.half) {
      // writeBuffer takes whole 4-byte words: an odd view writes one half more, into its own padding.
      const halves = new w.half(Math.ceil(source[i].length / 2) * 2);
      halves.set(source[i]);
      device.queue.writeBuffer(view.buffer, view.offset, halves);
    } else {
      device.queue.writeBuffer(view.buffer, view.offset, source[i]);
    }
    w.cpu.arrays[i].set(source[i]);
  });
}

async function readViews(
  device: GPUDevice,
  buffer: GPUBuffer,
  views: readonly GradView[],
  half?: Float16Constructor,
): Promise<Float32Array[]> {
  const bytes = await readBuffer(device, buffer);
  const all = half ? Float32Array.from(new half(bytes)) : new Float32Array(bytes);
  const size = half ? 2 : 4;
  return views.map((v) => {
    const view = v as { offset: number; length: number };
    return all.subarray(view.offset / size, view.offset / size + view.length);
  });
}

function maxRelativeError(actual: readonly Float32Array[], reference: readonly ArrayLike<number>[]): number {
  let worst = 0;
  reference.forEach((ref, t) => {
    let scale = 0;
    for (let i = 0; i < ref.length; i++) scale = Math.max(scale, Math.abs(ref[i]));
    for (let i = 0; i < ref.length; i++) {
      const error = Math.abs(actual[t][i] - ref[i]) / Math.max(Math.abs(ref[i]), 1e-3 * scale, 1e-30);
      if (!(error <= worst)) worst = Number.isNaN(error) ? Infinity : error;
    }
  });
  return worst;
}

/** One mode: a step on each backend (the GPU one into an encoder) and where its result is. */
interface ModeRun {
  label: string;
  work: Workload;
  /** Bytes per float the step must read and write at least (for the roofline ratio). */
  bytesPerFloat?: number;
  /** Largest relative error the check accepts (1e-4 unless said). */
  tolerance?: number;
  /** Records the GPU step (and returns a handle the step made, if any). */
  gpuStep(encoder: GPUCommandEncoder): NormHandle | unknown;
  cpuStep(): void;
  /** The GPU result to check and its CPU counterpart. */
  results(): Promise<{ actual: Float32Array[]; reference: ArrayLike<number>[] }>;
  /** For a line timed its own way (the copy kernel, TF.js): set-up, and one timed step (GPU ms with a timer). */
  prepare?(): Promise<void>;
  timedStep?(step: number, timer: TimestampPair | null): Promise<{ wallMs: number; gpuMs?: number }>;
}

/** Records an empty pass that writes the timer's beginning (or its end, then the resolve). */
function stamp(encoder: GPUCommandEncoder, timer: TimestampPair, which: 'begin' | 'end'): void {
  encoder.beginComputePass({ timestampWrites: timer.writes(which === 'begin', which === 'end') }).end();
  if (which === 'end') timer.resolve(encoder);
}

/** A command buffer of its own holding just the stamp (around work submitted by someone else). */
function bracket(device: GPUDevice, timer: TimestampPair, which: 'begin' | 'end'): GPUCommandBuffer {
  const encoder = device.createCommandEncoder({ label: `bench modes timer ${which}` });
  stamp(encoder, timer, which);
  return encoder.finish();
}

function modeRuns(
  device: GPUDevice,
  gpu: Clipper,
  cpu: Clipper,
  tensors: readonly Tensor[],
): Map<ModeName, () => ModeRun> {
  const batched = tensors.map((t) => ({ name: t.name, length: t.length * PER_EXAMPLE_BATCH }));
  let shared: Workload | null = null;
  let batch: Workload | null = null;
  const model = () => (shared ??= workload(device, gpu, cpu, tensors, 7));
  const examples = () => (batch ??= workload(device, gpu, cpu, batched, 8));
  const inPlace = (w: Workload) => async () => ({
    actual: await readViews(device, w.gpu.buffer, w.gpu.views, w.half),
    reference: w.cpu.arrays,
  });
  const maxNormOf = (w: Workload) => {
    let sum = 0;
    for (const a of w.normal) for (const v of a) sum += v * v;
    return Math.sqrt(sum) / 2;
  };

  // Adam on the model's parameters, fused with the clip or after a separate clipGradNorm.
  const optimizerRun = (fused: boolean): ModeRun => {
    const w = model();
    const params = workload(device, gpu, cpu, tensors, fused ? 10 : 11);
    const maxNorm = maxNormOf(w);
    const settings = { kind: 'adam' as const, lr: 1e-3, ...(fused ? { clip: { maxNorm } } : {}) };
    const onGpu = createOptimizer(gpu, { params: params.gpu.set, grads: w.gpu.set, ...settings });
    const onCpu = createOptimizer(cpu, { params: params.cpu.set, grads: w.cpu.set, ...settings });
    return {
      label: fused
        ? 'clip by norm + Adam in one step: norm, decide, update (32 B per float: g twice, p, m, v read and written)'
        : 'clipGradNorm, then Adam without clip (norm, scale g, then a second norm and the update)',
      work: w,
      bytesPerFloat: fused ? 32 : 44,
      gpuStep: (encoder) => {
        if (!fused) gpu.clipGradNorm(w.gpu.set, maxNorm, { encoder });
        return onGpu.step({ encoder });
      },
      cpuStep: () => {
        if (!fused) cpu.clipGradNorm(w.cpu.set, maxNorm);
        onCpu.step();
      },
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

  return new Map<ModeName, () => ModeRun>([
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
    ['adam (fused clip)', () => optimizerRun(true)],
    ['clipGradNorm then adam', () => optimizerRun(false)],
    ['tfjs adam + clip', () => tfjsAdamRun()],
    [
      'clipPerExample',
      () => {
        const w = examples();
        let sum: GradView[] = [];
        const maxNorm = 100;
        return {
          label: `DP-SGD: ${PER_EXAMPLE_BATCH} examples each clipped at 100, summed`,
          work: w,
          gpuStep: (encoder) =>
            (sum = gpu.clipPerExample(w.gpu.set, { batchSize: PER_EXAMPLE_BATCH, maxNorm, encoder }).sum),
          cpuStep: () => {},
          results: async () => {
            const target = (sum[0] as { buffer: GPUBuffer }).buffer;
            return {
              actual: await readViews(device, target, sum),
              reference: perExampleReference(w.cpu.arrays, PER_EXAMPLE_BATCH, maxNorm).sums,
            };
          },
        };
      },
    ],
  ]);
}

/** The line a mode is divided by: plain clipGradNorm on the same bytes. */
function baselineOf(mode: ModeName): ModeName {
  return mode === 'clipPerExample' || mode === 'clipGradNorm (batch)' ? 'clipGradNorm (batch)' : 'clipGradNorm';
}

/** The chosen lines with what their ratios need (their baseline; the copy kernel for the optimizer lines), in MODES order. */
export function modesToRun(chosen: readonly ModeName[]): ModeName[] {
  const needed = new Set<ModeName>(chosen);
  for (const mode of chosen) {
    needed.add(baselineOf(mode));
    if (mode.includes('adam')) needed.add('copy kernel');
  }
  return MODES.filter((m) => needed.has(m));
}

/** Times the chosen modes (config.modes, with their baselines); never throws (a failing mode carries `error`). */
export async function runModes(
  device: GPUDevice,
  config: BenchConfig,
  onProgress: (label: string) => void = () => {},
  tensors: readonly Tensor[] = transformerShapes(),
): Promise<ModeResult[]> {
  const gpu = await createClipper({ device });
  const cpu = await createClipper({ forceCpu: true });
  const runs = modeRuns(device, gpu, cpu, tensors);
  const timer = device.features.has('timestamp-query') ? new TimestampPair(device, 'bench modes') : null;
  const results: ModeResult[] = [];
  try {
    for (const mode of modesToRun(config.modes)) {
      onProgress(`modes · ${mode}`);
      const baseline = baselineOf(mode);
      const result: ModeResult = {
        mode,
        label: '',
        elements: 0,
        baseline,
        wall: null,
        gpu: null,
        overBaseline: null,
        gpuOverBaseline: null,
        check: null,
      };
      try {
        const run = runs.get(mode)!();
        result.label = run.label;
        if (run.bytesPerFloat) result.bytesPerFloat = run.bytesPerFloat;
        result.elements = run.work.cpu.arrays.reduce((n, a) => n + a.length, 0);
        const wall: number[] = [];
        const gpuTimes: number[] = [];
        await run.prepare?.();
        // Untimed steps, then timed ones (within the budget); the CPU twin takes every one.
        let step = 0;
        const phase = async (more: (taken: number, elapsedMs: number) => boolean, timed: boolean) => {
          const start = performance.now();
          for (let taken = 0; more(taken, performance.now() - start); taken++, step++) {
            load(device, run.work, step);
            await settled(device); // the uploads are not part of the step
            const { wallMs, gpuMs } = await (run.timedStep ?? recordedStep)(step, timer);
            if (timed) {
              wall.push(wallMs);
              if (gpuMs !== undefined) gpuTimes.push(gpuMs);
            }
            run.cpuStep(); // the same step on the CPU backend, on the same gradients (untimed)
          }
        };
        const recordedStep = async (_: number, stepTimer: TimestampPair | null) => {
          const start = performance.now();
          const encoder = device.createCommandEncoder({ label: `bench ${mode}` });
          // Empty passes around the step carry the timestamps: the step's own passes are the library's.
          if (stepTimer) stamp(encoder, stepTimer, 'begin');
          run.gpuStep(encoder);
          if (stepTimer) stamp(encoder, stepTimer, 'end');
          device.queue.submit([encoder.finish()]);
          await settled(device);
          const wallMs = performance.now() - start;
          return stepTimer ? { wallMs, gpuMs: await stepTimer.readMs() } : { wallMs };
        };
        await phase((taken, elapsed) => moreWarmup(taken, elapsed, config), false);
        await phase((taken, elapsed) => moreSamples(taken, elapsed, config), true);
        const { actual, reference } = await run.results();
        const error = maxRelativeError(actual, reference);
        result.check = { ok: error <= (run.tolerance ?? 1e-4), maxRelativeError: error };
        result.wall = summarize(wall);
        result.gpu = gpuTimes.length ? summarize(gpuTimes) : null;
      } catch (error) {
        if (error instanceof SkipMode) result.skipped = error.message;
        else result.error = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      }
      results.push(result);
    }
  } finally {
    gpu.destroy();
    timer?.destroy();
  }
  const copy = results.find((c) => c.mode === 'copy kernel');
  for (const r of results) {
    const base = results.find((b) => b.mode === r.baseline);
    const ratio = (a: Summary | null | undefined, b: Summary | null | undefined, scale = 1) =>
      a && b ? a.median / (scale * b.median) : null;
    r.overBaseline = ratio(r.wall, base?.wall);
    r.gpuOverBaseline = ratio(r.gpu, base?.gpu);
    if (r.bytesPerFloat) {
      r.overRoofline = ratio(r.wall, copy?.wall, r.bytesPerFloat / 8);
      r.gpuOverRoofline = ratio(r.gpu, copy?.gpu, r.bytesPerFloat / 8);
    }
  }
  return results;
}
