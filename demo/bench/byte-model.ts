// What each operation must move, per float32 element, against a copy (read 4 B + write 4 B).
// Clipping by norm: read once for the norm, then read and write to scale: 12 B, 1.5 copies.
// Not clipping: only the norm's read: 4 B, half a copy. Clipping by value: read + write: 1 copy.

export type Operation = 'clip-norm' | 'no-clip-norm' | 'clip-value';

export const COPY_BYTES_PER_ELEMENT = 8;

export function bytesPerElement(operation: Operation): number {
  switch (operation) {
    case 'clip-norm':
      return 12;
    case 'no-clip-norm':
      return 4;
    case 'clip-value':
      return 8;
  }
}

/** The best possible time of `operation` as a multiple of a copy of the same elements. */
export function idealCopyRatio(operation: Operation): number {
  return bytesPerElement(operation) / COPY_BYTES_PER_ELEMENT;
}

/** Effective bandwidth in GB/s of `elements` processed by `operation` in `ms`. */
export function gigabytesPerSecond(operation: Operation, elements: number, ms: number): number {
  return (bytesPerElement(operation) * elements) / (ms * 1e6);
}
