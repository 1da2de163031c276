import { GradclipError } from '../core/errors';
import { BufferUsage } from '../core/webgpu-constants';
import type { Float16ArrayLike, GradDtype, GradView, UnitShape } from '../core/types';

/** A GPU view with everything explicit: `offsetBytes` in bytes, `length` in elements of `elementBytes` each. */
export interface ResolvedView {
  buffer: GPUBuffer;
  offsetBytes: number;
  length: number;
  /** 4 for f32, 2 for f16. */
  elementBytes: 4 | 2;
  /** Rows × cols when the view carries a shape (units of adaptive gradient clipping). */
  shape?: UnitShape;
}

/** An array the CPU backend clips in place: float32, or float16 where the runtime has Float16Array. */
export type GradArray = Float32Array | Float16ArrayLike;

/** A CPU view: its array and, when given, its shape. */
export interface CpuView {
  array: GradArray;
  shape?: UnitShape;
}

/** The runtime's Float16Array constructor (ES2025: Deno, recent browsers; not Node 20), if any. */
function float16ArrayClass(): (new (length: number) => Float16ArrayLike) | undefined {
  return (globalThis as { Float16Array?: new (length: number) => Float16ArrayLike }).Float16Array;
}

export function isFloat16Array(value: unknown): value is Float16ArrayLike {
  const Float16 = float16ArrayClass();
  return Float16 !== undefined && value instanceof Float16;
}

/** The bytes of one element of a dtype, or an error naming the view. */
function elementBytesOf(dtype: unknown, i: number, halfSupported: boolean): 4 | 2 {
  if (dtype === undefined || dtype === 'f32') return 4;
  if (dtype !== 'f16') {
    throw new GradclipError(
      'invalid-argument',
      `views[${i}].dtype must be 'f32' or 'f16', got ${JSON.stringify(dtype)}`,
    );
  }
  if (!halfSupported) {
    throw new GradclipError(
      'unsupported',
      `views[${i}].dtype is 'f16', which needs the device feature 'shader-f16'; this device lacks it (request it with requestDevice({ requiredFeatures: ['shader-f16'] }) where the adapter offers it)`,
    );
  }
  return 2;
}

/** Names of the element types, for messages. */
const DTYPE_NAME: Record<4 | 2, GradDtype> = { 4: 'f32', 2: 'f16' };

/** The view's `shape` when it has one, checked against its length. */
function readShape(view: unknown, i: number, length: number): UnitShape | undefined {
  const shape = (view as { shape?: unknown }).shape;
  if (shape === undefined) return undefined;
  if (!Array.isArray(shape) || shape.length !== 2 || !shape.every((n) => Number.isInteger(n) && n >= 0)) {
    throw new GradclipError(
      'invalid-argument',
      `views[${i}].shape must be [rows, cols] of non-negative integers, got ${JSON.stringify(shape)}`,
    );
  }
  if (shape[0] * shape[1] !== length) {
    throw new GradclipError(
      'invalid-argument',
      `views[${i}].shape [${shape[0]}, ${shape[1]}] holds ${shape[0] * shape[1]} elements but the view's length is ${length}`,
    );
  }
  return [shape[0], shape[1]];
}

