// Chooses the workgroup cap of the norm and scale passes by measuring, once per device, a norm
// plus a scale pass over up to 32 MiB (4 MiB on a slow device) for caps around a prior. The best cap
// differs by orders of magnitude between GPUs (thousands of workgroups) and CPU emulators (a
// handful), so it is measured rather than guessed; the search itself (interleaved rounds, medians,
// a climb from the prior, early stops) is in autotune-search.ts.
//
// Each timing is a batch of steps in one submission, sized so that the batch takes well over the
// timer's resolution: GPU timestamps where the device has `timestamp-query` (browsers quantise
// them to 100 µs), else the wall clock around submit-to-completion (some hosts poll every ~10 ms).
import type { ClipperTuning, GradSet } from '../core/types';
import { median, searchBestCap } from './autotune-search';
import { GpuClipper } from './clipper';
import { BufferUsage } from '../core/webgpu-constants';
import { TimestampPair } from './timestamps';
import { whileNudging } from './nudge';
import { adapterKey } from './adapter-key';
import { checkNormType } from '../plan/validate';
import { OP_SCALE, PARAMS_BYTES, RESULT_BYTES, SOURCE_PARTIALS } from '../kernels/registry';
import { COEF_OFFSET, FLAG_SCALED, FLAGS_OFFSET } from '../core/abi';

/**
 * Elements of the tuning buffer (32 MiB of float32, less where the binding limit is lower): enough
 * for the largest candidate cap to get work for every workgroup (a plan gives one workgroup at
 * most per 4 096 floats). With 8 MiB, caps above 512 tied, and an H100 kept 256 workgroups, too
 * few to fill it (the H100 run in the README).
 */
const TUNE_ELEMENTS = 1 << 23;
/**
 * The tuning buffer grows from MIN_TUNE_ELEMENTS while a step over it stays within this (ms): a
 * device slower than that (a CPU adapter) runs a handful of workgroups at a time, which a quarter
 * of a small model's gradients already tells apart, and a search of a few dozen batches then
 * takes well under a second.
 */
const STEP_BUDGET_MS = 5;
/**
 * 4 MiB: caps up to 256 still differ. 2 MiB made createClipper() ~90 ms shorter on SwiftShader but chose
 * one workgroup in 5 of 25 runs on an otherwise idle machine (0 of 18 at 4 MiB), where the
 * transformer's steps take up to twice as long as at two: on so little data a second workgroup's
 * fixed cost weighs more.
 */
export const MIN_TUNE_ELEMENTS = 1 << 20;
/** Floats per workgroup at least (the plan's MIN_ELEMENTS_PER_WORKGROUP): larger caps add nothing. */
const ELEMENTS_PER_WORKGROUP = 4096;
/** A batch must take at least this long to be measured (ms): timestamps, wall clock. */
const MIN_BATCH_MS = { timestamps: 2, wall: 40 };
const MAX_BATCH_STEPS = 256;
/** Where a GPU's search starts: a few workgroups per compute unit of a mid-size GPU. */
const GPU_PRIOR = 256;

/** Cap used when tuning is off: enough workgroups to fill a large GPU. */
export const DEFAULT_MAX_WORKGROUPS = 1024;

const tunings = new WeakMap<GPUDevice, Promise<ClipperTuning>>();

/**
 * The autotune's result for `device`, measured on first use (cached per device; a failure is not),
 * or `stored` where it was measured on this adapter (then kept for the device's later clippers).
 */
export function deviceTuning(device: GPUDevice, stored?: ClipperTuning): Promise<ClipperTuning> {
  if (
    stored &&
    stored.adapterKey === adapterKey(device) &&
    stored.maxWorkgroups <= device.limits.maxComputeWorkgroupsPerDimension
  ) {
    const reused: ClipperTuning = { ...stored, source: 'stored' };
    if (!tunings.has(device)) tunings.set(device, Promise.resolve(reused));
    return Promise.resolve(reused);
  }
  let tuning = tunings.get(device);
  if (!tuning) {
    tuning = measureTuning(device);
    tunings.set(device, tuning);
    // A transient failure (out of memory for the scratch set) must not fail every later clipper.
    tuning.catch(() => {
      if (tunings.get(device) === tuning) tunings.delete(device);
    });
  }
  return tuning;
}

/** Powers of two from 1 up to the most workgroups `elements` floats can use (and the device allows). */
export function candidateCaps(elements: number, limit: number): number[] {
  const most = Math.min(limit, Math.max(1, Math.floor(elements / ELEMENTS_PER_WORKGROUP)));
  const caps: number[] = [];
  for (let cap = 1; cap <= most; cap *= 2) caps.push(cap);
  return caps;
}

/**
 * Where the search starts. Limits do not tell a GPU from a CPU emulator (SwiftShader, lavapipe and
 * WARP report GPU-like limits); the adapter's `isFallbackAdapter` does. A CPU runs about one
 * workgroup per core at a time, so a fallback adapter starts at the core count; a GPU at GPU_PRIOR.
 */
