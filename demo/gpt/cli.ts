// `npm run demo:gpt`: builds the transformer demo page and trains it headless in the system Chromium
// (or Firefox: --browser). The model's size comes from the adapter: on a software (fallback)
// adapter a small GPT for 100 steps, a few minutes; on a GPU the ~0.8 M-parameter one for 200.
// --full runs the large model anywhere, --steps N any number of steps. It prints the progress with
// the time left, what clipping did on the corrupted batches, each run's outcome and the text it
// writes, and a PNG of the page (--out, default results/gpt.png) with the run's record beside it
// (results/gpt.json: the adapter, size, settings, and each run's records and samples). Exits 1
// unless every clipped run stayed finite, lowered its clean loss and clipped some step.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { readDemoArgs } from '../demo-args';
import { StepClock } from '../progress';
import { withBuiltPage } from '../serve';
import type { StepRecord } from '../train/monitor';
import {
  GPT_MODE_LABELS,
  GPT_MODES,
  TRAINED_FRACTION,
  type GptMode,
  type GptOutcome,
  type GptSettings,
  type GptSize,
} from './settings';

/** What clipping did on the corrupted batches of each run. */
function corruptedLines(outcomes: readonly GptOutcome[], settings: GptSettings): string[] {
  const corrupted = (r: StepRecord) =>
    settings.corruptEvery > 0 && r.step % settings.corruptEvery === settings.corruptEvery - 1;
  const lines: string[] = [];
  for (const o of outcomes) {
    const bad = o.records.filter(corrupted);
    if (!bad.length) continue;
    const clean = o.records.filter((r) => !corrupted(r)).map((r) => r.norm);
    const median = [...clean].sort((a, b) => a - b)[Math.floor(clean.length / 2)];
    const norms = bad.map((r) => r.norm.toPrecision(3)).join(', ');
    const acted =
      o.mode === 'norm'
        ? `scaled to ‖g‖ = ${settings.maxNorm} on ${bad.filter((r) => r.norm > settings.maxNorm).length} of ${bad.length}`
        : o.mode === 'zclip'
          ? `ZClip clipped ${bad.filter((r) => Number.isFinite(r.threshold) && r.norm > r.threshold).length} of ${bad.length} (after its warm-up)`
          : 'applied as they came';
    const spike = Number.isFinite(o.largestSpike) ? `; the loss rose ${o.largestSpike.toFixed(3)} after the worst` : '';
    lines.push(
      `  ${GPT_MODE_LABELS[o.mode].padEnd(26)} ‖g‖ on the corrupted batches ${norms} (clean median ${median.toPrecision(2)}): ${acted}${spike}`,
    );
  }
  return lines;
}

export async function main(argv: string[]): Promise<number> {
  const args = readDemoArgs(argv, { steps: null, out: 'results/gpt.png', switches: ['full'] });
  if (args === 2) return 2;
  const { browserName, out } = args;
  const size: GptSize | undefined = args.switches.includes('full') ? 'gpu' : undefined;
  console.log(`Building the transformer demo, then training it in ${browserName}…`);
  return withBuiltPage('demo/gpt.html', browserName, async (page, browser) => {
    console.log(`${browser.name} ${browser.version}`);
    await page.waitForFunction(() => 'gradclipGpt' in window);
    const defaults = await page.evaluate((s) => window.gradclipGpt.defaults(s), size);
    const steps = args.steps ?? defaults.steps;
    const { settings } = defaults;
    console.log(`Adapter: ${defaults.adapter}`);
    console.log(
      `Model: ${defaults.parameters.toLocaleString('en')} parameters (${settings.layers} layers, width ${settings.width}, ` +
        `context ${settings.context}, batch ${settings.batch})` +
        (defaults.size === 'software' && !size
          ? ', the small GPT this software adapter gets (--full: the ~0.8 M-parameter model, over an hour here).'
          : '.'),
    );
    console.log(
      `${steps} steps of three AdamW runs from the same weights on the same batches (no clipping, global norm ≤ ${settings.maxNorm}, ZClip); ` +
        `every ${settings.corruptEvery}th batch is corrupted (one character repeated), as the bad batches behind loss spikes.`,
    );
    const clock = new StepClock(steps);
    const latest = new Map<GptMode, { step: number; loss: number }>();
    await page.exposeFunction('gptProgress', (mode: GptMode, step: number, loss: number, runs: number) => {
      latest.set(mode, { step, loss });
      if ([...latest.values()].filter((r) => r.step === step).length < runs) return;
      const losses = [...latest].map(([m, r]) => `${m} ${r.loss.toFixed(3)}`).join(', ');
      console.log(`${clock.line(step + 1)} · clean loss: ${losses}`);
    });
    const outcomes = (await page.evaluate(
      ({ n, s, runs, every }) => {
        const progress = (
          window as unknown as { gptProgress: (m: string, step: number, loss: number, runs: number) => void }
        ).gptProgress;
        // The latest clean step's loss: a corrupted batch's (one character repeated) is no measure.
        const isClean = (r: { step: number }) => every === 0 || r.step % every !== every - 1;
        return window.gradclipGpt.run({
          steps: n,
          ...(s ? { size: s } : {}),
          onRecords: ({ mode, records }) => {
            const last = records[records.length - 1];
            progress(mode, last.step, (records.filter(isClean).at(-1) ?? last).loss, runs);
          },
        });
      },
      { n: steps, s: size, runs: GPT_MODES.length, every: settings.corruptEvery },
    )) as GptOutcome[];
    console.log(`\nTrained in ${clock.elapsed()}.`);
    console.log('What clipping did on the corrupted batches:');
    for (const line of corruptedLines(outcomes, settings)) console.log(line);
    for (const o of outcomes) {
      console.log(
        `${GPT_MODE_LABELS[o.mode].padEnd(26)} loss ${o.firstLoss.toFixed(3)} → ${o.lastLoss.toFixed(3)}; largest spike ${o.largestSpike.toFixed(3)}; ` +
          `${o.nonfiniteAt === null ? 'finite throughout' : `NaN/Inf at step ${o.nonfiniteAt}`}; clipped ${o.clippedSteps} steps; ${o.mapAsyncCalls} readbacks`,
      );
      for (const s of o.samples.slice(-2)) console.log(`    step ${s.step + 1}: ${JSON.stringify(s.text)}`);
    }
    mkdirSync(dirname(out), { recursive: true });
    await page.screenshot('body', out);
    // The run's record beside the picture: what ran where, and every run's records and samples.
    const json = `${out.replace(/\.png$/i, '')}.json`;
    const record = { date: new Date().toISOString(), browser, ...defaults, steps, outcomes };
    writeFileSync(json, `${JSON.stringify(record, null, 2)}\n`);
    console.log(`wrote ${out} and ${json}`);
    const clipped = outcomes.filter((o) => o.mode !== 'none');
    const trained = clipped.every((o) => o.nonfiniteAt === null && o.lastLoss < o.firstLoss && o.clippedSteps > 0);
    for (const o of clipped)
      console.log(
        `${GPT_MODE_LABELS[o.mode]}: clean loss at ${(o.lastLoss / o.firstLoss).toFixed(3)} of its start (the CI test's bar: ${TRAINED_FRACTION})`,
      );
    return trained ? 0 : 1;
  });
}
