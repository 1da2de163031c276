// The GradclipError a call throws, for tests that check its code and message.
import { expect } from 'vitest';
import { GradclipError } from 'gradclip';

/** Runs `call` and returns the GradclipError it throws (failing when it throws anything else or nothing). */
export function thrown(call: () => unknown): GradclipError {
  try {
    call();
  } catch (error) {
    expect(error).toBeInstanceOf(GradclipError);
    return error as GradclipError;
  }
  throw new Error('expected a GradclipError');
}