/** What a value is, for messages: 'a Float64Array', 'an Array', 'a number', 'null'. */
function kindOf(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  const name = typeof value === 'object' ? (value as object).constructor?.name || 'object' : typeof value;
  return `${/^[aeio]/i.test(name) ? 'an' : 'a'} ${name}`;
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

/**
 * Validates the views of a WebGPU set (before any GPU work) and resolves each to
 * buffer/offset/length/element size. `halfSupported`: the device has `shader-f16`.
 */
export function resolveGpuViews(views: readonly GradView[], halfSupported: boolean): ResolvedView[] {
  checkViewList(views);
  const resolved = views.map((view, i): ResolvedView => {
    if (view instanceof Float32Array || isFloat16Array(view)) {
      throw new GradclipError(
        'invalid-argument',
        `views[${i}] is a ${view instanceof Float32Array ? 'Float32Array' : 'Float16Array'}; the WebGPU backend takes GPUBuffer views (use createClipper({ forceCpu: true }) for arrays)`,
      );
    }
    let buffer: GPUBuffer;
    let offsetBytes: number;
    let length: number;
    let elementBytes: 4 | 2 = 4;
    if (isGpuBuffer(view)) {
      if (view.size % 4 !== 0) {
        throw new GradclipError(
          'invalid-argument',
          `views[${i}] is a whole buffer of ${view.size} bytes; its size must be a multiple of 4`,
        );
      }
      buffer = view;
      offsetBytes = 0;
      length = view.size / 4;
    } else if (typeof view === 'object' && view !== null && isGpuBuffer((view as { buffer: unknown }).buffer)) {
      ({ buffer, offset: offsetBytes, length } = view as { buffer: GPUBuffer; offset: number; length: number });
      elementBytes = elementBytesOf((view as { dtype?: unknown }).dtype, i, halfSupported);
      const half = elementBytes === 2;
      if (!Number.isInteger(offsetBytes) || offsetBytes < 0 || offsetBytes % elementBytes !== 0) {
        throw new GradclipError(
          'invalid-argument',
          `views[${i}].offset must be a non-negative multiple of ${elementBytes} bytes${half ? ' (f16)' : ''}, got ${offsetBytes}`,
        );
      }
      if (!Number.isInteger(length) || length < 0) {
        throw new GradclipError(
          'invalid-argument',
          `views[${i}].length must be a non-negative integer count of ${half ? 'f16' : 'float32'} elements, got ${length}`,
        );
      }
      const end = offsetBytes + length * elementBytes;
      if (end > buffer.size) {
        throw new GradclipError(
          'out-of-range',
          `views[${i}] ends at byte ${end}, past the end of its ${buffer.size}-byte buffer`,
        );
      }
      // WebGPU binds storage in whole 4-byte words: an f16 view's last word must lie in the buffer.
      if (length > 0 && Math.ceil(end / 4) * 4 > buffer.size) {
        throw new GradclipError(
          'out-of-range',
          `views[${i}] ends at byte ${end} of a ${buffer.size}-byte buffer: WebGPU binds storage in 4-byte words, so an f16 view must end inside the buffer's last whole word (make the buffer size a multiple of 4)`,
        );
      }
    } else {
      throw new GradclipError('invalid-argument', `views[${i}] must be a GPUBuffer or { buffer, offset, length }`);
    }
    if ((buffer.usage & BufferUsage.STORAGE) === 0) {
      throw new GradclipError(
        'invalid-argument',
        `views[${i}]'s buffer${buffer.label ? ` "${buffer.label}"` : ''} lacks GPUBufferUsage.STORAGE`,
      );
    }
    return { buffer, offsetBytes, length, elementBytes, shape: readShape(view, i, length) };
  });

  checkNoOverlap(
    resolved.map((v) => ({ storage: v.buffer, start: v.offsetBytes, end: v.offsetBytes + v.length * v.elementBytes })),
    'buffer',
  );
  checkOneDtypePerBuffer(resolved);
  return resolved;
}

/**
 * Bindings start at aligned offsets, so an f16 and an f32 window of one buffer could overlap, and
 * WebGPU forbids two writable bindings of one range in a dispatch: one dtype per buffer.
 */
function checkOneDtypePerBuffer(views: readonly ResolvedView[]): void {
  const first = new Map<GPUBuffer, number>();
  views.forEach((v, i) => {
    const j = first.get(v.buffer);
    if (j === undefined) first.set(v.buffer, i);
    else if (views[j].elementBytes !== v.elementBytes) {
      throw new GradclipError(
        'invalid-argument',
        `views[${i}] is ${DTYPE_NAME[v.elementBytes]} but its buffer also holds views[${j}], which is ${DTYPE_NAME[views[j].elementBytes]}: keep f16 and f32 gradients in separate buffers`,
      );
    }
  });
}

/** Validates the views of a CPU set: Float32Arrays or Float16Arrays (or `{ data, shape }`) that do not overlap in memory. */
export function resolveCpuViews(views: readonly GradView[]): CpuView[] {
  checkViewList(views);
  const resolved = views.map((view, i): CpuView => {
    const array = typeof view === 'object' && view !== null && 'data' in view ? view.data : view;
    if (!(array instanceof Float32Array) && !isFloat16Array(array)) {
      const gpuView =
        isGpuBuffer(view) ||
        (typeof view === 'object' && view !== null && 'buffer' in view && isGpuBuffer(view.buffer));
      const accepted = float16ArrayClass()
        ? 'Float32Array or Float16Array'
        : 'Float32Array (this runtime has no Float16Array, so f16 gradients are not supported on its CPU path)';
      const fix = gpuView
        ? 'create the clipper on a GPUDevice to clip GPU buffers'
        : 'convert a copy with Float32Array.from(values) and clip that';
      throw new GradclipError(
        'invalid-argument',
        `views[${i}] is ${gpuView ? 'a GPU buffer' : kindOf(array)}; the CPU backend takes ${accepted} views (${fix})`,
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

/** Throws 'unsupported' naming the first f16 view (`isHalf[i]`): `what` runs on f32 gradients only. */
export function checkNoHalfViews(isHalf: readonly boolean[], what: string): void {
  const i = isHalf.indexOf(true);
  if (i >= 0) {
    throw new GradclipError(
      'unsupported',
      `${what} takes f32 gradients only, and views[${i}] of the set is f16 (clip f16 sets with the norm, value, per-tensor and AGC modes)`,
    );
  }
}
