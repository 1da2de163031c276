// What a mode line is (a step on each backend and where its result is) and what it reports, with
// the empty timestamp passes that bracket a step.
import type { TimestampPair } from '../../../src/gpu/timestamps';
import type { ModeName } from '../config';
import type { Summary } from '../stats';
import type { Clipper, NormHandle } from '../../../src/index';
import type { Tensor } from '../cases';
import type { Workload } from './workload';

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

/** One mode: a step on each backend (the GPU one into an encoder) and where its result is. */
export interface ModeRun {
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
export function stamp(encoder: GPUCommandEncoder, timer: TimestampPair, which: 'begin' | 'end'): void {
  encoder.beginComputePass({ timestampWrites: timer.writes(which === 'begin', which === 'end') }).end();
  if (which === 'end') timer.resolve(encoder);
}

/** A command buffer of its own holding just the stamp (around work submitted by someone else). */
export function bracket(device: GPUDevice, timer: TimestampPair, which: 'begin' | 'end'): GPUCommandBuffer {
  const encoder = device.createCommandEncoder({ label: `bench modes timer ${which}` });
  stamp(encoder, timer, which);
  return encoder.finish();
}

/** What the lines are built from: the device, both backends and the shared workloads (made on first use). */
export interface LineContext {
  device: GPUDevice;
  gpu: Clipper;
  cpu: Clipper;
  tensors: readonly Tensor[];
  /** The transformer's gradients (one workload shared by the lines). */
  model(): Workload;
  /** PER_EXAMPLE_BATCH copies of them, one example after another in each view. */
  examples(): Workload;
  /** A step's result when it clips in place: the GPU views and their CPU twins. */
  inPlace(w: Workload): () => Promise<{ actual: Float32Array[]; reference: ArrayLike<number>[] }>;
}

/** A line's factory, by name: called once, when the line is about to run. */
export type Lines = Array<[ModeName, () => ModeRun]>;
