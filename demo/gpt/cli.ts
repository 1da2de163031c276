// `npm run demo:gpt`: builds the transformer demo page, trains it headless in the system Chromium
// (or Firefox: --browser) for --steps steps (default 200), prints each run's outcome and the text
// it writes, and a PNG of the page (--out, default results/gpt.png). Exits 1 unless every clipped
// run stayed finite, lowered its clean loss and clipped some step. (The CI test, on a smaller
// model, holds the clipped runs to TRAINED_FRACTION of their starting loss.)
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { readDemoArgs } from '../demo-args';
import { withBuiltPage } from '../serve';
import { GPT_MODE_LABELS, TRAINED_FRACTION, type GptOutcome } from './run';

type Summary = Omit<GptOutcome, 'records'> & { tokensPerSecond: number };

export async function main(argv: string[]): Promise<number> {
  const args = readDemoArgs(argv, { steps: 200, out: 'results/gpt.png' });
  if (args === 2) return 2;
  const { steps, browserName, out } = args;
  console.log(`Building the transformer demo, then ${steps} steps of each run in ${browserName}…`);
  return withBuiltPage('demo/gpt.html', browserName, async (page, browser) => {
    console.log(`${browser.name} ${browser.version}`);
    await page.exposeFunction('gptProgress', (line: string) => console.log(line));
    await page.waitForFunction(() => 'gradclipGpt' in window);
    const outcomes = await page.evaluate(async (n) => {
      const progress = (window as unknown as { gptProgress: (line: string) => void }).gptProgress;
      const speeds: number[] = [];
      const results = await window.gradclipGpt.run({
        steps: n,
        onRecords: ({ mode, records, tokensPerSecond }) => {
          if (Number.isFinite(tokensPerSecond)) speeds.push(tokensPerSecond);
          const last = records[records.length - 1];
          progress(`step ${last.step + 1} ${mode}: loss ${last.loss.toFixed(3)}, ‖g‖ ${last.norm.toPrecision(3)}`);
        },
      });
      const median = [...speeds].sort((a, b) => a - b)[Math.floor(speeds.length / 2)] ?? NaN;
      return results.map(({ records, ...rest }) => ({ ...rest, tokensPerSecond: median }));
    }, steps);
    for (const o of outcomes as Summary[]) {
      console.log(
        `${GPT_MODE_LABELS[o.mode].padEnd(26)} loss ${o.firstLoss.toFixed(3)} → ${o.lastLoss.toFixed(3)}; largest spike ${o.largestSpike.toFixed(3)}; ` +
          `${o.nonfiniteAt === null ? 'finite throughout' : `NaN/Inf at step ${o.nonfiniteAt}`}; clipped ${o.clippedSteps} steps; ${o.mapAsyncCalls} readbacks`,
      );
      for (const s of o.samples.slice(-2)) console.log(`    step ${s.step + 1}: ${JSON.stringify(s.text)}`);
    }
    console.log(
      `tokens/s (all runs together, median over readbacks): ${(outcomes as Summary[])[0]?.tokensPerSecond.toFixed(0)}`,
    );
    mkdirSync(dirname(out), { recursive: true });
    await page.screenshot('body', out);
    console.log(`wrote ${out}`);
    const clipped = (outcomes as Summary[]).filter((o) => o.mode !== 'none');
    const trained = clipped.every((o) => o.nonfiniteAt === null && o.lastLoss < o.firstLoss && o.clippedSteps > 0);
    for (const o of clipped)
      console.log(
        `${GPT_MODE_LABELS[o.mode]}: clean loss at ${(o.lastLoss / o.firstLoss).toFixed(3)} of its start (the CI test's bar: ${TRAINED_FRACTION})`,
      );
    return trained ? 0 : 1;
  });
}
