// The CPU backend against the float64 reference on 20 000 seeded random cases (the same
// generator as the GPU fuzz): norms within the documented bound, every element clipped as the
// reference says, sentinels between views untouched. A failure prints its seed and the case
// shrunk to the smallest one that still fails.
import { expect, test } from 'vitest';
import { createClipper, type Clipper } from '../../src/index';
import { describeCase, fuzzCase, fuzzContents, shrink, type FuzzCase } from '../shared/fuzz-cases';
import { compareOutcome, expectedFor } from '../shared/fuzz-check';

const CASES = 20_000;
/** Floats per case in Node (the GPU fuzz takes larger ones). */
const MAX_ELEMENTS = 4_000;

async function runOnCpu(clipper: Clipper, c: FuzzCase): Promise<string | null> {
  const expected = expectedFor(c);
  const { contents } = fuzzContents(c);
  const before = contents.map((a) => a.slice());
  const views = c.buffers.flatMap((b, i) => b.views.map((v) => contents[i].subarray(v.offset, v.offset + v.length)));
  const set = clipper.gradients(views);
  let norm: number | null = null;
  if (c.operation === 'clip-value') clipper.clipGradValue(set, expected.maxNorm);
  else norm = await clipper.clipGradNorm(set, expected.maxNorm, { normType: c.p }).read();
  return compareOutcome(c, expected, norm, before, contents);
}

test(`${CASES} random cases on the CPU backend match the float64 reference`, async () => {
  const clipper = await createClipper({ forceCpu: true });
  for (let seed = 1; seed <= CASES; seed++) {
    const c = fuzzCase(seed, MAX_ELEMENTS);
    const failure = await runOnCpu(clipper, c);
    if (failure) {
      const shrunk = await shrink(c, (candidate) => runOnCpu(clipper, candidate));
      expect.fail(`seed ${seed}: ${failure}\nshrunk: ${shrunk.message}\n${describeCase(shrunk.case)}`);
    }
  }
}, 120_000);

test('the shrinker keeps a failing case failing while it removes buffers and views and halves lengths', async () => {
  // A stand-in failure: any view longer than 10 floats, or a NaN injected anywhere.
  const failsWhen = async (c: FuzzCase) => {
    const long = c.buffers.some((b) => b.views.some((v) => v.length > 10));
    const nan = c.specials.some(([, , x]) => Number.isNaN(x));
    return long || nan ? `long ${long} nan ${nan}` : null;
  };
  let seed = 1;
  while (!(await failsWhen(fuzzCase(seed, 50_000))) || fuzzCase(seed, 50_000).buffers.length < 3) seed++;
  const { case: shrunk, message } = await shrink(fuzzCase(seed, 50_000), failsWhen, 10_000);
  expect(message).not.toBe('passed when replayed');
  expect(await failsWhen(shrunk)).not.toBeNull();
  expect(shrunk.buffers).toHaveLength(1);
  expect(shrunk.buffers[0].views).toHaveLength(1);
  const [view] = shrunk.buffers[0].views;
  // Either one view of 11-20 floats (halving it once more would pass) or the NaN's view.
  expect(view.length <= 20 || shrunk.specials.length === 1).toBe(true);
  // The description replays: NaN and ±Inf survive as strings.
  expect(describeCase({ ...shrunk, specials: [[0, 0, NaN]] })).toContain('"NaN"');
});
