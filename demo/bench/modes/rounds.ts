// Timing the mode lines in rounds: every line takes one step a round, so a line and its baseline
// are timed minutes apart never, seconds apart at most. The machine's load and clocks drift over a
// run (a shared 2-core machine swings 2× in a minute); a ratio of two lines timed one after the
// other carried that drift, a ratio taken within each round and then its median does not.
import { moreSamples, type Limits } from '../budget';
import { percentile } from '../stats';

/** A line in the rounds: one timed step, and the lines whose ratios need its times. */
export interface RoundLine {
  name: string;
  /** Names of the lines this one is divided by (its baseline, the copy kernel for a roofline). */
  divisors: readonly string[];
  step(): Promise<{ wallMs: number; gpuMs?: number }>;
}

/** Per line, its times by round (undefined in a round it sat out), or the error that stopped it. */
export interface RoundTimes {
  wall: Array<number | undefined>;
  gpu: Array<number | undefined>;
  error?: unknown;
}

/**
 * Times the lines in rounds, alternating their order (forward, then backward) so none always runs
 * right after the same neighbour. A line takes steps while it wants more under the limits (as a
 * method does: MIN_SAMPLES, then until its own budget is spent or `reps`), and a divisor keeps
 * taking them while any line divided by it does, so every step of a line has its divisor's step
 * of the same round beside it.
 */
export async function timeInRounds(
  lines: readonly RoundLine[],
  limits: Limits,
  onRound: (round: number) => void = () => {},
): Promise<Map<string, RoundTimes>> {
  const times = new Map(lines.map((l) => [l.name, { wall: [], gpu: [] } as RoundTimes]));
  const progress = new Map(lines.map((l) => [l.name, { steps: 0, spentMs: 0 }]));
  const wants = (line: RoundLine) => {
    const t = progress.get(line.name)!;
    return !times.get(line.name)!.error && moreSamples(t.steps, t.spentMs, limits);
  };
  for (let round = 0; ; round++) {
    const own = lines.filter(wants);
    const needed = new Set(own.flatMap((l) => l.divisors));
    const active = lines.filter((l) => !times.get(l.name)!.error && (own.includes(l) || needed.has(l.name)));
    if (!own.length || !active.length) return times;
    onRound(round);
    for (const line of round % 2 === 0 ? active : [...active].reverse()) {
      const record = times.get(line.name)!;
      try {
        const { wallMs, gpuMs } = await line.step();
        record.wall[round] = wallMs;
        record.gpu[round] = gpuMs;
        const t = progress.get(line.name)!;
        t.steps++;
        t.spentMs += wallMs;
      } catch (error) {
        record.error = error;
      }
    }
  }
}

/** The times a line took, in round order (rounds it sat out left out). */
export function taken(samples: ReadonlyArray<number | undefined>): number[] {
  return samples.filter((s): s is number => s !== undefined);
}

/**
 * The median over rounds of a / (scale · b), over the rounds that timed both; null where none did.
 * A line divided by itself is 1.
 */
export function pairedRatio(
  a: ReadonlyArray<number | undefined>,
  b: ReadonlyArray<number | undefined>,
  scale = 1,
): number | null {
  const ratios: number[] = [];
  a.forEach((x, round) => {
    const y = b[round];
    if (x !== undefined && y !== undefined && y > 0) ratios.push(x / (scale * y));
  });
  return ratios.length ? percentile(ratios, 0.5) : null;
}
