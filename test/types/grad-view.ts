/// <reference lib="esnext.float16" />
// Type tests, checked by `tsc --noEmit` in `npm test` (nothing here runs): what TypeScript accepts
// as a GradView. An unused `@ts-expect-error` is itself an error, so each line below fails the
// type check if the type it guards is loosened again (Float16ArrayLike once matched every typed
// array by shape).
import type { ClipperOptions, GradView, NormOptions } from 'gradclip';

declare const buffer: GPUBuffer;
declare const half: Float16Array;

export const accepted: GradView[] = [
  new Float32Array(4),
  half,
  buffer,
  { buffer, offset: 0, length: 4 },
  { buffer, offset: 0, length: 4, dtype: 'f16' },
  { data: new Float32Array(4), shape: [2, 2] },
];

// @ts-expect-error a Float64Array is not a gradient view (convert with Float32Array.from)
export const float64: GradView = new Float64Array(4);
// @ts-expect-error an Int32Array is not a gradient view
export const int32: GradView = new Int32Array(4);
// @ts-expect-error a Uint8Array is not a gradient view
export const uint8: GradView = new Uint8Array(4);
// @ts-expect-error a plain array is not a gradient view
export const plain: GradView = [1, 2, 3];
// @ts-expect-error dtype is 'f32' or 'f16'
export const bf16: GradView = { buffer, offset: 0, length: 4, dtype: 'bf16' };

export const inf: NormOptions = { normType: 'inf' };
// @ts-expect-error normType is a number or 'inf'
export const infinity: NormOptions = { normType: 'infinity' };
// @ts-expect-error PyTorch's spelling is not an option (it also throws at run time)
export const snake: NormOptions = { error_if_nonfinite: true };
export const backends: ClipperOptions[] = [
  { backend: 'webgpu' },
  { backend: 'cpu' },
  { backend: 'auto' },
  { forceCpu: true },
];
// @ts-expect-error backend is 'auto', 'webgpu' or 'cpu'
export const gpu: ClipperOptions = { backend: 'gpu' };
