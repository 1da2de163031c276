// Chooses the workgroup cap of the norm and scale passes by measuring, once per device, a norm
// plus an elementwise pass over a few megabytes for a handful of caps. The best cap differs by
// orders of magnitude between GPUs (thousands of workgroups) and CPU emulators (a few), and no
// limit reveals which one we are on, so it is measured rather than guessed.
import { BufferUsage } from './gpu-constants';
import { GpuClipper } from './gpu-clipper';

/** Elements of the tuning buffer (8 MiB of float32). */
const TUNE_ELEMENTS = 1 << 21;
const CANDIDATE_CAPS = [8, 32, 128, 512, 2048];
const REPEATS = 3;

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

async function measureBestCap(device: GPUDevice): Promise<number> {
  const candidates = CANDIDATE_CAPS.filter((c) => c <= device.limits.maxComputeWorkgroupsPerDimension);
  const elements = Math.min(TUNE_ELEMENTS, Math.floor(device.limits.maxStorageBufferBindingSize / 4));
  const buffer = device.createBuffer({
    label: 'gradclip autotune gradients',
    size: elements * 4,
    usage: BufferUsage.STORAGE | BufferUsage.COPY_DST,
  });
  const clippers: GpuClipper[] = [];
  try {
    let best = { cap: DEFAULT_MAX_WORKGROUPS, ms: Infinity };
    for (const cap of candidates) {
      const clipper = new GpuClipper(device, { maxWorkgroups: cap });
      clippers.push(clipper);
      const set = clipper.gradients([buffer]);
      const step = async () => {
        const start = performance.now();
        clipper.getTotalNorm(set);
        clipper.clipGradValue(set, 1);
        await device.queue.onSubmittedWorkDone();
        return performance.now() - start;
      };
      await step(); // compile and warm up
      const times: number[] = [];
      for (let i = 0; i < REPEATS; i++) times.push(await step());
      times.sort((a, b) => a - b);
      const ms = times[Math.floor(REPEATS / 2)];
      if (ms < best.ms) best = { cap, ms };
    }
    return best.cap;
  } finally {
    for (const c of clippers) c.destroy();
    buffer.destroy();
  }
}
