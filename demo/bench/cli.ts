// `npm run bench`: builds the benchmark page, serves it on loopback, drives it headless in the
// system Chromium or Firefox (--browser), follows its progress in the terminal, then prints the
// table and writes the results JSON (naming the browser) and a PNG of the charts.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { withBuiltPage } from '../serve';
import { runAutotuneCheck } from './autotune-check';
import { readCli } from './config';
import type { Progress } from './harness';
import { formatReport } from './report';
import { validateResults, type BenchResults } from './schema';

function progressLine(p: Progress) {
  const width = 30;
  const filled = p.total ? Math.round((p.done / p.total) * width) : width;
  const text = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${p.done}/${p.total} ${p.label}`;
  if (process.stdout.isTTY) process.stdout.write(`\r\x1b[2K${text.slice(0, process.stdout.columns - 1)}`);
  else console.log(text);
}

export async function main(argv: string[]): Promise<number> {
  const options = readCli(argv);
  if (typeof options === 'number') return options;
  if (options.autotuneCheck) return runAutotuneCheck(options.out, options.runs);

  console.log('Building the benchmark page…');
  return withBuiltPage('demo/bench.html', options.browser, async (page, browser) => {
    await page.exposeFunction('benchProgress', progressLine);
    await page.waitForFunction(() => 'gradclipBench' in window);
    const results = (await page.evaluate((config) => window.gradclipBench.run(config), options.config)) as BenchResults;
    results.launchedBrowser = browser;
    if (process.stdout.isTTY) process.stdout.write('\n');

    const problems = validateResults(results);
    if (problems.length) throw new Error(`the results do not match the schema: ${problems.join('; ')}`);
    const out = resolve(options.out);
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
    const png = `${out.replace(/\.json$/i, '')}.png`;
    await page.screenshot('#charts', png);
    console.log(`\n${formatReport(results)}\n`);
    console.log(`wrote ${out} and ${png}`);
    const wrong = results.cases.flatMap((c) => c.methods.filter((m) => m.check && !m.check.ok));
    return wrong.length ? 1 : 0;
  });
}
