// Chooses the workgroup cap of the norm and scale passes by measuring, once per device, a norm
// plus a clamp pass over 32 MiB for a few caps. The best cap differs by orders of magnitude between
// GPUs (thousands of workgroups) and CPU emulators (a handful), and no limit reveals which one we
// are on, so it is measured rather than guessed.
//
// Each candidate runs a batch of steps in one submission, sized so that the batch takes well over
// the timer's resolution: GPU timestamps where the device has `timestamp-query` (browsers quantise
// them to 100 µs), else the wall clock around submit-to-completion (some hosts poll every ~10 ms).
import { BufferUsage } from './constants';
import { GpuClipper } from './clipper';
import { TimestampPair } from './timestamps';
import type { GradSet } from '../api/types';

/**
 * Elements of the tuning buffer (32 MiB of float32, less where the binding limit is lower): enough
 * for the largest candidate cap to get work for every workgroup (a plan gives one workgroup at
 * most per 4 096 floats). With 8 MiB, caps above 512 tied, and an H100 kept 256 workgroups, too
 * few to fill it (the H100 run in the README).
 */
const TUNE_ELEMENTS = 1 << 23;
/** Caps tried; if the largest wins, more parallelism pays on this device and the cap is lifted. */
const CANDIDATE_CAPS = [4, 16, 64, 256, 1024, 2048];
/** A batch must take at least this long to be measured (ms): timestamps, wall clock. */
const MIN_BATCH_MS = { timestamps: 2, wall: 40 };
const MAX_BATCH_STEPS = 256;

/** Cap used when tuning is off: enough workgroups to fill a large GPU. */
export const DEFAULT_MAX_WORKGROUPS = 1024;

const tunedCaps = new WeakMap<GPUDevice, Promise<number>>();

/** The measured best workgroup cap for `device` (cached per device). */
export function tunedMaxWorkgroups(device: GPUDevice): Promise<number> {
  let cap = tunedCaps.get(device);
  if (!cap) {
    cap = measureBestCap(device);
    tunedCaps.set(device, cap);
  }
  return cap;
}

/** Times `steps` norm + clamp steps recorded into one submission. */
class BatchTimer {
  private readonly pair: TimestampPair | null;

  constructor(private readonly device: GPUDevice) {
    this.pair = device.features.has('timestamp-query') ? new TimestampPair(device, 'gradclip autotune') : null;
  }

  get minMs(): number {
    return this.pair ? MIN_BATCH_MS.timestamps : MIN_BATCH_MS.wall;
  }

  async time(clipper: GpuClipper, set: GradSet, steps: number): Promise<number> {
    const encoder = this.device.createCommandEncoder({ label: 'gradclip autotune batch' });
    for (let i = 0; i < steps; i++) {
      clipper.getTotalNorm(set, { encoder, timestampWrites: this.pair?.writes(i === 0, false) });
      clipper.clipGradValue(set, 1, { encoder, timestampWrites: this.pair?.writes(false, i === steps - 1) });
    }
    this.pair?.resolve(encoder);
    const start = performance.now();
    this.device.queue.submit([encoder.finish()]);
    await this.device.queue.onSubmittedWorkDone();
    const wall = performance.now() - start;
    if (!this.pair) return wall;
    const gpu = await this.pair.readMs();
    return gpu > 0 ? gpu : wall; // a timer that reads nothing useful falls back to the wall clock
  }

  destroy(): void {
    this.pair?.destroy();
  }
}

async function measureBestCap(device: GPUDevice): Promise<number> {
  const limit = device.limits.maxComputeWorkgroupsPerDimension;
  const candidates = CANDIDATE_CAPS.filter((c) => c <= limit);
  const elements = Math.min(TUNE_ELEMENTS, Math.floor(device.limits.maxStorageBufferBindingSize / 16) * 4);
  const buffer = device.createBuffer({
    label: 'gradclip autotune gradients',
    size: elements * 4,
    usage: BufferUsage.STORAGE,
  });
  const timer = new BatchTimer(device);
  const clippers: GpuClipper[] = [];
  try {
    const runs = candidates.map((cap) => {
      const clipper = new GpuClipper(device, { maxWorkgroups: cap });
      clippers.push(clipper);
      return { cap, clipper, set: clipper.gradients([buffer]) };
    });
    // Non-zero data (a zero sum takes the norm's slower second read): clamp zeros up to 0.5.
    runs[0].clipper.clipGradValue(runs[0].set, { min: 0.5, max: 0.5 });
    // Warm up (pipelines are shared by the candidates), then size the batch on a middle cap.
    await timer.time(runs[0].clipper, runs[0].set, 1);
    const probe = runs[Math.floor(runs.length / 2)];
    let steps = 1;
    while (steps < MAX_BATCH_STEPS && (await timer.time(probe.clipper, probe.set, steps)) < timer.minMs) steps *= 2;

    // Caps in rising order; once a cap is clearly slower than the best, larger ones will not win.
    let best = { cap: DEFAULT_MAX_WORKGROUPS, ms: Infinity };
    for (const run of runs) {
      let ms = await timer.time(run.clipper, run.set, steps);
      if (ms < 1.5 * best.ms) ms = Math.min(ms, await timer.time(run.clipper, run.set, steps));
      if (ms < best.ms) best = { cap: run.cap, ms };
      else if (ms > 2 * best.ms) break;
    }
    return best.cap === candidates[candidates.length - 1] ? limit : best.cap;
  } finally {
    for (const c of clippers) c.destroy();
    timer.destroy();
    buffer.destroy();
  }
}
