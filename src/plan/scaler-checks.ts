// What a GradScaler checks on the host, on either backend (PyTorch raises the same): a set is not
// unscaled twice before update(), and update() follows at least one inf check (an unscale, a
// scaled clip or norm, a scaled optimizer step). Counted per update() generation.
import { GradclipError } from '../core/errors';

export class ScalerChecks<S extends object> {
  /** Counts update() (and loadState) calls: a set is unscaled in the generation it was last unscaled in. */
  private generation = 0;
  private readonly unscaledIn = new WeakMap<S, number>();
  private checks = 0;

  /** Whether `set` was unscaled (by unscale or a scaled clip) since the last update(). */
  unscaledSinceUpdate(set: S): boolean {
    return this.unscaledIn.get(set) === this.generation;
  }

  /**
   * Notes a scaled call on `set` (recorded right after): an inf check, and, when it unscales the
   * set, the set as unscaled. Throws 'invalid-argument' for a second unscale before update().
   */
  note(set: S, unscales: boolean, what: string): void {
    if (unscales && this.unscaledSinceUpdate(set)) {
      throw new GradclipError(
        'invalid-argument',
        `${what}: this set was already unscaled since the GradScaler's last update() (PyTorch raises the same); ` +
          'call update() first, or leave out the scaler',
      );
    }
    this.checks++;
    if (unscales) this.unscaledIn.set(set, this.generation);
  }

  /** Throws 'invalid-argument' unless an inf check was noted since the last update(). */
  requireCheck(): void {
    if (this.checks === 0) {
      throw new GradclipError(
        'invalid-argument',
        'update(): no unscale, scaled clip or scaled optimizer step was recorded since the last update() (PyTorch: "No inf checks were recorded prior to update.")',
      );
    }
  }

  /** A new generation: update() was recorded, or a state loaded. */
  reset(): void {
    this.generation++;
    this.checks = 0;
  }
}
