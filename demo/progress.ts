// Progress lines for the demo CLIs: where a run is and, at the pace so far, how long the rest takes.

/** "45 s", "3 min 05 s", "1 h 12 min". */
export function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${String(seconds % 60).padStart(2, '0')} s`;
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, '0')} min`;
}

/**
 * Time left for `total` steps at the pace so far: until the second report, of all the time since the
 * clock started (set-up included), then of the steps since the first report alone.
 */
export class StepClock {
  private readonly start: number;
  private first: { at: number; done: number } | null = null;

  constructor(
    private readonly total: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.start = now();
  }

  /** The time since the clock started: "3 min 05 s". */
  elapsed(): string {
    return formatDuration(this.now() - this.start);
  }

  /** "step 40/100 · 1 min 12 s so far, about 1 min 48 s left". */
  line(done: number): string {
    const now = this.now();
    const elapsed = now - this.start;
    let pace = done > 0 ? elapsed / done : NaN;
    if (this.first && done > this.first.done) pace = (now - this.first.at) / (done - this.first.done);
    else if (!this.first && done > 0) this.first = { at: now, done };
    const left = pace * (this.total - done);
    const estimate = Number.isFinite(left) ? `about ${formatDuration(left)} left` : 'estimating the time left';
    return `step ${done}/${this.total} · ${formatDuration(elapsed)} so far, ${estimate}`;
  }
}
