// `npm run demo:dp`: builds the DP-SGD demo page and trains it headless (Chromium by default,
// --browser firefox): a small MLP without privacy and with DP-SGD at ε = 1, 3 and 8, side by side
// (--steps N, default 300; the noise multipliers are chosen for N). Prints the progress with the
// time left and each run's outcome, writes a PNG of the page (--out, default results/dp.png) and
// the run's record beside it. Exits 1 unless dpShows: every private run learns (test accuracy at
// least LEARNS, below the non-private run's) and spends its target ε within EPSILON_TOLERANCE, the
// non-private run clipped nothing, and no batch overflowed; 2 on bad flags.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { BrowserName } from '../browser-names';
import type { DemoPage } from '../browsers';
import { readDemoArgs } from '../demo-args';
import { StepClock } from '../progress';
import { withBuiltPage } from '../serve';
import {
  DEFAULT_DP_SETTINGS,
  DEFAULT_DP_STEPS,
  DP_RUN_LABELS,
  DP_RUNS,
  dpShows,
  EPSILON_TOLERANCE,
  LEARNS,
  type DpOutcome,
  type DpRun,
} from './settings';

async function train(page: DemoPage, browser: { name: BrowserName; version: string }, steps: number, out: string) {
  const clock = new StepClock(steps);
  const latest = new Map<DpRun, { accuracy: number; epsilon: number | null }>();
  let done = false;
  await page.exposeFunction('dpProgress', (run: DpRun, step: number, accuracy: number, epsilon: number | null) => {
    latest.set(run, { accuracy, epsilon });
    // A browser may deliver these after the run has returned: the summary is printed by then.
    if (done || run !== DP_RUNS[DP_RUNS.length - 1] || step === 0) return;
    const each = [...latest]
      .map(([r, l]) => `${r} ${l.accuracy.toFixed(3)}${l.epsilon === null ? '' : ` (ε ${l.epsilon.toFixed(2)})`}`)
      .join(', ');
    console.log(`${clock.line(step)} · test accuracy: ${each}`);
  });
  const outcomes = (await page.evaluate((n) => {
    const progress = (window as unknown as { dpProgress: (r: string, s: number, a: number, e: number | null) => void })
      .dpProgress;
    return window.gradclipDp.run({
      steps: n,
      onRecords: (run, records) => {
        const last = records[records.length - 1];
        if (last) progress(run, last.step, last.accuracy, last.epsilon);
      },
    });
  }, steps)) as DpOutcome[];
  done = true;
  console.log(`\nTrained in ${clock.elapsed()}.`);
  for (const o of outcomes) {
    const privacy =
      o.epsilon === null
        ? `no privacy guarantee; largest example gradient norm ${o.largestNorm.toPrecision(3)}, clip bound ${o.maxNorm}`
        : `ε ${o.epsilon.toFixed(3)} (target ${o.targetEpsilon}, δ ${o.delta}, RDP order ${o.order})`;
    console.log(
      `${DP_RUN_LABELS[o.run].padEnd(36)} σ ${o.noiseMultiplier.toFixed(3)}: test accuracy ${o.finalAccuracy.toFixed(3)} ` +
        `after ${o.steps} steps; ${(100 * o.clippedFraction).toFixed(1)} % of examples clipped; ${privacy}`,
    );
  }
  mkdirSync(dirname(out), { recursive: true });
  await page.screenshot('body', out);
  const json = `${out.replace(/\.png$/i, '')}.json`;
  const record = { date: new Date().toISOString(), browser, steps, settings: DEFAULT_DP_SETTINGS, outcomes };
  writeFileSync(json, `${JSON.stringify(record, null, 2)}\n`);
  console.log(`wrote ${out} and ${json}`);
  const shows = dpShows(outcomes);
  console.log(
    shows
      ? `The private runs learn (test accuracy ≥ ${LEARNS}, below the non-private run's) and each spent its target ε (within ${EPSILON_TOLERANCE}).`
      : `the outcome is not what the demo shows: every private run at test accuracy ≥ ${LEARNS} and below the non-private run's, ` +
          `its ε within ${EPSILON_TOLERANCE} below its target, nothing clipped without privacy, no batch truncated`,
  );
  return shows ? 0 : 1;
}

export async function main(argv: string[]): Promise<number> {
  const args = readDemoArgs(argv, { steps: DEFAULT_DP_STEPS, out: 'results/dp.png' });
  if (args === 2) return 2;
  const steps = args.steps ?? DEFAULT_DP_STEPS;
  console.log(`Building the DP-SGD demo, then ${steps} steps of each run in ${args.browserName}…`);
  return withBuiltPage('demo/dp.html', args.browserName, async (page, browser) => {
    console.log(`${browser.name} ${browser.version}`);
    await page.waitForFunction(() => 'gradclipDp' in window);
    return train(page, browser, steps, args.out);
  });
}
