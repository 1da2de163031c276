// `npm run read-latency`: builds the pages, runs the read-latency page headless in each browser
// (--browser chromium|firefox|all, default all; about 1.5 minutes for both on a software adapter),
// --rounds N rounds per line (default 50), prints each one's lines and writes them to
// results/read-latency.json (--out).
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { BROWSERS, type BrowserName } from '../browser-names';
import { withBuiltPage } from '../serve';
import { ROUNDS, type LatencyResults } from './measure';

const FLAGS = ['--browser', '--out', '--rounds'];

/** The flags given (each with a value), or 2 after printing what is wrong. */
function readFlags(argv: readonly string[]): Map<string, string> | 2 {
  const given = new Map<string, string>();
  for (let i = 0; i < argv.length; i += 2) {
    if (!FLAGS.includes(argv[i]) || argv[i + 1] === undefined || argv[i + 1].startsWith('--')) {
      console.error(`${argv[i]}: expected one of ${FLAGS.join(', ')}, each with a value`);
      return 2;
    }
    given.set(argv[i], argv[i + 1]);
  }
  return given;
}

export async function main(argv: string[]): Promise<number> {
  const flags = readFlags(argv);
  if (flags === 2) return 2;
  const chosen = flags.get('--browser') ?? 'all';
  if (chosen !== 'all' && !BROWSERS.includes(chosen as BrowserName)) {
    console.error(`--browser takes ${BROWSERS.join(', ')} or all (got ${chosen})`);
    return 2;
  }
  const rounds = Number(flags.get('--rounds') ?? ROUNDS);
  if (!Number.isInteger(rounds) || rounds < 1) {
    console.error(`--rounds must be a positive integer (got ${flags.get('--rounds')})`);
    return 2;
  }
  const browsers = chosen === 'all' ? [...BROWSERS] : [chosen as BrowserName];
  const out = resolve(flags.get('--out') ?? 'results/read-latency.json');
  const runs: Array<{ browser: string; version: string; results: LatencyResults }> = [];
  for (const name of browsers) {
    console.log(`Measuring in ${name} (${rounds} rounds a line)…`);
    const results = await withBuiltPage('demo/read-latency.html', name, async (page, browser) => {
      await page.waitForFunction(() => 'gradclipReadLatency' in window);
      const measured = await page.evaluate((n) => window.gradclipReadLatency.run(n), rounds);
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
