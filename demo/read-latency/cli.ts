// `npm run read-latency`: builds the pages, runs the read-latency page headless in each browser
// (--browser chromium|firefox|all, default all), prints each one's lines and writes them to
// results/read-latency.json (--out).
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { BROWSERS, type BrowserName } from '../browser-names';
import { withBuiltPage } from '../serve';
import type { LatencyResults } from './measure';

function flag(argv: string[], name: string, fallback: string): string {
  const at = argv.indexOf(`--${name}`);
  return at >= 0 && argv[at + 1] ? argv[at + 1] : fallback;
}

export async function main(argv: string[]): Promise<number> {
  const chosen = flag(argv, 'browser', 'all');
  if (chosen !== 'all' && !BROWSERS.includes(chosen as BrowserName)) {
    console.error(`--browser takes ${BROWSERS.join(', ')} or all (got ${chosen})`);
    return 2;
  }
  const browsers = chosen === 'all' ? [...BROWSERS] : [chosen as BrowserName];
  const out = resolve(flag(argv, 'out', 'results/read-latency.json'));
  const runs: Array<{ browser: string; version: string; results: LatencyResults }> = [];
  for (const name of browsers) {
    console.log(`Measuring in ${name}…`);
    const results = await withBuiltPage('demo/read-latency.html', name, async (page, browser) => {
      await page.waitForFunction(() => 'gradclipReadLatency' in window);
      const measured = await page.evaluate(() => window.gradclipReadLatency.run(), undefined);
      runs.push({ browser: browser.name, version: browser.version, results: measured });
      return measured;
    });
    console.log(`${name}: ${results.adapter}`);
    for (const l of results.lines) {
      const unit = l.perUnit ? `  (${l.perUnit.median.toFixed(2)} ms / ${l.perUnit.unit})` : '';
      console.log(
        `  ${l.name.padEnd(28)} ${l.median.toFixed(2).padStart(8)} ms  [${l.p10.toFixed(1)}–${l.p90.toFixed(1)}]${unit}`,
      );
    }
  }
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(runs, null, 2)}\n`);
  console.log(`wrote ${out}`);
  return 0;
}
