/** Stable machine-readable reason carried by every {@link GradclipError}. */
export type GradclipErrorCode =
  | 'invalid-argument'
  | 'out-of-range'
  | 'nonfinite-norm'
  | 'device-lost'
  | 'destroyed'
  | 'stale-handle'
  | 'invalid-buffer'
  | 'unsupported';

/**
 * Every error gradclip throws or rejects with; `code` is stable across versions.
 *
 * @example
 * try {
 *   await clipper.clipGradNorm(grads, 1, { errorIfNonfinite: true }).read();
 * } catch (error) {
 *   if (error instanceof GradclipError && error.code === 'nonfinite-norm') skipThisStep();
 * }
 */
export class GradclipError extends Error {
  readonly code: GradclipErrorCode;

  /** `options.cause`: the underlying error (an adapter or device request that failed, say). */
  constructor(code: GradclipErrorCode, message: string, options?: { cause?: unknown }) {
    super(`gradclip: ${message}`, options);
    this.name = 'GradclipError';
    this.code = code;
  }
}
