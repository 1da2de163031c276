// `npm run demo:amp`: builds the AMP demo page and trains it headless: f32 gradients, f16 without
// loss scaling and f16 with a GradScaler, side by side (--steps N, default 300). f16 needs the
// adapter's `shader-f16`: with no --browser, Chromium is tried first and Firefox when Chromium's
// adapter lacks it (SwiftShader does; lavapipe in Firefox has it); a browser without it is said
// plainly. Prints the progress with the time left and each run's outcome, writes a PNG of the
// page (--out, default results/amp.png) and the run's record beside it. Exits 1 unless the f16
// run with the scaler ends within TRACKS_F32 of the f32 run's loss and the one without ends above
// STALLS times it; 2 on bad flags; 3 where no browser here offers shader-f16.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { BROWSERS, type BrowserName } from '../browser-names';
import { readDemoArgs } from '../demo-args';
import { StepClock } from '../progress';
import type { DemoPage } from '../browsers';
import { withBuiltPage } from '../serve';
import {
  AMP_RUN_LABELS,
  AMP_RUNS,
  DEFAULT_AMP_SETTINGS,
  DEFAULT_AMP_STEPS,
  ampShows,
  STALLS,
  TRACKS_F32,
  type AmpOutcome,
  type AmpRun,
} from './settings';

async function train(page: DemoPage, browser: { name: BrowserName; version: string }, steps: number, out: string) {
  const clock = new StepClock(steps);
  const latest = new Map<AmpRun, number>();
  let done = false;
  await page.exposeFunction('ampProgress', (run: AmpRun, step: number, loss: number) => {
    latest.set(run, loss);
    // A browser may deliver these after the run has returned: the summary is printed by then.
    if (done) return;
    if (run !== AMP_RUNS[AMP_RUNS.length - 1]) return;
    const losses = [...latest].map(([r, l]) => `${r} ${l.toPrecision(3)}`).join(', ');
    console.log(`${clock.line(step + 1)} · loss: ${losses}`);
  });
  const outcomes = (await page.evaluate((n) => {
    const progress = (window as unknown as { ampProgress: (r: string, s: number, l: number) => void }).ampProgress;
    return window.gradclipAmp.run({
      steps: n,
      onRecords: (run, records) => {
        const last = records[records.length - 1];
        progress(run, last.step, last.loss);
      },
    });
  }, steps)) as AmpOutcome[];
  done = true;
  console.log(`\nTrained in ${clock.elapsed()}.`);
  for (const o of outcomes) {
    const scaler =
      o.run === 'f16-scaler'
        ? `; ${o.backoffs} backoffs, final scale 2^${Math.log2(o.records.at(-1)?.scale ?? Number.NaN)}`
        : '';
    console.log(
      `${AMP_RUN_LABELS[o.run].padEnd(32)} loss ${o.firstLoss.toPrecision(3)} → ${o.lastLoss.toPrecision(3)}; ` +
        `${(100 * o.meanFlushed).toFixed(1)} % of gradient values flushed to zero; ${o.stepsTaken}/${o.records.length} steps taken${scaler}`,
    );
  }
  mkdirSync(dirname(out), { recursive: true });
  await page.screenshot('body', out);
  const json = `${out.replace(/\.png$/i, '')}.json`;
  const record = { date: new Date().toISOString(), browser, steps, settings: DEFAULT_AMP_SETTINGS, outcomes };
  writeFileSync(json, `${JSON.stringify(record, null, 2)}\n`);
  console.log(`wrote ${out} and ${json}`);
  const shows = ampShows(outcomes);
  console.log(
    shows
      ? `f16 + GradScaler tracks f32 (within ${TRACKS_F32}×); f16 without scaling stalls (above ${STALLS}× f32's loss).`
      : `the outcome is not what the demo shows: f16 + GradScaler within ${TRACKS_F32}× f32's loss, f16 alone above ${STALLS}×`,
  );
  return shows ? 0 : 1;
}

export async function main(argv: string[]): Promise<number> {
  const args = readDemoArgs(argv, { steps: DEFAULT_AMP_STEPS, out: 'results/amp.png' });
  if (args === 2) return 2;
  const steps = args.steps ?? DEFAULT_AMP_STEPS;
  // Without --browser: the first browser whose adapter offers shader-f16.
  const chosen = argv.includes('--browser') ? [args.browserName] : [...BROWSERS];
  for (const name of chosen) {
    console.log(`Building the AMP demo, then ${steps} steps of each run in ${name}…`);
    const code = await withBuiltPage('demo/amp.html', name, async (page, browser) => {
      console.log(`${browser.name} ${browser.version}`);
      await page.waitForFunction(() => 'gradclipAmp' in window);
      const reason = await page.evaluate(() => window.gradclipAmp.unsupported(), undefined);
      if (reason) {
        console.log(`${browser.name}: the demo cannot run here: ${reason}.`);
        return 3;
      }
      return train(page, browser, steps, args.out);
    });
    if (code !== 3) return code;
  }
  console.log('No browser here offers shader-f16: the f16 runs cannot run (try Chrome on a GPU, or Firefox).');
  return 3;
}