export function priorCap(device: GPUDevice, candidates: readonly number[]): number {
  const info = (device as GPUDevice & { adapterInfo?: GPUAdapterInfo }).adapterInfo;
  const cores = (globalThis.navigator as Navigator | undefined)?.hardwareConcurrency || 4;
  const wanted = info?.isFallbackAdapter ? cores : GPU_PRIOR;
  // The candidate nearest `wanted` in log2 (candidates are powers of two).
  return candidates.reduce((a, b) => (Math.abs(Math.log2(b / wanted)) < Math.abs(Math.log2(a / wanted)) ? b : a));
}

/**
 * Times `steps` steps of clipGradNorm's passes (partials, finalize, scale) recorded into one
 * submission; the scale at a coefficient of exactly 1 (`unit`), so every float is read and
 * written back unchanged and every step of a batch does the same work. (A real clip would shrink
 * the floats, and the next step would find nothing to clip.) With timestamps, batches may be
 * timed together (each its own query set): submitted in call order, read back as each finishes.
 */
class BatchTimer {
  private readonly timestamps: boolean;
  /** Timestamp pairs not in use by a batch. */
  private readonly free: TimestampPair[] = [];
  private readonly all: TimestampPair[] = [];

  constructor(private readonly device: GPUDevice) {
    this.timestamps = device.features.has('timestamp-query');
  }

  get kind(): 'timestamps' | 'wall' {
    return this.timestamps ? 'timestamps' : 'wall';
  }

  get minMs(): number {
    return MIN_BATCH_MS[this.kind];
  }

  async time({ clipper, set, unit }: TuningRun, steps: number): Promise<number> {
    const pair = this.timestamps ? this.takePair() : null;
    try {
      const encoder = this.device.createCommandEncoder({ label: 'gradclip autotune batch' });
      for (let i = 0; i < steps; i++) {
        clipper.getTotalNorm(set, { encoder, timestampWrites: pair?.writes(i === 0, false) });
        recordUnitScale(clipper, set, unit, encoder, pair?.writes(false, i === steps - 1));
      }
      pair?.resolve(encoder);
      const start = performance.now();
      this.device.queue.submit([encoder.finish()]);
      await whileNudging(this.device, this.device.queue.onSubmittedWorkDone()); // Firefox: no 100 ms poll per batch
      const wall = performance.now() - start;
      if (!pair) return wall;
      const gpu = await pair.readMs();
      return gpu > 0 ? gpu : wall; // a timer that reads nothing useful falls back to the wall clock
    } finally {
      if (pair) this.free.push(pair);
    }
  }

  private takePair(): TimestampPair {
    let pair = this.free.pop();
    if (!pair) {
      pair = new TimestampPair(this.device, 'gradclip autotune');
      this.all.push(pair);
    }
    return pair;
  }

  destroy(): void {
    for (const pair of this.all) pair.destroy();
  }
}

/** A cap's clipper, its set over the tuning buffer, and the scale pass's bind group at a coefficient of 1. */
interface TuningRun {
  clipper: GpuClipper;
  set: GradSet;
  unit: GPUBindGroup;
}

/**
 * clipGradNorm's scale pass (the same pipeline and workgroups, dispatched directly rather than
 * from a decision) over `set`, reading its coefficient, 1, from `unit`'s result.
 */
function recordUnitScale(
  clipper: GpuClipper,
  set: GradSet,
  unit: GPUBindGroup,
  encoder: GPUCommandEncoder,
  timestampWrites: GPUComputePassTimestampWrites | undefined,
): void {
  const ctx = clipper.context;
  const gpuSet = ctx.checkUsable(set);
  const paramsOffset = ctx.paramsOffset({}, encoder);
  ctx.record({ encoder, timestampWrites }, 'autotune scale', [gpuSet], (pass) =>
    ctx.recordElementwise(pass, gpuSet, OP_SCALE, unit, [paramsOffset, 0], 'all'),
  );
}

/** Per cap, a clipper and a set over the first `elements` floats of the tuning buffer, made on first use. */
class TuningRuns {
  private readonly runs = new Map<number, TuningRun>();
  /** A norm result whose coefficient is 1 and whose flags say to scale (NormResult, common.wgsl). */
  private readonly unitResult: GPUBuffer;

  constructor(
    private readonly device: GPUDevice,
    private readonly buffer: GPUBuffer,
    public elements: number,
  ) {
    this.unitResult = device.createBuffer({
      label: 'gradclip autotune unit result',
      size: RESULT_BYTES,
      usage: BufferUsage.STORAGE,
      mappedAtCreation: true,
    });
    const mapped = this.unitResult.getMappedRange();
    new Float32Array(mapped, COEF_OFFSET, 1)[0] = 1;
    new Uint32Array(mapped, FLAGS_OFFSET, 1)[0] = FLAG_SCALED;
    this.unitResult.unmap();
  }

