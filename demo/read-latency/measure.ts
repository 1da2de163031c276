// How long a readback takes, and what the read patterns cost: each figure is the median wall time
// of `ROUNDS` rounds on one device. Runs in the page (demo/read-latency-page.ts); the CLI
// (demo/read-latency/cli.ts) runs it in each browser. Firefox learns that GPU work finished from
// a ~100 ms timer or at the device's next submit (Mozilla bug 1870699): gradclip's reads submit an
// empty command list every 4 ms while they wait (src/gpu/nudge.ts); the "nudge off" lines drop
// those submits, interleaved round by round with the lines that keep them.
import { createClipper, type NormHandle } from '../../src/index';

export const ROUNDS = 50;
/** Steps of the training-loop lines, and how often their "every K" line reads. */
export const LOOP_STEPS = 50;
export const READ_EVERY = 10;
/** Handles read by the "several handles" lines. */
export const HANDLES = 8;

export interface LatencyLine {
  name: string;
  /** What one round does. */
  what: string;
  /** Median ms per round, and the 10th / 90th percentiles. */
  median: number;
  p10: number;
  p90: number;
  /** Per-unit medians where a round holds several reads or steps. */
  perUnit?: { unit: string; median: number };
}

export interface LatencyResults {
  userAgent: string;
  adapter: string;
  date: string;
  rounds: number;
  lines: LatencyLine[];
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

async function timeOne(round: () => Promise<void>): Promise<number> {
  const start = performance.now();
  await round();
  return performance.now() - start;
}

async function timed(rounds: number, round: () => Promise<void>): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < rounds; i++) times.push(await timeOne(round));
  return times;
}

/** Runs `round` with the queue's empty submits dropped, so gradclip's nudge does nothing. */
async function nudgeOff(device: GPUDevice, round: () => Promise<void>): Promise<void> {
  const queue = device.queue;
  const submit = queue.submit;
  queue.submit = (buffers) => {
    const list = [...buffers];
    if (list.length) submit.call(queue, list);
  };
  try {
    await round();
  } finally {
    Reflect.deleteProperty(queue, 'submit'); // back to GPUQueue.prototype.submit
  }
}

/** `round` timed with and without the nudge, alternating, so drift on a busy machine hits both alike. */
async function timedWithAndWithoutNudge(device: GPUDevice, rounds: number, round: () => Promise<void>) {
  const on: number[] = [];
  const off: number[] = [];
  for (let i = 0; i < rounds; i++) {
    on.push(await timeOne(round));
    off.push(await timeOne(() => nudgeOff(device, round)));
  }
  return { on, off };
}

function line(name: string, what: string, times: number[], units?: { unit: string; count: number }): LatencyLine {
  const sorted = [...times].sort((a, b) => a - b);
  const median = quantile(sorted, 0.5);
  return {
    name,
    what,
    median,
    p10: quantile(sorted, 0.1),
    p90: quantile(sorted, 0.9),
    ...(units ? { perUnit: { unit: units.unit, median: median / units.count } } : {}),
  };
}

/** Copies 32 bytes into a staging buffer and maps it, submitting nothing every 4 ms while it waits when `nudge`. */
async function plainMap(device: GPUDevice, source: GPUBuffer, staging: GPUBuffer, nudge: boolean): Promise<void> {
  const encoder = device.createCommandEncoder({ label: 'read latency copy' });
  encoder.copyBufferToBuffer(source, 0, staging, 0, 32);
  device.queue.submit([encoder.finish()]);
  const timer = nudge ? setInterval(() => device.queue.submit([]), 4) : undefined;
  try {
    await staging.mapAsync(GPUMapMode.READ);
  } finally {
    clearInterval(timer);
  }
  staging.unmap();
}

/** Every line, `rounds` rounds each, on `device`. */
export async function measureReadLatency(device: GPUDevice, adapter: string, rounds = ROUNDS): Promise<LatencyResults> {
  const clipper = await createClipper({ device, backend: 'webgpu' });
  const length = 1 << 16;
  const gradients = device.createBuffer({
    label: 'read latency gradients',
    size: length * 4,
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
  });
  device.queue.writeBuffer(gradients, 0, new Float32Array(length).fill(0.5));
  const set = clipper.gradients([gradients]);
  const staging = device.createBuffer({
    label: 'read latency staging',
    size: 32,
    usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
  });
  // The norm (128) stays below maxNorm = 1e9: nothing is scaled, so every round does the same work.
  const step = () => clipper.clipGradNorm(set, 1e9);
  await step().read(); // pipelines built, autotune done

  const lines: LatencyLine[] = [];
  const perRead = { unit: 'read', count: HANDLES };
  const perStep = { unit: 'step', count: LOOP_STEPS };
  const copyAndMap = 'copy 32 B into a MAP_READ buffer, submit, mapAsync';
  lines.push(line('map', copyAndMap, await timed(rounds, () => plainMap(device, gradients, staging, false))));
  const nudgedMap = 'the same, submitting nothing every 4 ms while the map waits';
  lines.push(line('map, nudged', nudgedMap, await timed(rounds, () => plainMap(device, gradients, staging, true))));

  const readOne = await timedWithAndWithoutNudge(device, rounds, async () => void (await step().read()));
  lines.push(line('read()', 'clipGradNorm on 65 536 floats, then await handle.read()', readOne.on));
  lines.push(line('read(), nudge off', 'the same with empty submits dropped', readOne.off));

  const handlesRound = (together: boolean) => async () => {
    const handles: NormHandle[] = Array.from({ length: HANDLES }, step);
    if (together) await Promise.all(handles.map((h) => h.read()));
    else for (const h of handles) await h.read();
  };
  const oneByOne = `${HANDLES} clipGradNorm steps, then each handle read in turn`;
  lines.push(line(`${HANDLES} reads, one by one`, oneByOne, await timed(rounds, handlesRound(false)), perRead));
  const together = `${HANDLES} clipGradNorm steps, then Promise.all of the reads`;
  lines.push(line(`${HANDLES} reads, together`, together, await timed(rounds, handlesRound(true)), perRead));

  const loop = (every: number) => async () => {
    for (let i = 1; i <= LOOP_STEPS; i++) {
      const norm = step();
      if (i % every === 0) await norm.read();
    }
  };
  const loopRounds = Math.max(1, Math.floor(rounds / 5));
  const everyStep = await timedWithAndWithoutNudge(device, loopRounds, loop(1));
  lines.push(line('loop, read every step', `${LOOP_STEPS} steps, each awaiting its norm`, everyStep.on, perStep));
  lines.push(line('loop, every step, nudge off', 'the same with empty submits dropped', everyStep.off, perStep));
  const everyK = `${LOOP_STEPS} steps, awaiting every ${READ_EVERY}th norm`;
  lines.push(line(`loop, read every ${READ_EVERY}`, everyK, await timed(loopRounds, loop(READ_EVERY)), perStep));
  const atEnd = `${LOOP_STEPS} steps, awaiting the last norm only`;
  lines.push(line('loop, read at the end', atEnd, await timed(loopRounds, loop(LOOP_STEPS)), perStep));

  staging.destroy();
  gradients.destroy();
  clipper.destroy();
  return { userAgent: navigator.userAgent, adapter, date: new Date().toISOString(), rounds, lines };
}
