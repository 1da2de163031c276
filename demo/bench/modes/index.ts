// The clipping modes' line of the benchmark: each mode's step on the transformer preset (and
// per-example clipping on a batch of it), timed like the methods, as a ratio to plain
// clipGradNorm on the same bytes in the same run, and checked against the CPU backend (the float64
// reference) that runs the same sequence of steps.
import { createClipper, type Clipper } from '../../../src/index';
import { TimestampPair } from '../../../src/gpu/timestamps';
import { moreWarmup } from '../budget';
import { transformerShapes, type Tensor } from '../cases';
import { MODES, type BenchConfig, type ModeName } from '../config';
import { settled } from '../settled';
import { summarize } from '../stats';
import { clippingLines } from './clipping-lines';
import { stamp, type LineContext, type ModeResult, type ModeRun } from './line';
import { optimizerLines } from './optimizer-lines';
import { pairedRatio, taken, timeInRounds } from './rounds';
import {
  loadCpu,
  loadGpu,
  maxRelativeError,
  PER_EXAMPLE_BATCH,
  readViews,
  SkipMode,
  workload,
  type Workload,
} from './workload';

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
  if (mode.startsWith('getTotalNorm (')) return 'getTotalNorm (one view)';
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

/**
 * Times the chosen modes (config.modes, with their baselines); never throws (a failing mode carries
 * `error`). Each line is made and warmed up in turn, then all are timed together in rounds
 * (rounds.ts) and their ratios taken within each round; last, each line takes one more step and
 * its result is checked against the CPU backend's, which took every step the GPU took.
 */
export async function runModes(
  device: GPUDevice,
  config: BenchConfig,
  onProgress: (label: string, counts?: boolean) => void = () => {},
  tensors: readonly Tensor[] = transformerShapes(),
): Promise<ModeResult[]> {
  const gpu = await createClipper({ device });
  const cpu = await createClipper({ forceCpu: true });
  const runs = modeRuns(device, gpu, cpu, tensors);
  const timer = device.features.has('timestamp-query') ? new TimestampPair(device, 'bench modes') : null;
  const results: ModeResult[] = [];
  const lines: Array<{ result: ModeResult; run: ModeRun; step: number }> = [];
  const fail = (result: ModeResult, error: unknown) => {
    if (error instanceof SkipMode) result.skipped = error.message;
    else result.error = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  };
  // The CPU twins' steps, in the order the GPU took them, wait here until a check needs their
  // results: run between timed steps, the float64 reference (and the garbage it leaves) took a core
  // from the next GPU step, which on a CPU adapter then ran its workgroups one after the other,
  // and that penalty fell on whichever lines followed the heaviest twins.
  const cpuSteps: Array<{ line: (typeof lines)[number]; step: number }> = [];
  const cpuErrors = new Map<(typeof lines)[number], unknown>();
  const catchUpCpu = () => {
    for (const { line, step } of cpuSteps.splice(0)) {
      if (cpuErrors.has(line)) continue;
      try {
        loadCpu(line.run.work, step);
        line.run.cpuStep();
      } catch (error) {
        cpuErrors.set(line, error);
      }
    }
  };
  // One step of a line on freshly loaded gradients; the CPU twin's is queued (untimed).
  const stepOf = async (line: (typeof lines)[number], stepTimer: TimestampPair | null) => {
    const { run } = line;
    loadGpu(device, run.work, line.step);
    await settled(device); // the uploads are not part of the step
    const measured = run.timedStep
      ? await run.timedStep(line.step, stepTimer)
      : await recordedStep(run, line.result.mode, stepTimer);
    cpuSteps.push({ line, step: line.step });
    line.step++;
    return measured;
  };
  // A line's step recorded into one encoder of its own, between empty timestamp passes.
  const recordedStep = async (
    run: ModeRun,
    mode: ModeName,
    stepTimer: TimestampPair | null,
  ): Promise<{ wallMs: number; gpuMs?: number }> => {
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
  try {
    for (const mode of modesToRun(config.modes)) {
      onProgress(`modes · ${mode} · warm-up`);
      const result: ModeResult = {
        mode,
        label: '',
        elements: 0,
        baseline: baselineOf(mode),
        wall: null,
        gpu: null,
        overBaseline: null,
        gpuOverBaseline: null,
        check: null,
      };
      results.push(result);
      try {
        const run = runs.get(mode)!();
        result.label = run.label;
        if (run.bytesPerFloat) result.bytesPerFloat = run.bytesPerFloat;
        result.elements = run.work.cpu.arrays.reduce((n, a) => n + a.length, 0);
        await run.prepare?.();
        const line = { result, run, step: 0 };
        const start = performance.now();
        for (let taken = 0; moreWarmup(taken, performance.now() - start, config); taken++) await stepOf(line, timer);
        lines.push(line);
      } catch (error) {
        fail(result, error);
      }
    }
    const times = await timeInRounds(
      lines.map((line) => ({
        name: line.result.mode,
        divisors: [line.result.baseline, ...(line.run.bytesPerFloat ? ['copy kernel'] : [])],
        step: () => stepOf(line, timer),
      })),
      config,
      (round) => onProgress(`modes · round ${round + 1}`, false),
    );
    for (const line of lines) {
      const { result, run } = line;
      const { wall, gpu: gpuTimes, error } = times.get(result.mode)!;
      try {
        if (error) throw error;
        result.wall = summarize(taken(wall));
        result.gpu = taken(gpuTimes).length ? summarize(taken(gpuTimes)) : null;
        await stepOf(line, null);
        catchUpCpu();
        if (cpuErrors.has(line)) throw cpuErrors.get(line);
        const { actual, reference } = await run.results();
        const relative = maxRelativeError(actual, reference);
        result.check = { ok: relative <= (run.tolerance ?? 1e-4), maxRelativeError: relative };
      } catch (failure) {
        fail(result, failure);
      }
    }
    // Ratios within each round, then their median (rounds.ts).
    const copy = times.get('copy kernel');
    for (const r of results) {
      const own = times.get(r.mode);
      const base = times.get(r.baseline);
      if (!own || !base || r.error) continue;
      r.overBaseline = pairedRatio(own.wall, base.wall);
      r.gpuOverBaseline = r.gpu ? pairedRatio(own.gpu, base.gpu) : null;
      if (r.bytesPerFloat && copy) {
        r.overRoofline = pairedRatio(own.wall, copy.wall, r.bytesPerFloat / 8);
        r.gpuOverRoofline = r.gpu ? pairedRatio(own.gpu, copy.gpu, r.bytesPerFloat / 8) : null;
      }
    }
  } finally {
    gpu.destroy();
    timer?.destroy();
  }
  return results;
}
