// The transformer demo's outcome, in CI: the demo page itself (demo/gpt.html's body and
// demo/gpt-page.ts) trains a small GPT with AdamW side by side without clipping, with a global
// norm of 1 and with ZClip, from the same weights on the same batches, every 20th of them
// corrupted (one character repeated, so the gradient's norm jumps ~10×). The clipped runs must
// learn (clean loss below TRAINED_FRACTION of its start) and stay finite; the global clip must act
// on every corrupted batch and ZClip on every one after its warm-up; the page must draw its charts,
// its summary and the text each model writes. Divergence of the unclipped run is not asserted: with
// AdamW this short run does not diverge, and TF.js's atomics make its losses differ slightly run to run.
import { expect, test } from 'vitest';
import { createClipper } from 'gradclip';
import { tfjsOn } from '../../demo/tfjs-device';
import gptHtml from '../../demo/gpt.html?raw';
import { GPT_MODES, TRAINED_FRACTION, gptParameterCount } from '../../demo/gpt/run';
import { pageDevice } from '../../demo/page-device';
import { withErrorScopes } from './gpu';

const STEPS = 60;
const READ_EVERY = 10;
/** Small enough for SwiftShader in CI; the page's default is the ~1 M-parameter model. */
const SETTINGS = {
  width: 32,
  heads: 4,
  layers: 2,
  context: 16,
  batch: 8,
  lr: 0.02,
  corruptEvery: 20,
  readEvery: READ_EVERY,
  sampleEvery: 30,
  sampleLength: 16,
};

test(`${STEPS} steps of the transformer demo: the clipped runs learn, each clip acts on the corrupted batches`, async () => {
  document.body.innerHTML = new DOMParser().parseFromString(gptHtml, 'text/html').body.innerHTML;
  await import('../../demo/gpt-page');
  const device = await pageDevice();
  const outcomes = await withErrorScopes(device, () => window.gradclipGpt.run({ steps: STEPS, settings: SETTINGS }));

  // The page drew it: three charts, a summary row per run, two samples per run.
  expect(document.querySelectorAll('#charts canvas')).toHaveLength(3);
  expect(document.querySelectorAll('#summary tr')).toHaveLength(GPT_MODES.length + 1);
  expect(document.querySelectorAll('#samples tr')).toHaveLength(2 * GPT_MODES.length);
  expect(document.querySelector('#model')!.textContent).toMatch(/[\d,]+ parameters/);

  expect(outcomes.map((o) => o.mode)).toEqual([...GPT_MODES]);
  for (const o of outcomes) {
    expect(o.records.map((r) => r.step)).toEqual(Array.from({ length: STEPS }, (_, i) => i));
    expect(o.mapAsyncCalls, o.mode).toBe(STEPS / READ_EVERY);
    expect(o.samples.map((s) => s.step)).toEqual([29, 59]);
    expect(o.samples.every((s) => s.text.length === SETTINGS.sampleLength)).toBe(true);
  }
  const byMode = Object.fromEntries(outcomes.map((o) => [o.mode, o]));
  for (const mode of ['norm', 'zclip'] as const) {
    const o = byMode[mode];
    expect(o.nonfiniteAt, mode).toBeNull();
    expect(
      o.records.every((r) => Number.isFinite(r.loss) && Number.isFinite(r.norm)),
      mode,
    ).toBe(true);
    expect(o.lastLoss, mode).toBeLessThan(TRAINED_FRACTION * o.firstLoss);
  }
  // Every corrupted batch's gradient was clipped by the global norm, and by ZClip after its warm-up.
  const corrupted = Array.from(
    { length: STEPS / SETTINGS.corruptEvery },
    (_, k) => (k + 1) * SETTINGS.corruptEvery - 1,
  );
  const warmup = 25; // ZClip's default warmupSteps
  const clean = byMode.norm.records.filter((r) => !corrupted.includes(r.step));
  const cleanMedian = clean.map((r) => r.norm).sort((a, b) => a - b)[Math.floor(clean.length / 2)];
  for (const step of corrupted) {
    // A corrupted batch stands out: its norm is several times a clean step's, and above the bound.
    expect(byMode.norm.records[step].norm, `step ${step}`).toBeGreaterThan(Math.max(1, 3 * cleanMedian));
    if (step >= warmup)
      expect(byMode.zclip.records[step].threshold, `step ${step}`).toBeLessThan(byMode.zclip.records[step].norm);
  }
  // Most clean steps are left alone: the clip acts on the outliers, not on every step.
  expect(clean.filter((r) => r.norm <= 1).length).toBeGreaterThan(clean.length / 2);
  expect(byMode.norm.clippedSteps).toBeGreaterThanOrEqual(corrupted.length);
  expect(byMode.zclip.clippedSteps).toBeGreaterThanOrEqual(corrupted.filter((s) => s >= warmup).length);
  expect(byMode.none.clippedSteps).toBe(0);
  expect(Number.isFinite(byMode.none.largestSpike)).toBe(true);
}, 900_000); // minutes on a software adapter

test('the model.fit benchmark line: four optimizers on a small GPT, each timed, the unclipped one the baseline', async () => {
  const device = await pageDevice();
  await tfjsOn(device);
  const { measureFitStep, FIT_METHODS } = await import('../../demo/gpt/fit-step');
  const clipper = await createClipper({ device });
  const settings = { width: 16, heads: 2, layers: 1, context: 8, batch: 4 };
  const result = await withErrorScopes(device, () =>
    measureFitStep(clipper, { rounds: 2, stepsPerRound: 1, settings }),
  );
  clipper.destroy();
  expect(result).toMatchObject({ batch: 4, context: 8, rounds: 2, stepsPerRound: 1 });
  expect(result.parameters).toBe(gptParameterCount(settings));
  expect(result.methods.map((m) => m.method)).toEqual([...FIT_METHODS]);
  for (const m of result.methods) expect(m.msPerStep, m.method).toBeGreaterThan(0);
  expect(result.methods[0].overheadPercent).toBe(0);
  for (const m of result.methods.slice(1)) expect(Number.isFinite(m.overheadPercent), m.method).toBe(true);
});
