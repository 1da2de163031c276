// The autotune's search over workgroup caps, apart from any GPU: given a way to time one cap, it
// finds the fastest with a few dozen timings on a machine whose load comes and goes.
//
// - Interleaved rounds: a round times every cap in play once, in alternating order, so load that
//   comes and goes lands on all of them rather than on whichever cap was being timed. A timer on
//   the GPU's clock may take a round's timings together, with one wait for all of them.
// - A robust statistic: the median of a cap's timings. Not the minimum: on a CPU emulator with a
//   core taken by another process, a cap of many workgroups has lucky moments when both cores are
//   free, and its minimum then beats caps that are faster nearly all of the time.
// - A climb from a prior: step time is roughly unimodal in log2(cap), so the search starts where
//   the adapter suggests and moves to the faster neighbour until the centre leads: first by 4x,
//   then by 2x, where the lead is confirmed with FINAL_SAMPLES timings of the centre and both
//   neighbours. Caps far from the optimum (seconds each on an emulator) are never timed.
// - Early stop: a neighbour whose fastest of two timings is CLEARLY_SLOWER than the leader's
//   median is timed no more (load only adds time, so two bursts would be needed to fool it); and
//   a window whose every other cap's fastest timing, in the last SEPARATE_ROUNDS rounds, is above
//   the leader's median in those rounds is settled at once (in simulations like the tests': a
//   quarter fewer timings on a quiet machine, a fifth on a busy one, as often within 10 %).
// test/node/autotune.test.ts runs it against simulated busy machines.

/** Timings per cap before a climbing step compares the window. */
const CLIMB_SAMPLES = 3;
/** Timings per cap of the final window before the choice. */
const FINAL_SAMPLES = 7;
/** Rounds over which a leader whose median beats every other cap's fastest timing is taken at once. */
const SEPARATE_ROUNDS = 3;
/** A neighbour slower than the leader by this factor (see above) is timed no more. */
const CLEARLY_SLOWER = 1.5;
/** At most this many rounds in all, whatever the noise. */
const MAX_ROUNDS = 30;

/** What the search found: the choice, the final window, every timing per cap in the order taken, the rounds run. */
export interface CapSearchResult {
  /** The fastest by median of the final window. */
  chosen: number;
  /** The caps of the final window: the chosen cap and its neighbours, timed the most. */
  final: number[];
  samples: Map<number, number[]>;
  rounds: number;
}

/** The median of `values` (not empty). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * The fastest of `candidates` (increasing powers of two) by the median of interleaved timings,
 * climbing from `prior` (one of them). `measure(cap)` returns milliseconds per step for that cap.
 */
export async function searchBestCap(
  candidates: readonly number[],
  prior: number,
  measure: (cap: number) => Promise<number>,
  /** Start a round's timings together, in round order (timers that time on the GPU, not the wall clock). */
  together = false,
): Promise<CapSearchResult> {
  if (!candidates.includes(prior)) throw new Error(`the prior ${prior} is not a candidate`);
  let rounds = 0;
  /** Per cap, its timing in each of the rounds that timed it, by round (in round order). */
  const byRound = new Map<number, Map<number, number>>();
  const timings = (cap: number) => [...(byRound.get(cap)?.values() ?? [])];
  const count = (cap: number) => byRound.get(cap)?.size ?? 0;
  const score = (cap: number) => (count(cap) ? median(timings(cap)) : Infinity);
  const leader = (caps: readonly number[]) => caps.reduce((a, b) => (score(b) < score(a) ? b : a));
  const round = async (caps: readonly number[]) => {
    const index = rounds++;
    const order = index % 2 ? [...caps].reverse() : caps;
    const times: number[] = [];
    if (together) times.push(...(await Promise.all(order.map(measure))));
    else for (const cap of order) times.push(await measure(cap));
    order.forEach((cap, i) => byRound.set(cap, (byRound.get(cap) ?? new Map()).set(index, times[i])));
  };
  /** The cap's timings in the last SEPARATE_ROUNDS rounds, or null unless it was timed in each. */
  const recent = (cap: number) => {
    const last = Array.from({ length: SEPARATE_ROUNDS }, (_, i) => byRound.get(cap)?.get(rounds - 1 - i));
    return last.every((t) => t !== undefined) ? (last as number[]) : null;
  };
  // Enough timings of every cap, or the others clearly slower: even their fastest of two or more
  // timings (load only ever adds time) above CLEARLY_SLOWER × the leader's median of three or more.
  // Or, over the last SEPARATE_ROUNDS rounds (which timed every cap of the window side by side),
  // every other cap's fastest timing above the leader's median: a quiet machine shows this within
  // a few rounds; on a busy one the ranges overlap and the rounds go on.
  const decided = (caps: readonly number[], enough: number) => {
    const best = leader(caps);
    const fastest = (c: number) => Math.min(...timings(c));
    const clearlySlower = (c: number) => count(best) >= 3 && count(c) >= 2 && fastest(c) > CLEARLY_SLOWER * score(best);
    const leading = recent(best);
    const apart = (c: number) => {
      const times = recent(c);
      return c === best || (times !== null && leading !== null && Math.min(...times) > median(leading));
    };
    if (leading && caps.every(apart)) return true;
    return caps.every((c) => count(c) >= enough || (c !== best && clearlySlower(c)));
  };

  const roundsUntil = async (caps: readonly number[], enough: number) => {
    while (rounds < MAX_ROUNDS && !decided(caps, enough)) await round(caps);
  };

  // Climb: time a cap and its neighbours `step` doublings away together and move to the fastest,
  // until the centre leads (or a centre seen before does: two caps swap the lead). Coarse steps
  // (4x) reach a far optimum in few rounds; fine steps (2x) then settle it, and the fine centre's
  // lead is confirmed with more timings before the climb ends.
  let centre = candidates.indexOf(prior);
  let window: number[] = [];
  for (const step of [2, 1]) {
    const centres = new Set([centre]);
    for (;;) {
      const indices = new Set([centre - step, centre, centre + step].map((i) => clampIndex(i, candidates)));
      window = [...indices].map((i) => candidates[i]);
      await roundsUntil(window, CLIMB_SAMPLES);
      let best = candidates.indexOf(leader(window));
      if (best === centre && step === 1) {
        await roundsUntil(window, FINAL_SAMPLES);
        best = candidates.indexOf(leader(window));
      }
      if (centres.has(best) || rounds >= MAX_ROUNDS) break;
      centre = best;
      centres.add(centre);
    }
  }
  const samples = new Map([...byRound.keys()].map((cap) => [cap, timings(cap)]));
  return { chosen: leader(window), final: window, samples, rounds };
}

function clampIndex(i: number, candidates: readonly unknown[]): number {
  return Math.min(Math.max(i, 0), candidates.length - 1);
}
