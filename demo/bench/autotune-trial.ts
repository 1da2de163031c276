// One run of the autotune check, in the page: a fresh createClipper() (a new device, so a fresh
// autotune), then an independent judgement on that device of the cap it chose. Each candidate cap
// steps the benchmark's transformer preset (one arena, 148 tensors, 4.1 M floats): a clipping
// step and one that does not clip, each timed to onSubmittedWorkDone, in interleaved rounds.
//
// - A screen first: each cap once, in increasing order, until two caps in a row take over
//   SCREEN_STOP × the fastest so far (step time rises steadily past the optimum; on an emulator
//   the large caps take seconds). Caps over SCREEN_SLOWER × the fastest are then out; the chosen
//   cap is always timed and never out.
// - Then ROUNDS interleaved rounds. The fastest candidate is picked on the odd rounds, and the
//   chosen cap's time relative to it is the median, over the even rounds, of the two caps' ratio
//   in the same round. Picking the fastest and measuring against it on the same timings would
//   favour whichever cap the noise flattered (the minimum of noisy medians is biased low), and
//   pairing by round cancels the load that comes and goes between rounds.
// The run passes when that ratio is at most WITHIN. demo/bench/autotune-check.ts opens a page per run.
import { createClipper, createGradientArena, type Clipper, type ClipperTuning, type GradSet } from '../../src/index';
import { seeded, transformerShapes } from './cases';
import { percentile } from './stats';

/** The chosen cap passes when its step takes at most this factor of the fastest candidate's. */
export const WITHIN = 1.1;
const SCREEN_SLOWER = 2;
const SCREEN_STOP = 3;
const ROUNDS = 24;

export interface JudgedCap {
  maxWorkgroups: number;
  /** Per round (the screen's first): a clipping step plus a step that does not clip (ms, wall, to onSubmittedWorkDone). */
  stepMs: number[];
  clipMs: number[];
  noClipMs: number[];
  medianStepMs: number;
}

export interface AutotuneTrial {
  adapter: string;
  /** createClipper() from call to resolution (device request and autotune), ms. */
  createMs: number;
  tuning: ClipperTuning;
  /** Every cap the judgement timed, in increasing order (caps after the screen's stop are not). */
  judged: JudgedCap[];
  /** The candidate the clipper runs with (its cap lifted to the limit counts as the largest candidate). */
  chosen: number;
  fastest: number;
  /** The chosen cap's step / the fastest candidate's: the median of same-round ratios over the even rounds. */
  ratio: number;
  within: boolean;
}

/** Candidate caps the judgement times: the autotune's (powers of two), up to the largest it could have chosen. */
function judgedCaps(tuning: ClipperTuning): number[] {
  const largest = Math.max(...tuning.candidates.map((c) => c.maxWorkgroups), tuning.chosen ?? 1, 2048);
  const caps: number[] = [];
  for (let cap = 1; cap <= largest; cap *= 2) caps.push(cap);
  return caps;
}

/** Runs one trial: a fresh createClipper(), then the judgement of its cap. */
export async function autotuneTrial(): Promise<AutotuneTrial> {
  const started = performance.now();
  const tuned = await createClipper({ backend: 'webgpu' });
  const createMs = performance.now() - started;
  const tuning = tuned.tuning!;
  const device = tuned.device!;
  const info = (device as GPUDevice & { adapterInfo?: GPUAdapterInfo }).adapterInfo;
  const adapter = [info?.vendor, info?.architecture, info?.description].filter(Boolean).join(' / ');

  // The benchmark's transformer preset in one arena, seeded, and a pristine copy to restore it.
  const { buffer, views } = createGradientArena(
    device,
    transformerShapes().map((t) => t.length),
  );
  const random = seeded(1234);
  const data = new Float32Array(buffer.size / 4).map(() => random() * 2 - 1);
  device.queue.writeBuffer(buffer, 0, data);
  const pristine = device.createBuffer({
    label: 'autotune check pristine',
    size: buffer.size,
    usage: GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
  });
  device.queue.writeBuffer(pristine, 0, data);
  const norm = Math.sqrt(data.reduce((s, v) => s + v * v, 0));

  const timed = async (run: () => void) => {
    const start = performance.now();
    run();
    await device.queue.onSubmittedWorkDone();
    return performance.now() - start;
  };
  const restore = () =>
    timed(() => {
      const encoder = device.createCommandEncoder({ label: 'autotune check restore' });
      encoder.copyBufferToBuffer(pristine, 0, buffer, 0, buffer.size);
      device.queue.submit([encoder.finish()]);
    });

  const caps = judgedCaps(tuning);
  const chosen = Math.min(tuning.maxWorkgroups, caps[caps.length - 1]);
  const runs: Run[] = [];
  const step = async (run: Run) => {
    await restore();
    const clip = await timed(() => run.clipper.clipGradNorm(run.set, norm / 2)); // scales to norm / 2
    const noClip = await timed(() => run.clipper.clipGradNorm(run.set, norm)); // reads, writes nothing
    run.judged.clipMs.push(clip);
    run.judged.noClipMs.push(noClip);
    run.judged.stepMs.push(clip + noClip);
    run.judged.medianStepMs = percentile(run.judged.stepMs, 0.5);
  };

  // The screen, with a warm-up step per cap (each set's tables are uploaded on first use).
  let fastestSoFar = Infinity;
  let slowInRow = 0;
  for (const cap of caps) {
    if (slowInRow === 2 && cap !== chosen) continue;
    const clipper = await createClipper({ device, maxWorkgroups: cap });
    const run: Run = { cap, clipper, set: clipper.gradients(views), judged: emptyJudged(cap) };
    runs.push(run);
    await restore();
    await timed(() => run.clipper.clipGradNorm(run.set, norm / 2));
    await step(run);
    fastestSoFar = Math.min(fastestSoFar, run.judged.medianStepMs);
    slowInRow = run.judged.medianStepMs > SCREEN_STOP * fastestSoFar ? slowInRow + 1 : 0;
  }
  const live = runs.filter((r) => r.cap === chosen || r.judged.medianStepMs <= SCREEN_SLOWER * fastestSoFar);
  for (let round = 0; round < ROUNDS; round++) {
    for (const run of round % 2 ? [...live].reverse() : live) await step(run);
  }
  for (const r of runs) r.clipper.destroy();
  tuned.destroy();
  device.destroy();

  // Samples after the screen's: odd rounds pick the fastest, even rounds measure the ratio.
  const rounds = (r: Run, parity: number) => r.judged.stepMs.slice(1).filter((_, k) => k % 2 === parity);
  const fastest = live.reduce((a, b) => (percentile(rounds(b, 1), 0.5) < percentile(rounds(a, 1), 0.5) ? b : a));
  const chosenRun = live.find((r) => r.cap === chosen)!;
  const fastestEven = rounds(fastest, 0);
  const ratio = percentile(
    rounds(chosenRun, 0).map((ms, k) => ms / fastestEven[k]),
    0.5,
  );
  return {
    adapter,
    createMs,
    tuning,
    judged: runs.map((r) => r.judged),
    chosen,
    fastest: fastest.cap,
    ratio,
    within: ratio <= WITHIN,
  };
}

interface Run {
  cap: number;
  clipper: Clipper;
  set: GradSet;
  judged: JudgedCap;
}

function emptyJudged(cap: number): JudgedCap {
  return { maxWorkgroups: cap, stepMs: [], clipMs: [], noClipMs: [], medianStepMs: Infinity };
}
