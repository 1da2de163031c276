// The transformer demo page (demo/gpt.html's body and demo/gpt-page.ts) in the browser suite: the
// size it picks for the adapter, a short run drawn into its charts, summary and samples; and the
// benchmark's model.fit line on a small GPT. The outcome of the demo itself (the clipped runs learn,
// the global clip acts on every corrupted batch and ZClip on every one after its warm-up) is asserted
// on `npm run demo:gpt`'s record, run from a fresh clone in test/commands/commands.test.ts.
import { expect, test } from 'vitest';
import { createClipper } from 'gradclip';
import { tfjsOn } from '../../demo/tfjs-device';
import gptHtml from '../../demo/gpt.html?raw';
import { gptParameterCount } from '../../demo/gpt/run';
import { GPT_MODES, GPT_SIZES } from '../../demo/gpt/settings';
import { pageDevice } from '../../demo/page-device';
import { withErrorScopes } from './gpu';

const STEPS = 10;

// The page in the browser suite, briefly: the size it picks for this adapter and what it draws. The
// outcome of a longer run (the clipped runs learn, each clip acts on the corrupted batches) is
// asserted on `npm run demo:gpt`'s record in test/commands/commands.test.ts.
test('the transformer demo page: the small GPT on a software adapter, its charts, summary and samples', async () => {
  document.body.innerHTML = new DOMParser().parseFromString(gptHtml, 'text/html').body.innerHTML;
  await import('../../demo/gpt-page');
  const device = await pageDevice();
  const defaults = await window.gradclipGpt.defaults();
  expect(defaults.size, 'SwiftShader and lavapipe are fallback adapters').toBe('software');
  expect(defaults.settings).toEqual(GPT_SIZES.software.settings);
  expect(defaults.steps).toBe(GPT_SIZES.software.steps);
  expect(defaults.parameters).toBe(gptParameterCount(GPT_SIZES.software.settings));
  expect((await window.gradclipGpt.defaults('gpu')).settings).toEqual(GPT_SIZES.gpu.settings);
  // The page fills its form with the size it picked once its own look at the adapter settles.
  const field = (name: string) => (document.querySelector(`[name=${name}]`) as HTMLInputElement).value;
  await expect.poll(() => field('steps')).toBe(String(defaults.steps));
  expect(field('width')).toBe(String(defaults.settings.width));
  expect(document.querySelector('#size')!.textContent).toMatch(/software adapter/);

  const settings = { readEvery: 5, sampleEvery: 5, sampleLength: 8 };
  const outcomes = await withErrorScopes(device, () => window.gradclipGpt.run({ steps: STEPS, settings }));
  // Three charts, a summary row per run, a sample per run every 5 steps, the model line.
  expect(document.querySelectorAll('#charts canvas')).toHaveLength(3);
  expect(document.querySelectorAll('#summary tr')).toHaveLength(GPT_MODES.length + 1);
  expect(document.querySelectorAll('#samples tr')).toHaveLength(2 * GPT_MODES.length);
  expect(document.querySelector('#model')!.textContent).toMatch(/[\d,]+ parameters/);
  expect(outcomes.map((o) => o.mode)).toEqual([...GPT_MODES]);
  for (const o of outcomes) {
    expect(o.records.map((r) => r.step)).toEqual(Array.from({ length: STEPS }, (_, i) => i));
    expect(o.mapAsyncCalls, o.mode).toBe(STEPS / settings.readEvery);
    expect(o.samples.map((s) => s.step)).toEqual([4, 9]);
    expect(o.samples.every((s) => s.text.length === settings.sampleLength)).toBe(true);
    expect(o.records.every((r) => Number.isFinite(r.loss) && Number.isFinite(r.norm))).toBe(true);
  }
}, 300_000);

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
