// The DP-SGD demo's outcome, in CI: the page itself (demo/dp.html's body and demo/dp-page.ts) trains
// its four runs for the default 300 steps. Without privacy nothing is clipped and no noise is added;
// every private run learns (test accuracy at least LEARNS, chance being 0.25) yet ends below the
// non-private run, ε = 8 ends above ε = 1, and each private run's ε is what the RDP accountant gives
// for its σ, sample rate and the steps its optimizer took (recomputed here), within
// getNoiseMultiplier's tolerance below its target. Then the page drew its charts and summary.
import { expect, test } from 'vitest';
import dpHtml from '../../demo/dp.html?raw';
import {
  DEFAULT_DP_SETTINGS,
  DEFAULT_DP_STEPS,
  DP_RUNS,
  DP_TARGETS,
  dpShows,
  EPSILON_TOLERANCE,
  LEARNS,
  UNCLIPPED_MAX_NORM,
  type DpOutcome,
} from '../../demo/dp/settings';
import { pageDevice } from '../../demo/page-device';
import { computeRdp, DEFAULT_ORDERS, getPrivacySpent } from '../../src/index';
import { withErrorScopes } from './gpu';

const { delta, expectedBatch, trainExamples, evalEvery } = DEFAULT_DP_SETTINGS;
const q = expectedBatch / trainExamples;

/** ε after `steps` steps at σ, from the accountant's parts (computeRdp, then getPrivacySpent). */
function epsilonOf(noiseMultiplier: number, steps: number): number {
  const rdp = computeRdp({ sampleRate: q, noiseMultiplier, steps, orders: DEFAULT_ORDERS });
  return getPrivacySpent({ orders: DEFAULT_ORDERS, rdp, delta }).epsilon;
}

test('the DP-SGD demo: the private runs learn and each spends the ε its accountant says', async () => {
  document.body.innerHTML = new DOMParser().parseFromString(dpHtml, 'text/html').body.innerHTML;
  await import('../../demo/dp-page');
  const device = await pageDevice();
  const outcomes = await withErrorScopes(device, () => window.gradclipDp.run());
  expect(outcomes.map((o) => o.run)).toEqual([...DP_RUNS]);
  const by = Object.fromEntries(outcomes.map((o) => [o.run, o])) as Record<(typeof DP_RUNS)[number], DpOutcome>;
  const evaluated = Array.from({ length: DEFAULT_DP_STEPS / evalEvery + 1 }, (_, i) => i * evalEvery);
  for (const o of outcomes) {
    expect(o.records.map((r) => r.step)).toEqual(evaluated);
    expect(o.steps, o.run).toBe(DEFAULT_DP_STEPS);
    expect(o.sampleRate).toBe(q);
    // Poisson batches: about expectedBatch a step, none truncated, and the kernel wrote exactly those.
    expect(o.overflowSteps).toBe(0);
    expect(Math.abs(o.examplesSampled / DEFAULT_DP_STEPS - expectedBatch), o.run).toBeLessThan(2);
    expect(o.examplesSeen, o.run).toBe(o.examplesSampled);
    // From the shared initial weights, near chance, to a trained classifier.
    expect(o.records[0].accuracy).toBe(outcomes[0].records[0].accuracy);
    expect(o.records[0].accuracy, o.run).toBeLessThan(0.5);
    expect(o.finalAccuracy).toBe(o.records.at(-1)!.accuracy);
  }

  // Without privacy: no noise, and a clip bound far above every example's gradient norm.
  expect(by.none.noiseMultiplier).toBe(0);
  expect(by.none.maxNorm).toBe(UNCLIPPED_MAX_NORM);
  expect(by.none.largestNorm).toBeGreaterThan(DEFAULT_DP_SETTINGS.maxNorm);
  expect(by.none.largestNorm).toBeLessThan(by.none.maxNorm / 1000);
  expect(by.none.clippedFraction).toBe(0);
  expect(by.none.epsilon).toBeNull();
  expect(by.none.records.every((r) => r.epsilon === null)).toBe(true);
  expect(by.none.finalAccuracy).toBeGreaterThan(0.85);

  const privateRuns = DP_RUNS.filter((r) => DP_TARGETS[r] !== null).map((r) => by[r]);
  for (const o of privateRuns) {
    const target = DP_TARGETS[o.run]!;
    expect(o.maxNorm).toBe(DEFAULT_DP_SETTINGS.maxNorm);
    expect(o.clippedFraction, `${o.run}: the clip bound is active`).toBeGreaterThan(0.1);
    expect(o.finalAccuracy, o.run).toBeGreaterThanOrEqual(LEARNS);
    expect(o.finalAccuracy, o.run).toBeLessThan(by.none.finalAccuracy);
    // The run's ε is the accountant's for its σ, q and the steps its optimizer took, within 1 %…
    const expected = epsilonOf(o.noiseMultiplier, o.steps);
    expect(Math.abs(o.epsilon! - expected), o.run).toBeLessThanOrEqual(0.01 * expected);
    // …and its σ was chosen to spend the target, within getNoiseMultiplier's tolerance below it.
    expect(o.epsilon!, o.run).toBeLessThanOrEqual(target);
    expect(o.epsilon!, o.run).toBeGreaterThanOrEqual(target - EPSILON_TOLERANCE);
    // ε at each evaluation is that of the steps taken by then: 0 at first, rising to the final ε.
    expect(o.records[0].epsilon).toBe(0);
    for (const r of o.records.slice(1))
      expect(
        Math.abs(r.epsilon! - epsilonOf(o.noiseMultiplier, r.step)),
        `${o.run} at step ${r.step}`,
      ).toBeLessThanOrEqual(0.01 * r.epsilon!);
    expect(o.records.at(-1)!.epsilon).toBe(o.epsilon);
  }
  // Less privacy, less noise: σ falls as the target ε rises, and at the default 300 steps ε = 8
  // ends above ε = 1 (by 1–4 points in float64 simulations over eight seeds).
  expect(by.eps1.noiseMultiplier).toBeGreaterThan(by.eps3.noiseMultiplier);
  expect(by.eps3.noiseMultiplier).toBeGreaterThan(by.eps8.noiseMultiplier);
  expect(by.eps8.noiseMultiplier).toBeGreaterThan(0);
  expect(by.eps8.finalAccuracy).toBeGreaterThan(by.eps1.finalAccuracy);
  expect(dpShows(outcomes)).toBe(true);
  expect(document.querySelectorAll('#charts canvas')).toHaveLength(2);
  expect(document.querySelectorAll('#summary tr')).toHaveLength(DP_RUNS.length + 1);
}, 120_000);
