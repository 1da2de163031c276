// `npm run demo:train`: builds the training demo page, runs it headless in the system Chromium or
// Firefox (--browser, default chromium) for --steps steps (default 200), prints each run's outcome
// and writes a PNG of the page's charts and table (--out, default results/train.png). Exits 1
// unless the unclipped run diverged and every clipped run trained.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { readDemoArgs } from '../demo-args';
import { withBuiltPage } from '../serve';
import type { RunOutcome } from './run';

export async function main(argv: string[]): Promise<number> {
  const args = readDemoArgs(argv, { steps: 200, out: 'results/train.png' });
  if (args === 2) return 2;
  const { steps, browserName, out } = args;
  console.log(`Building the training demo, then ${steps} steps of each run in ${browserName}…`);
  return withBuiltPage('demo/train.html', browserName, async (page, browser) => {
    console.log(`${browser.name} ${browser.version}`);
    await page.waitForFunction(() => 'gradclipTrain' in window);
    const outcomes = (await page.evaluate(
      (n) => window.gradclipTrain.run({ steps: n }).then((o) => o.map(({ records, ...rest }) => rest)),
      steps,
    )) as Array<Omit<RunOutcome, 'records'>>;
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
