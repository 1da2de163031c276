import { GradclipError } from './errors';
import { BufferUsage } from './gpu-constants';
import type { GradView, UnitShape } from './types';

/** A GPU view with everything explicit: `offsetBytes` in bytes, `length` in float32 elements. */
export interface ResolvedView {
  buffer: GPUBuffer;
  offsetBytes: number;
  length: number;
  /** Rows × cols when the view carries a shape (units of adaptive gradient clipping). */
  shape?: UnitShape;
}

/** A CPU view: its array and, when given, its shape. */
export interface CpuView {
  array: Float32Array;
  shape?: UnitShape;
}

/** The view's `shape` when it has one, checked against its length. */
function readShape(view: unknown, i: number, length: number): UnitShape | undefined {
  const shape = (view as { shape?: unknown }).shape;
  if (shape === undefined) return undefined;
  if (!Array.isArray(shape) || shape.length !== 2 || !shape.every((n) => Number.isInteger(n) && n >= 0)) {
    throw new GradclipError('invalid-argument', `views[${i}].shape must be [rows, cols] of non-negative integers, got ${JSON.stringify(shape)}`);
  }
  if (shape[0] * shape[1] !== length) {
    throw new GradclipError(
      'invalid-argument',
      `views[${i}].shape [${shape[0]}, ${shape[1]}] holds ${shape[0] * shape[1]} elements but the view's length is ${length}`,
    );
  }
  return [shape[0], shape[1]];
}

function isGpuBuffer(value: unknown): value is GPUBuffer {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as GPUBuffer).size === 'number' &&
    typeof (value as GPUBuffer).usage === 'number' &&
    typeof (value as GPUBuffer).mapAsync === 'function'
  );
}

function checkViewList(views: unknown): asserts views is unknown[] {
  if (!Array.isArray(views) || views.length === 0) {
    throw new GradclipError('invalid-argument', 'views must be a non-empty array of gradient views');
  }
}

/** A view's memory: which storage it lives in and its byte range. */
interface Extent {
  storage: unknown;
  start: number;
  end: number;
}

/** Throws if two non-empty extents in the same storage overlap, naming both views. */
function checkNoOverlap(extents: readonly Extent[], storageName: string): void {
  const byStorage = new Map<unknown, number[]>();
  extents.forEach((e, i) => {
    if (e.end === e.start) return;
    const list = byStorage.get(e.storage) ?? [];
    list.push(i);
    byStorage.set(e.storage, list);
  });
  for (const indices of byStorage.values()) {
    indices.sort((a, b) => extents[a].start - extents[b].start);
    for (let k = 1; k < indices.length; k++) {
      const [a, b] = [indices[k - 1], indices[k]];
      if (extents[b].start < extents[a].end) {
        throw new GradclipError(
          'invalid-argument',
          `views[${b}] overlaps views[${a}] in the same ${storageName}: views[${a}] covers bytes [${extents[a].start}, ${extents[a].end}) and views[${b}] starts at byte ${extents[b].start}`,
        );
      }
    }
  }
}

/** Validates the views of a WebGPU set (before any GPU work) and resolves each to buffer/offset/length. */
export function resolveGpuViews(views: readonly GradView[]): ResolvedView[] {
  checkViewList(views);
  const resolved = views.map((view, i): ResolvedView => {
    if (view instanceof Float32Array) {
      throw new GradclipError(
        'invalid-argument',
        `views[${i}] is a Float32Array; the WebGPU backend takes GPUBuffer views (use createClipper({ forceCpu: true }) for arrays)`,
      );
    }
    let buffer: GPUBuffer;
    let offsetBytes: number;
    let length: number;
    if (isGpuBuffer(view)) {
      if (view.size % 4 !== 0) {
        throw new GradclipError('invalid-argument', `views[${i}] is a whole buffer of ${view.size} bytes; its size must be a multiple of 4`);
      }
      buffer = view;
      offsetBytes = 0;
      length = view.size / 4;
    } else if (typeof view === 'object' && view !== null && isGpuBuffer((view as { buffer: unknown }).buffer)) {
      ({ buffer, offset: offsetBytes, length } = view as { buffer: GPUBuffer; offset: number; length: number });
      if (!Number.isInteger(offsetBytes) || offsetBytes < 0 || offsetBytes % 4 !== 0) {
        throw new GradclipError('invalid-argument', `views[${i}].offset must be a non-negative multiple of 4 bytes, got ${offsetBytes}`);
      }
      if (!Number.isInteger(length) || length < 0) {
        throw new GradclipError('invalid-argument', `views[${i}].length must be a non-negative integer count of float32 elements, got ${length}`);
      }
      if (offsetBytes + length * 4 > buffer.size) {
        throw new GradclipError(
          'out-of-range',
          `views[${i}] ends at byte ${offsetBytes + length * 4}, past the end of its ${buffer.size}-byte buffer`,
        );
      }
    } else {
      throw new GradclipError('invalid-argument', `views[${i}] must be a GPUBuffer or { buffer, offset, length }`);
    }
    if ((buffer.usage & BufferUsage.STORAGE) === 0) {
      throw new GradclipError('invalid-argument', `views[${i}]'s buffer${buffer.label ? ` "${buffer.label}"` : ''} lacks GPUBufferUsage.STORAGE`);
    }
    return { buffer, offsetBytes, length, shape: readShape(view, i, length) };
  });

  checkNoOverlap(
    resolved.map((v) => ({ storage: v.buffer, start: v.offsetBytes, end: v.offsetBytes + v.length * 4 })),
    'buffer',
  );
  return resolved;
}

/** Validates the views of a CPU set: Float32Arrays (or `{ data, shape }`) that do not overlap in memory. */
export function resolveCpuViews(views: readonly GradView[]): CpuView[] {
  checkViewList(views);
  const resolved = views.map((view, i): CpuView => {
    const array = typeof view === 'object' && view !== null && 'data' in view ? view.data : view;
    if (!(array instanceof Float32Array)) {
      throw new GradclipError(
        'invalid-argument',
        `views[${i}] is not a Float32Array; the CPU backend takes Float32Array views${isGpuBuffer(view) || (typeof view === 'object' && view !== null && 'buffer' in view && isGpuBuffer(view.buffer)) ? ', not GPU buffers' : ''}`,
      );
    }
    return { array, shape: readShape(view, i, array.length) };
  });
  checkNoOverlap(
    resolved.map(({ array: a }) => ({ storage: a.buffer, start: a.byteOffset, end: a.byteOffset + a.byteLength })),
    'ArrayBuffer',
  );
  return resolved;
}
