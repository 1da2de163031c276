// The training demo's outcome, headless: the demo page itself (demo/train.html's body and
// demo/train-page.ts) in Chromium driven by Playwright, trained through the page's own entry
// point. The same model, data and learning rate are trained side by side with each clipping mode
// through gradclip's fused optimizer on TF.js's gradients. Without clipping the run must diverge;
// every clipped run must stay finite and lower its loss, with the monitors reading back once per
// `readEvery` steps and never per step; the page draws both charts and the summary.
import { expect, test } from 'vitest';
import trainHtml from '../../demo/train.html?raw';
import { pageDevice } from '../../demo/page-device';
import { CLIP_MODES, DIVERGED_NORM } from '../../demo/train/settings';
import { withErrorScopes } from './gpu';

const STEPS = 80;
const READ_EVERY = 10;

test(`${STEPS} steps of the demo page: no clipping diverges, clipping by norm, by value and AutoClip train`, async () => {
  document.body.innerHTML = new DOMParser().parseFromString(trainHtml, 'text/html').body.innerHTML;
  await import('../../demo/train-page');
  const device = await pageDevice();
  const seen = new Map<string, number>();
  const outcomes = await withErrorScopes(device, () =>
    window.gradclipTrain.run({
      steps: STEPS,
      settings: { readEvery: READ_EVERY },
      onRecords: (mode, records) => seen.set(mode, (seen.get(mode) ?? 0) + records.length),
    }),
  );
  // The page drew it: a loss and a norm chart, a summary row per run naming the divergence.
  expect(document.querySelectorAll('#charts canvas')).toHaveLength(2);
  expect(document.querySelectorAll('#summary tr')).toHaveLength(CLIP_MODES.length + 1);
  expect(document.querySelector('#summary')!.textContent).toMatch(/diverged at step \d+/);
  expect(outcomes.map((o) => o.mode)).toEqual([...CLIP_MODES]);
  for (const o of outcomes) {
    expect(o.records.map((r) => r.step)).toEqual(Array.from({ length: STEPS }, (_, i) => i));
    expect(seen.get(o.mode)).toBe(STEPS);
    expect(o.mapAsyncCalls).toBe(STEPS / READ_EVERY);
  }
  const [none, ...clipped] = outcomes;
  expect(none.diverged).toBe(true);
  expect(none.records.some((r) => !Number.isFinite(r.loss) || r.norm > DIVERGED_NORM)).toBe(true);
  for (const o of clipped) {
    expect(o.diverged, o.mode).toBe(false);
    expect(
      o.records.every((r) => Number.isFinite(r.loss) && Number.isFinite(r.norm)),
      o.mode,
    ).toBe(true);
    expect(o.lastLoss, o.mode).toBeLessThan(0.75 * o.firstLoss);
  }
  // AutoClip's threshold was recorded on the GPU and is finite once it has a history.
  const auto = outcomes.find((o) => o.mode === 'autoclip')!;
  expect(auto.records.slice(1).every((r) => Number.isFinite(r.threshold) && r.threshold > 0)).toBe(true);
});
