// The mode lines' rounds (demo/bench/modes/rounds.ts): who steps in which round, in which order,
// and ratios taken within a round, on fake lines with set step times.
import { describe, expect, test } from 'vitest';
import { MIN_SAMPLES } from '../../demo/bench/budget';
import { pairedRatio, taken, timeInRounds, type RoundLine } from '../../demo/bench/modes/rounds';

/** A line whose n-th step takes msOf(n) of wall time (gpu: half of it) and logs its name. */
function fakeLine(name: string, divisors: string[], msOf: (n: number) => number, log: string[]): RoundLine {
  let n = 0;
  return {
    name,
    divisors,
    step: async () => {
      log.push(name);
      const wallMs = msOf(n++);
      return { wallMs, gpuMs: wallMs / 2 };
    },
  };
}

describe('timing the mode lines in rounds', () => {
  test('each line one step a round, the order reversed every other round', async () => {
    const log: string[] = [];
    const lines = ['a', 'b', 'c'].map((name) => fakeLine(name, ['a'], () => 1, log));
    const rounds: number[] = [];
    const times = await timeInRounds(lines, { reps: 4, warmup: 0, budgetMs: 0 }, (r) => rounds.push(r));
    expect(rounds).toEqual([0, 1, 2, 3]);
    expect(log.join('')).toBe('abccbaabccba');
    expect(times.get('b')!.wall).toEqual([1, 1, 1, 1]);
    expect(times.get('b')!.gpu).toEqual([0.5, 0.5, 0.5, 0.5]);
  });

  test('a divisor keeps stepping while a line divided by it wants steps; others stop at their budget', async () => {
    const log: string[] = [];
    const lines = [
      fakeLine('base', [], () => 100, log), // spends its 250 ms budget in the minimum
      fakeLine('cheap', ['base', 'copy'], () => 10, log), // 21 reps under its budget
      fakeLine('copy', [], () => 100, log),
      fakeLine('costly', ['base'], () => 100, log),
    ];
    const times = await timeInRounds(lines, { reps: 21, warmup: 0, budgetMs: 250 });
    expect(taken(times.get('cheap')!.wall)).toHaveLength(21);
    expect(taken(times.get('base')!.wall)).toHaveLength(21);
    expect(taken(times.get('copy')!.wall)).toHaveLength(21);
    expect(taken(times.get('costly')!.wall)).toHaveLength(MIN_SAMPLES);
    // "costly" sat out the rounds after its own: its rounds are the first ones.
    expect(
      times
        .get('costly')!
        .wall.slice(0, MIN_SAMPLES)
        .every((t) => t === 100),
    ).toBe(true);
    expect(times.get('costly')!.wall[MIN_SAMPLES]).toBeUndefined();
  });

  test('a line that throws is stopped, with its error; the others go on', async () => {
    const log: string[] = [];
    const broken: RoundLine = {
      name: 'broken',
      divisors: ['a'],
      step: async () => {
        throw new Error('lost device');
      },
    };
    const times = await timeInRounds([fakeLine('a', [], () => 1, log), broken], { reps: 3, warmup: 0, budgetMs: 0 });
    expect((times.get('broken')!.error as Error).message).toBe('lost device');
    expect(taken(times.get('broken')!.wall)).toEqual([]);
    expect(taken(times.get('a')!.wall)).toHaveLength(3);
  });
});

describe('ratios within a round', () => {
  test('a load that changes between rounds cancels out of the ratio', () => {
    // The line costs 1.2× its baseline in every round; the machine slows 2× after round 4.
    const load = (round: number) => (round < 5 ? 1 : 2);
    const base = Array.from({ length: 10 }, (_, r) => 10 * load(r));
    const line = base.map((b) => 1.2 * b);
    expect(pairedRatio(line, base)).toBeCloseTo(1.2, 12);
    expect(pairedRatio(line, line)).toBe(1);
    expect(pairedRatio(line, base, 5)).toBeCloseTo(0.24, 12);
  });
  test('only rounds that timed both count; none gives null', () => {
    expect(pairedRatio([4, undefined, 9, 8], [2, 3, 3, undefined])).toBe(2.5);
    expect(pairedRatio([undefined, 1], [1, undefined])).toBeNull();
    expect(taken([undefined, 3, undefined, 4])).toEqual([3, 4]);
  });
});
