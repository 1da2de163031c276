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

/** A read-only binding of a buffer holding one or more views' per-example gradients. */
export interface SumWindow {
  buffer: GPUBuffer;
  offset: number;
  size: number;
  /**
   * Read as vec4s: each view in it starts on a vec4 of the window and has a per-example length
   * that is a multiple of 4. Else read as floats.
   */
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
  /** Windows one dispatch binds. */
  windowsPerDispatch: number;
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
 * (vec4s or elements), then per lane (view entry, first, stride, -): lanes `first` of `stride`
 * share a view, interleaved (neighbouring lanes on neighbouring outputs). Views of one buffer
 * share a window where they fit in one binding, so an arena's views take one dispatch, not one
 * per binding slot.
 */
export function planPerExampleSum(views: readonly ResolvedView[], batchSize: number, limits: SumLimits): SumPlan {
  const { offsets, bytes } = sumLayout(views.map((v) => v.length / batchSize));
  if (bytes > limits.maxBindingBytes) {
    throw new GradclipError(
      'out-of-range',
      `the per-example sums need ${bytes} bytes in one binding, above maxStorageBufferBindingSize (${limits.maxBindingBytes})`,
    );
  }
  const placed = sumWindows(views, batchSize, limits);
  // vec4 windows first (a dispatch's shader is keyed by how many of its slots are vec4).
  const ordered = [...placed.filter((p) => p.window.vec4), ...placed.filter((p) => !p.window.vec4)];
  const dispatches: SumPlan['dispatches'] = [];
  for (let first = 0; first < ordered.length; first += limits.windowsPerDispatch) {
    const slots = ordered.slice(first, first + limits.windowsPerDispatch);
    const entries: number[][] = [];
    const lanes: number[][] = [];
    slots.forEach(({ window, members }, slot) => {
      for (const { view, skip } of members) {
        const perExample = views[view].length / batchSize;
        // A lane's unit is one output vec4 (the last of a scalar view's may be partly past its end).
        const stride = Math.ceil(Math.ceil(perExample / 4) / OUTPUTS_PER_LANE);
        for (let k = 0; k < stride; k++) lanes.push([entries.length, k, stride, 0]);
        entries.push([slot, skip, perExample / (window.vec4 ? 4 : 1), offsets[view] / 4]);
      }
    });
    const table = new Uint32Array(4 + 4 * entries.length + 4 * lanes.length);
    const vec4Slots = slots.filter((p) => p.window.vec4).length;
    table.set([entries.length, batchSize, lanes.length, vec4Slots], 0);
    [...entries, ...lanes].forEach((entry, e) => table.set(entry, 4 + 4 * e));
    dispatches.push({ table, windows: slots.map((p) => p.window), lanes: lanes.length, vec4Slots });
  }
  return { bytes, dispatches };
}

/**
 * The windows over the non-empty views: per buffer and kind (vec4 or not), views in offset order
 * join a window while the window, from the aligned offset below its first view, still fits one
 * binding. Each member's `skip`: where it starts in the window, in the window's units.
 */
function sumWindows(
  views: readonly ResolvedView[],
  batchSize: number,
  limits: SumLimits,
): Array<{ window: SumWindow; members: Array<{ view: number; skip: number }> }> {
  const vec4Of = (v: ResolvedView) => v.offsetBytes % 16 === 0 && (v.length / batchSize) % 4 === 0;
  const order = views
    .map((v, view) => ({ v, view, vec4: vec4Of(v) }))
    .filter(({ v }) => v.length > 0)
    .sort((a, b) => Number(b.vec4) - Number(a.vec4) || a.v.offsetBytes - b.v.offsetBytes);
  const placed: Array<{ window: SumWindow; members: Array<{ view: number; skip: number }>; end: number }> = [];
  // Each buffer's window being filled (the vec4 views come first, then the others).
  const open = new Map<GPUBuffer, (typeof placed)[number]>();
  for (const { v, view, vec4 } of order) {
    const end = v.offsetBytes + v.length * 4;
    const start = Math.floor(v.offsetBytes / limits.offsetAlignment) * limits.offsetAlignment;
    if (end - start > limits.maxBindingBytes) {
      throw new GradclipError(
        'out-of-range',
        `views[${view}] spans ${end - start} bytes, above maxStorageBufferBindingSize (${limits.maxBindingBytes}) for clipPerExample`,
      );
    }
    let current = open.get(v.buffer);
    if (!current || current.window.vec4 !== vec4 || end - current.window.offset > limits.maxBindingBytes) {
      current = { window: { buffer: v.buffer, offset: start, size: 0, vec4 }, members: [], end };
      placed.push(current);
      open.set(v.buffer, current);
    }
    current.end = Math.max(current.end, end);
    current.members.push({ view, skip: (v.offsetBytes - current.window.offset) / (vec4 ? 16 : 4) });
  }
  return placed.map(({ window, members, end }) => {
    // At least 16 bytes where the buffer has them (read-only windows may overlap): wgpu keeps a
    // vec4 binding's minimum from the previous pipeline in a pass (see planWindows).
    const size = Math.min(window.buffer.size - window.offset, Math.max(16, end - window.offset));
    return { window: { ...window, size }, members };
  });
}
