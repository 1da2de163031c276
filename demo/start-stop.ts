// The demo pages' Start and Stop buttons: while a run trains, Start is disabled and Stop asks the
// run to end after its current step (the run polls `stopped`).

export class StartStop {
  private requested = false;

  constructor(
    private readonly start: HTMLButtonElement,
    private readonly stop: HTMLButtonElement,
  ) {
    stop.addEventListener('click', () => {
      this.requested = true;
    });
  }

  /**
   * Runs `train` with the buttons set for a run, and restores them when it ends. Its `stopped()`
   * turns true once Stop is pressed or the caller's own `also()` does.
   */
  async during<T>(also: (() => boolean) | undefined, train: (stopped: () => boolean) => Promise<T>): Promise<T> {
    this.requested = false;
    this.start.disabled = true;
    this.stop.disabled = false;
    try {
      return await train(() => this.requested || !!also?.());
    } finally {
      this.start.disabled = false;
      this.stop.disabled = true;
    }
  }
}