  get(cap: number): TuningRun {
    const key = cap * 2 ** 32 + this.elements;
    let run = this.runs.get(key);
    if (!run) {
      const clipper = new GpuClipper(this.device, { maxWorkgroups: cap });
      const unit = this.device.createBindGroup({
        label: 'gradclip autotune unit scale group',
        layout: clipper.context.kernels.elementwiseLayout,
        entries: [
          { binding: 0, resource: { buffer: clipper.context.paramsBuffer, size: PARAMS_BYTES } },
          { binding: 1, resource: { buffer: this.unitResult, size: RESULT_BYTES } },
        ],
      });
      run = { clipper, set: clipper.gradients([{ buffer: this.buffer, offset: 0, length: this.elements }]), unit };
      this.runs.set(key, run);
    }
    return run;
  }

  destroy(): void {
    for (const { clipper } of this.runs.values()) clipper.destroy();
    this.unitResult.destroy();
  }
}

/**
 * Builds side by side the pipelines of a tuning step over `set` (the norm's partials and finalize,
 * the scale), which recording it would build one after another: most of createClipper()'s time
 * on a CPU adapter is compiling them. They are clipGradNorm's, so its first call builds none.
 */
function prebuildStep({ clipper, set }: TuningRun): Promise<void> {
  const { kernels } = clipper.context;
  const { plan } = clipper.context.checkUsable(set);
  const { kind } = checkNormType(2);
  return kernels.prebuild(() => {
    for (const group of plan.groups) {
      kernels.partials(kind, group);
      kernels.elementwise(OP_SCALE, group);
    }
    kernels.finalize(kind, SOURCE_PARTIALS, false);
  });
}

async function measureTuning(device: GPUDevice): Promise<ClipperTuning> {
  const started = performance.now();
  const limit = device.limits.maxComputeWorkgroupsPerDimension;
  const full = Math.min(TUNE_ELEMENTS, Math.floor(device.limits.maxStorageBufferBindingSize / 16) * 4);
  const buffer = device.createBuffer({
    label: 'gradclip autotune gradients',
    size: full * 4,
    usage: BufferUsage.STORAGE | BufferUsage.COPY_DST,
  });
  const timer = new BatchTimer(device);
  // Dense data, as gradients are: every element 0.5 (the buffer starts as zeros), written up to
  // `elements` from one block of MIN_TUNE_ELEMENTS, so a GPU's 32 MiB needs no 32 MiB array.
  const block = new Float32Array(Math.min(MIN_TUNE_ELEMENTS, full)).fill(0.5);
  let filled = 0;
  const fill = (elements: number) => {
    while (filled < elements) {
      const count = Math.min(block.length, elements - filled);
      device.queue.writeBuffer(buffer, filled * 4, block.subarray(0, count));
      filled += count;
    }
  };
  let made: TuningRuns | null = null;
  try {
    // The search starts on the smallest buffer: a slow device (a CPU adapter) stays there, where a
    // step over all 32 MiB, and filling it, would take it a large part of a second.
    const runs = new TuningRuns(device, buffer, Math.min(MIN_TUNE_ELEMENTS, full));
    made = runs;
    const first = runs.get(priorCap(device, candidateCaps(runs.elements, limit)));
    fill(runs.elements);
    await prebuildStep(first);
    await timer.time(first, 1); // warm-up: pipelines are shared by every cap
    // A fast device tunes on as much of the buffer as keeps a step within budget (a GPU: all of it).
    const stepMs = await timer.time(first, 1);
    const small = runs.elements;
    while (runs.elements * 2 <= full && (stepMs * runs.elements * 2) / small <= STEP_BUDGET_MS) runs.elements *= 2;
    const candidates = candidateCaps(runs.elements, limit);
    const prior = priorCap(device, candidates);
    let steps = 1;
    const probe = runs.get(prior);
    fill(runs.elements);
    while (steps < MAX_BATCH_STEPS && (await timer.time(probe, steps)) < timer.minMs) steps *= 2;
    // A round's batches go to the GPU together where the GPU times them: one wait per round, not per cap.
    const search = await searchBestCap(
      candidates,
      prior,
      async (cap) => (await timer.time(runs.get(cap), steps)) / steps,
      timer.kind === 'timestamps',
    );
    const timed = [...search.samples.entries()].sort(([a], [b]) => a - b);
    return {
      maxWorkgroups: search.chosen === candidates[candidates.length - 1] ? limit : search.chosen,
      source: 'autotune',
      adapterKey: adapterKey(device),
      chosen: search.chosen,
      candidates: timed.map(([cap, samplesMs]) => ({
        maxWorkgroups: cap,
        samplesMs,
        medianMs: median(samplesMs),
        final: search.final.includes(cap),
      })),
      prior,
      timer: timer.kind,
      elements: runs.elements,
      elapsedMs: performance.now() - started,
    };
  } finally {
    made?.destroy();
    timer.destroy();
    buffer.destroy();
  }
}
