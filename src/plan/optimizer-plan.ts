// Planning for the fused optimizer (pure, decided once at createOptimizer): one read-write window
// per buffer holding gradients or parameters, the views packed into dispatches of at most
// `windowsPerDispatch` windows, each dispatch's table, and each view's place in the moment buffers.
import { GradclipError } from '../core/errors';
import type { ResolvedView } from './views';

export interface OptimizerWindow {
  buffer: GPUBuffer;
  offsetBytes: number;
  sizeBytes: number;
  /** 2 for an f16 gradients' buffer (bound as array<f16>), else 4. */
  elementBytes: 4 | 2;
}

export interface OptimizerPlan {
  /** Each view's element offset in the moment buffers (each view starts on a vec4). */
  stateOffsets: number[];
  /** Elements in each moment buffer. */
  stateElements: number;
  /** Per dispatch: its table words, its windows in binding-slot order and its quads. */
  dispatches: OptimizerDispatch[];
}

export interface OptimizerDispatch {
  table: Uint32Array<ArrayBuffer>;
  windows: OptimizerWindow[];
  /** Quads (four elements of one view) in the dispatch. */
  lanes: number;
  /**
   * The gradient and parameter window slots when every view of the dispatch has the same two (an
   * arena's case): the update kernel is specialised for them and switches on no slot; else null.
   */
  slots: readonly [number, number] | null;
  /** The slots [from, to) of f16 windows (gradients' buffers), which come after the f32 ones. */
  halfSlots: readonly [number, number];
}

export interface OptimizerLimits {
  offsetAlignment: number;
  maxBindingBytes: number;
  windowsPerDispatch: number;
}

export function planOptimizer(
  grads: readonly ResolvedView[],
  params: readonly ResolvedView[],
  limits: OptimizerLimits,
): OptimizerPlan {
  // Each view's state starts on a vec4 (optimizer_update.wgsl takes four elements a lane).
  const quads = grads.map((v) => Math.ceil(v.length / 4));
  const stateElements = 4 * quads.reduce((n, q) => n + q, 0);
  if (stateElements * 4 > limits.maxBindingBytes) {
    throw new GradclipError(
      'out-of-range',
      `the optimizer state needs ${stateElements * 4} bytes per moment, above maxStorageBufferBindingSize (${limits.maxBindingBytes})`,
    );
  }
  const stateOffsets: number[] = [];
  let at = 0;
  for (const q of quads) {
    stateOffsets.push(at);
    at += 4 * q;
  }
  const windows = bufferWindows([...grads, ...params], limits);
  const windowsOf = (i: number) => [windows.get(grads[i].buffer)!, windows.get(params[i].buffer)!];
  const dispatches = packDispatches(grads, windowsOf, limits.windowsPerDispatch).map((members) =>
    encodeDispatch(members, grads, params, windows, stateOffsets, quads),
  );
  return { stateOffsets, stateElements, dispatches };
}

/**
 * One window per buffer over every gradient and parameter view in it (read-write, so a buffer
 * holding both is bound once and nothing aliases).
 */
function bufferWindows(views: readonly ResolvedView[], limits: OptimizerLimits): Map<GPUBuffer, OptimizerWindow> {
  const extent = new Map<GPUBuffer, { lo: number; hi: number; elementBytes: 4 | 2 }>();
  for (const v of views) {
    const end = v.offsetBytes + v.length * v.elementBytes;
    const e = extent.get(v.buffer) ?? { lo: v.offsetBytes, hi: end, elementBytes: v.elementBytes };
    e.lo = Math.min(e.lo, v.offsetBytes);
    e.hi = Math.max(e.hi, end);
    extent.set(v.buffer, e);
  }
  const windows = new Map<GPUBuffer, OptimizerWindow>();
  for (const [buffer, { lo, hi, elementBytes }] of extent) {
    const offsetBytes = Math.floor(lo / limits.offsetAlignment) * limits.offsetAlignment;
    // A binding's size is a whole number of 4-byte words (an f16 view may end mid-word; buffers never do).
    const sizeBytes = Math.max(4, Math.ceil((hi - offsetBytes) / 4) * 4);
    if (sizeBytes > limits.maxBindingBytes) {
      throw new GradclipError(
        'out-of-range',
        `the optimizer binds each buffer once: ${sizeBytes} bytes of "${buffer.label}" exceed maxStorageBufferBindingSize (${limits.maxBindingBytes})`,
      );
    }
    windows.set(buffer, { buffer, offsetBytes, sizeBytes, elementBytes });
  }
  return windows;
}

/** Views (indices) packed into dispatches of at most `perDispatch` distinct windows; empty views skipped. */
function packDispatches(
  grads: readonly ResolvedView[],
  windowsOf: (i: number) => OptimizerWindow[],
  perDispatch: number,
): number[][] {
  const dispatches: number[][] = [];
  let current: number[] = [];
  let used = new Set<OptimizerWindow>();
  grads.forEach((view, i) => {
    if (view.length === 0) return;
    const needed = windowsOf(i);
    const after = new Set([...used, ...needed]);
    if (after.size > perDispatch && current.length > 0) {
      dispatches.push(current);
      current = [];
      used = new Set(needed);
    } else {
      used = after;
    }
    current.push(i);
  });
  if (current.length) dispatches.push(current);
  return dispatches;
}

/** A dispatch's table: a header (views, lanes), then per view its two windows and offsets, then its state offset, length and first lane. */
function encodeDispatch(
  members: number[],
  grads: readonly ResolvedView[],
  params: readonly ResolvedView[],
  windows: Map<GPUBuffer, OptimizerWindow>,
  stateOffsets: readonly number[],
  quads: readonly number[],
): OptimizerDispatch {
  // The dispatch's windows in slot order: f32 first, then f16 (one contiguous range, as the kernel's slots expect).
  const used = [...new Set(members.flatMap((i) => [windows.get(grads[i].buffer)!, windows.get(params[i].buffer)!]))];
  const slots = [...used.filter((w) => w.elementBytes === 4), ...used.filter((w) => w.elementBytes === 2)];
  const slotOf = (w: OptimizerWindow) => slots.indexOf(w);
  const table = new Uint32Array(4 + 8 * members.length);
  let lanes = 0;
  const pairs = new Set<string>();
  members.forEach((i, k) => {
    const [g, p] = [grads[i], params[i]];
    const [gw, pw] = [windows.get(g.buffer)!, windows.get(p.buffer)!];
    const [gradSlot, paramSlot] = [slotOf(gw), slotOf(pw)];
    pairs.add(`${gradSlot},${paramSlot}`);
    table.set(
      [gradSlot, (g.offsetBytes - gw.offsetBytes) / g.elementBytes, paramSlot, (p.offsetBytes - pw.offsetBytes) / 4],
      4 + 4 * k,
    );
    table.set([stateOffsets[i] / 4, g.length, lanes, 0], 4 + 4 * (members.length + k));
    lanes += quads[i];
  });
  table.set([members.length, lanes, 0, 0], 0);
  const single = pairs.size === 1 ? ([table[4], table[6]] as const) : null;
  const halfFrom = slots.findIndex((w) => w.elementBytes === 2);
  const halfSlots = halfFrom < 0 ? ([0, 0] as const) : ([halfFrom, slots.length] as const);
  return { table, windows: slots, lanes, slots: single, halfSlots };
}
