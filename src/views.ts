import { GradclipError } from './errors';
import { BufferUsage } from './gpu-constants';
import type { GradView } from './types';


/** A GPU view with everything explicit: `offsetBytes` in bytes, `length` in float32 elements. */
export interface ResolvedView {
  buffer: GPUBuffer;
  offsetBytes: number;
  length: number;
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

function throwOverlap(name: string, a: number, b: number, aStart: number, aEnd: number, bStart: number): never {
  throw new GradclipError(
    'invalid-argument',
    `views[${b}] overlaps views[${a}] in the same ${name}: views[${a}] covers bytes [${aStart}, ${aEnd}) and views[${b}] starts at byte ${bStart}`,
  );
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
    return { buffer, offsetBytes, length };
  });

  const byBuffer = new Map<GPUBuffer, number[]>();
  resolved.forEach((v, i) => {
    if (v.length === 0) return;
    const list = byBuffer.get(v.buffer) ?? [];
    list.push(i);
    byBuffer.set(v.buffer, list);
  });
  for (const indices of byBuffer.values()) {
    indices.sort((a, b) => resolved[a].offsetBytes - resolved[b].offsetBytes);
    for (let k = 1; k < indices.length; k++) {
      const prev = resolved[indices[k - 1]];
      const cur = resolved[indices[k]];
      const prevEnd = prev.offsetBytes + prev.length * 4;
      if (cur.offsetBytes < prevEnd) {
        throwOverlap('buffer', indices[k - 1], indices[k], prev.offsetBytes, prevEnd, cur.offsetBytes);
      }
    }
  }
  return resolved;
}

/** Validates the views of a CPU set: Float32Arrays that do not overlap in memory. */
export function resolveCpuViews(views: readonly GradView[]): Float32Array[] {
  checkViewList(views);
  const arrays = views.map((view, i) => {
    if (!(view instanceof Float32Array)) {
      throw new GradclipError(
        'invalid-argument',
        `views[${i}] is not a Float32Array; the CPU backend takes Float32Array views${isGpuBuffer(view) || (typeof view === 'object' && view !== null && 'buffer' in view && isGpuBuffer(view.buffer)) ? ', not GPU buffers' : ''}`,
      );
    }
    return view;
  });
  const byStorage = new Map<ArrayBufferLike, number[]>();
  arrays.forEach((a, i) => {
    if (a.length === 0) return;
    const list = byStorage.get(a.buffer) ?? [];
    list.push(i);
    byStorage.set(a.buffer, list);
  });
  for (const indices of byStorage.values()) {
    indices.sort((a, b) => arrays[a].byteOffset - arrays[b].byteOffset);
    for (let k = 1; k < indices.length; k++) {
      const prev = arrays[indices[k - 1]];
      const cur = arrays[indices[k]];
      if (cur.byteOffset < prev.byteOffset + prev.byteLength) {
        throwOverlap('ArrayBuffer', indices[k - 1], indices[k], prev.byteOffset, prev.byteOffset + prev.byteLength, cur.byteOffset);
      }
    }
  }
  return arrays;
}
