// Planning for clipPerExample's sum (pure, decided once per set, batch size and target): each
// view read through its own read-only window, the views packed into dispatches of at most
// `viewsPerDispatch`, and each dispatch's table (per_example_sum.wgsl).
import { GradclipError } from '../core/errors';
import type { ResolvedView } from './views';
import { alignUp } from './windows';

/** Byte offset of each view's sum in the target (16-byte aligned), and the bytes of all of them. */
export function sumLayout(lengths: readonly number[]): { offsets: number[]; bytes: number } {
  const offsets: number[] = [];
  let bytes = 0;
  for (const length of lengths) {
    offsets.push(bytes);
    bytes += alignUp(length * 4, 16);
  }
  return { offsets, bytes: Math.max(16, bytes) };
}

export interface SumWindow {
  view: number;
  buffer: GPUBuffer;
  offset: number;
  size: number;
  /** Read as vec4s (16-byte aligned offset, per-example length a multiple of 4), else as floats. */
  vec4: boolean;
}

export interface SumPlan {
  /** Bytes of the sums in the target. */
  bytes: number;
  dispatches: Array<{ table: Uint32Array<ArrayBuffer>; windows: SumWindow[]; lanes: number; vec4Slots: number }>;
}

export interface SumLimits {
  offsetAlignment: number;
  maxBindingBytes: number;
  viewsPerDispatch: number;
}

/**
 * Outputs one lane computes at most: enough to amortise reading its table entries, few enough
 * that lanes come in near-equal sizes. Lanes beyond the dispatch loop; neighbours that run in
 * lockstep (a warp, or a CPU adapter's SIMD group) then wait little for a longer one, which
 * matters most when the noise makes each output cost ALU work.
 */
const OUTPUTS_PER_LANE = 64;

/**
 * Each dispatch's table: header (viewCount, batchSize, laneCount, vec4Slots), per view (slot,
 * offset in its window, per-example length L, output element offset) in the window's units
 * (vec4s or elements), then per lane (view, first, stride, -): lanes `first` of `stride` share a
 * view, interleaved (neighbouring lanes on neighbouring outputs).
 */
export function planPerExampleSum(views: readonly ResolvedView[], batchSize: number, limits: SumLimits): SumPlan {
  const { offsets, bytes } = sumLayout(views.map((v) => v.length / batchSize));
  if (bytes > limits.maxBindingBytes) {
    throw new GradclipError(
      'out-of-range',
      `the per-example sums need ${bytes} bytes in one binding, above maxStorageBufferBindingSize (${limits.maxBindingBytes})`,
    );
  }
  const windows = views.map((v, i) => sumWindow(v, i, batchSize, limits));
  // vec4 windows first (a dispatch's shader is keyed by how many of its slots are vec4).
  const ordered = [...windows.filter((w) => w.window.vec4), ...windows.filter((w) => !w.window.vec4)].filter(
    (w) => views[w.window.view].length > 0,
  );
  // A lane's unit is one output vec4 (the last of a scalar view's may be partly past its end).
  const unitsOf = (w: SumWindow) => Math.ceil(views[w.view].length / batchSize / 4);
  const dispatches: SumPlan['dispatches'] = [];
  for (let first = 0; first < ordered.length; first += limits.viewsPerDispatch) {
    const members = ordered.slice(first, first + limits.viewsPerDispatch);
    const lanes: number[][] = [];
    members.forEach(({ window: w }, slot) => {
      const stride = Math.ceil(unitsOf(w) / OUTPUTS_PER_LANE);
      for (let k = 0; k < stride; k++) lanes.push([slot, k, stride, 0]);
    });
    const table = new Uint32Array(4 + 4 * members.length + 4 * lanes.length);
    members.forEach(({ window: w, skip }, slot) => {
      const length = views[w.view].length / batchSize / (w.vec4 ? 4 : 1);
      table.set([slot, skip, length, offsets[w.view] / 4], 4 + 4 * slot);
    });
    lanes.forEach((lane, l) => table.set(lane, 4 + 4 * (members.length + l)));
    const vec4Slots = members.filter((m) => m.window.vec4).length;
    table.set([members.length, batchSize, lanes.length, vec4Slots], 0);
    dispatches.push({ table, windows: members.map((m) => m.window), lanes: lanes.length, vec4Slots });
  }
  return { bytes, dispatches };
}

/** A view's read-only window from the aligned offset below it, and how many units it starts into it. */
function sumWindow(
  v: ResolvedView,
  i: number,
  batchSize: number,
  limits: SumLimits,
): { window: SumWindow; skip: number } {
  const start = Math.floor(v.offsetBytes / limits.offsetAlignment) * limits.offsetAlignment;
  const size = v.offsetBytes + v.length * 4 - start;
  if (size > limits.maxBindingBytes) {
    throw new GradclipError(
      'out-of-range',
      `views[${i}] spans ${size} bytes, above maxStorageBufferBindingSize (${limits.maxBindingBytes}) for clipPerExample`,
    );
  }
  const vec4 = v.offsetBytes % 16 === 0 && (v.length / batchSize) % 4 === 0;
  // At least 16 bytes where the buffer has them (read-only windows may overlap): wgpu keeps a
  // vec4 binding's minimum from the previous pipeline in a pass (see planWindows).
  const bound = Math.min(v.buffer.size - start, Math.max(16, size));
  return {
    window: { view: i, buffer: v.buffer, offset: start, size: bound, vec4 },
    skip: (v.offsetBytes - start) / (vec4 ? 16 : 4),
  };
}
