// The clipping modes' line of the benchmark: each mode's step on the transformer preset (and
// per-example clipping on a batch of it), timed like the methods, as a ratio to plain
// clipGradNorm on the same bytes in the same run, and checked against the CPU backend (the float64
// reference) that runs the same sequence of steps.
import { createClipper, type Clipper } from '../../../src/index';
import { TimestampPair } from '../../../src/gpu/timestamps';
import { moreSamples, moreWarmup } from '../budget';
import { transformerShapes, type Tensor } from '../cases';
import { MODES, type BenchConfig, type ModeName } from '../config';
import { settled } from '../settled';
import { summarize, type Summary } from '../stats';
import { clippingLines } from './clipping-lines';
import { stamp, type LineContext, type ModeResult, type ModeRun } from './line';
import { optimizerLines } from './optimizer-lines';
import { load, maxRelativeError, PER_EXAMPLE_BATCH, readViews, SkipMode, workload, type Workload } from './workload';

export { MODES, type ModeName } from '../config';
export type { ModeResult } from './line';
export { PER_EXAMPLE_BATCH } from './workload';

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
  const context: LineContext = { device, gpu, cpu, tensors, model, examples, inPlace };
  return new Map([...clippingLines(context), ...optimizerLines(context)]);
}

/** The line a mode is divided by: plain clipGradNorm on the same bytes (getTotalNorm for the norms that write nothing). */
function baselineOf(mode: ModeName): ModeName {
  if (mode === 'perTensorNorms' || mode === 'getTotalNorm') return 'getTotalNorm';
  if (mode.startsWith('clipPerExample') || mode === 'clipGradNorm (batch)' || mode === 'dp adam (fused)')
    return 'clipGradNorm (batch)';
  return mode === 'adam (fused clip) + scaler' ? 'adam (fused clip)' : 'clipGradNorm';
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
