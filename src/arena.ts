import { GradclipError } from './errors';
import { BufferUsage } from './gpu-constants';
import type { GradView } from './types';

/** Each arena view starts at a multiple of this many bytes, so vector loads of a view stay aligned. */
export const ARENA_ALIGNMENT_BYTES = 16;

/**
 * Packs tensors of the given element counts into one new buffer (STORAGE | COPY_SRC | COPY_DST),
 * each view starting 16-byte aligned, so a whole model's gradients clip in the fewest dispatches.
 * The caller owns the buffer (and destroys it).
 */
export function createGradientArena(device: GPUDevice, lengths: number[]): { buffer: GPUBuffer; views: GradView[] } {
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
    offset += Math.ceil((length * 4) / ARENA_ALIGNMENT_BYTES) * ARENA_ALIGNMENT_BYTES;
  });
  const size = Math.max(ARENA_ALIGNMENT_BYTES, offset);
  if (size > device.limits.maxBufferSize) {
    throw new GradclipError(
      'out-of-range',
      `the arena needs ${size} bytes, above this device's maxBufferSize of ${device.limits.maxBufferSize} bytes`,
    );
  }
  const buffer = device.createBuffer({
    label: `gradclip arena (${lengths.length} tensors)`,
    size,
    usage: BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST,
  });
  return { buffer, views: views.map((v) => ({ buffer, offset: v.offset, length: v.length })) };
}
