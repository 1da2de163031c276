import { GradclipError } from '../core/errors';
import { BufferUsage } from '../core/webgpu-constants';
import { OPTION_KEYS, readOptions } from '../core/options';
import type { GradDtype, GradView } from '../core/types';
import { checkDevice } from '../plan/validate';

/** Each arena view starts at a multiple of this many bytes, so vector loads of a view stay aligned. */
export const ARENA_ALIGNMENT_BYTES = 16;

/**
 * Packs tensors of the given element counts into one new buffer (STORAGE | COPY_SRC | COPY_DST),
 * each view starting 16-byte aligned, so a whole model's gradients clip in the fewest dispatches.
 * `options.dtype: 'f16'` packs half floats (the views say so; clipping them needs `shader-f16`).
 * The caller owns the buffer (and destroys it).
 *
 * @example
 * const { buffer, views } = createGradientArena(device, [4096, 64, 10]); // element counts
 * const grads = clipper.gradients(views); // one dispatch group for the whole model
 */
export function createGradientArena(
  device: GPUDevice,
  lengths: number[],
  arenaOptions?: { dtype?: GradDtype } | null,
): { buffer: GPUBuffer; views: GradView[] } {
  checkDevice(device);
  const options = readOptions(arenaOptions, OPTION_KEYS.arena, 'options');
  const dtype = options.dtype ?? 'f32';
  if (dtype !== 'f32' && dtype !== 'f16') {
    throw new GradclipError(
      'invalid-argument',
      `options.dtype must be 'f32' or 'f16', got ${JSON.stringify(options.dtype)}`,
    );
  }
  const elementBytes = dtype === 'f16' ? 2 : 4;
  if (!Array.isArray(lengths) || lengths.length === 0) {
    throw new GradclipError('invalid-argument', 'lengths must be a non-empty array of element counts');
  }
  const views: Array<{ offset: number; length: number }> = [];
  let offset = 0;
  lengths.forEach((length, i) => {
    if (!Number.isInteger(length) || length < 0) {
      throw new GradclipError('invalid-argument', `lengths[${i}] must be a non-negative integer, got ${length}`);
    }
    views.push({ offset, length });
    offset += Math.ceil((length * elementBytes) / ARENA_ALIGNMENT_BYTES) * ARENA_ALIGNMENT_BYTES;
  });
  const size = Math.max(ARENA_ALIGNMENT_BYTES, offset);
  if (size > device.limits.maxBufferSize) {
    throw new GradclipError(
      'out-of-range',
      `the arena needs ${size} bytes, above this device's maxBufferSize of ${device.limits.maxBufferSize} bytes`,
    );
  }
  const buffer = device.createBuffer({
    label: `gradclip ${dtype === 'f16' ? 'f16 ' : ''}arena (${lengths.length} tensors)`,
    size,
    usage: BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST,
  });
  return {
    buffer,
    views: views.map((v) =>
      dtype === 'f16'
        ? { buffer, offset: v.offset, length: v.length, dtype }
        : { buffer, offset: v.offset, length: v.length },
    ),
  };
}
