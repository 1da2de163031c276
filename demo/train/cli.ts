// `npm run demo:train`: builds the training demo page, runs it headless in the system Chromium or
// Firefox (--browser, default chromium) for --steps steps (default 200, about a minute and a half
// on a software adapter), prints the progress with the time left and each run's outcome, and writes
// a PNG of the page's charts and table (--out, default results/train.png). Exits 1 unless the
// unclipped run diverged and every clipped run trained.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { readDemoArgs } from '../demo-args';
import { StepClock } from '../progress';
import { withBuiltPage } from '../serve';
import type { StepRecord } from './monitor';
import { CLIP_MODES, type ClipMode, type RunOutcome } from './settings';

const DEFAULT_TRAIN_STEPS = 200;

export async function main(argv: string[]): Promise<number> {
  const args = readDemoArgs(argv, { steps: DEFAULT_TRAIN_STEPS, out: 'results/train.png' });
  if (args === 2) return 2;
  const { browserName, out } = args;
  const steps = args.steps ?? DEFAULT_TRAIN_STEPS;
  console.log(`Building the training demo, then ${steps} steps of each run in ${browserName}…`);
  return withBuiltPage('demo/train.html', browserName, async (page, browser) => {
    console.log(`${browser.name} ${browser.version}`);
    console.log(
      `Four runs of SGD with momentum at a learning rate high enough to diverge, from the same weights on the same batches: ${CLIP_MODES.join(', ')}.`,
    );
    await page.waitForFunction(() => 'gradclipTrain' in window);
    const clock = new StepClock(steps);
    const latest = new Map<ClipMode, StepRecord>();
    await page.exposeFunction('trainProgress', (mode: ClipMode, record: StepRecord) => {
      latest.set(mode, record);
      if ([...latest.values()].filter((r) => r.step === record.step).length < CLIP_MODES.length) return;
      const losses = [...latest].map(([m, r]) => `${m} ${r.loss.toPrecision(3)}`).join(', ');
      console.log(`${clock.line(record.step + 1)} · loss: ${losses}`);
    });
    const outcomes = (await page.evaluate((n) => {
      const progress = (window as unknown as { trainProgress: (m: string, r: unknown) => void }).trainProgress;
      return window.gradclipTrain
        .run({ steps: n, onRecords: (mode, records) => progress(mode, records[records.length - 1]) })
        .then((o) => o.map(({ records, ...rest }) => rest));
    }, steps)) as Array<Omit<RunOutcome, 'records'>>;
    console.log(`\nTrained in ${clock.elapsed()}.`);
    for (const o of outcomes) {
      console.log(
        `${o.mode.padEnd(9)} ${o.diverged ? `diverged at step ${o.divergedAt}` : 'trained'}; loss ${o.firstLoss.toPrecision(3)} → ${o.lastLoss.toPrecision(3)}; ${o.nonfiniteSteps} NaN/Inf steps skipped; ${o.mapAsyncCalls} readbacks`,
      );
    }
    mkdirSync(dirname(out), { recursive: true });
    await page.screenshot('body', out);
    console.log(`wrote ${out}`);
    const [none, ...clipped] = outcomes;
    return none?.diverged && clipped.every((o) => !o.diverged && o.lastLoss < o.firstLoss) ? 0 : 1;
  });
}
