// The AMP demo's outcome, in CI: the page itself (demo/amp.html's body and demo/amp-page.ts). Where
// the adapter offers shader-f16 (Firefox here, on lavapipe) it trains its three runs for 300 steps:
// f16 with the GradScaler ends within TRACKS_F32 of the f32 run's loss, f16 without scaling flushes
// its gradients to zero and ends above STALLS times it, the scaler backed off and skipped those
// steps, and the page drew its charts and summary. Where it does not (Chromium's SwiftShader) the
// page says so and offers no Start.
import { expect, test } from 'vitest';
import ampHtml from '../../demo/amp.html?raw';
import { AMP_RUNS, ampShows, DEFAULT_AMP_STEPS, STALLS, TRACKS_F32 } from '../../demo/amp/settings';
import { pageDevice } from '../../demo/page-device';
import { withErrorScopes } from './gpu';

test('the AMP demo: f16 + GradScaler tracks f32, f16 alone stalls (or the page says why it cannot run)', async () => {
  document.body.innerHTML = new DOMParser().parseFromString(ampHtml, 'text/html').body.innerHTML;
  await import('../../demo/amp-page');
  const device = await pageDevice();
  const reason = await window.gradclipAmp.unsupported();
  if (!device.features.has('shader-f16')) {
    expect(reason).toMatch(/no 'shader-f16'/);
    await expect.poll(() => document.querySelector('#support')!.textContent).toMatch(/cannot run here/);
    expect((document.querySelector('#start') as HTMLButtonElement).disabled).toBe(true);
    return;
  }
  expect(reason).toBeNull();
  const outcomes = await withErrorScopes(device, () => window.gradclipAmp.run());
  expect(outcomes.map((o) => o.run)).toEqual([...AMP_RUNS]);
  const by = Object.fromEntries(outcomes.map((o) => [o.run, o]));
  for (const o of outcomes)
    expect(o.records.map((r) => r.step)).toEqual(Array.from({ length: DEFAULT_AMP_STEPS }, (_, i) => i));
  expect(by['f16-scaler'].lastLoss).toBeLessThanOrEqual(TRACKS_F32 * by.f32.lastLoss);
  expect(by.f16.lastLoss).toBeGreaterThan(STALLS * by.f32.lastLoss);
  expect(by.f32.lastLoss).toBeLessThan(0.2 * by.f32.firstLoss);
  expect(ampShows(outcomes)).toBe(true);
  // Without scaling every gradient flushed; with the scaler none, and each overflow was a skipped step.
  expect(by.f16.meanFlushed).toBeGreaterThan(0.95);
  expect(by['f16-scaler'].meanFlushed).toBeLessThan(0.01);
  expect(by['f16-scaler'].backoffs).toBeGreaterThan(0);
  expect(by['f16-scaler'].stepsTaken).toBe(DEFAULT_AMP_STEPS - by['f16-scaler'].backoffs - 1);
  expect(by.f32.stepsTaken).toBe(DEFAULT_AMP_STEPS);
  expect(document.querySelectorAll('#charts canvas')).toHaveLength(3);
  expect(document.querySelectorAll('#summary tr')).toHaveLength(AMP_RUNS.length + 1);
}, 300_000);
