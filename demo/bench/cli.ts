// `npm run bench`: builds the benchmark page, serves it on loopback, drives it headless in the
// system Chromium, follows its progress in the terminal, then prints the table and writes the
// results JSON and a PNG of the charts.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { chromium } from 'playwright';
import { build, preview } from 'vite';
import { chromiumArgs, chromiumPath } from '../chromium';
import { readCli } from './config';
import type { Progress } from './harness';
import { formatReport } from './report';
import { validateResults, type BenchResults } from './schema';

const root = resolve(import.meta.dirname, '../..');

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

  console.log('Building the benchmark page…');
  await build({ root, logLevel: 'warn', configFile: join(root, 'vite.config.ts') });
  const server = await preview({ root, configFile: join(root, 'vite.config.ts'), preview: { host: '127.0.0.1', port: 0, strictPort: false } });
  const url = server.resolvedUrls?.local[0];
  if (!url) throw new Error('the preview server did not report its address');

  const browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs, headless: true });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    page.on('pageerror', (error) => console.error(`page error: ${error.message}`));
    await page.exposeFunction('benchProgress', progressLine);
    await page.goto(new URL('demo/bench.html', url).href);
    await page.waitForFunction(() => 'gradclipBench' in window);
    const results = (await page.evaluate((config) => window.gradclipBench.run(config), options.config)) as BenchResults;
    if (process.stdout.isTTY) process.stdout.write('\n');

    const problems = validateResults(results);
    if (problems.length) throw new Error(`the results do not match the schema: ${problems.join('; ')}`);
    const out = resolve(options.out);
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
    const png = out.replace(/\.json$/i, '') + '.png';
    await page.locator('#charts').screenshot({ path: png });
    console.log(`\n${formatReport(results)}\n`);
    console.log(`wrote ${out} and ${png}`);
    const wrong = results.cases.flatMap((c) => c.methods.filter((m) => m.check && !m.check.ok));
    return wrong.length ? 1 : 0;
  } finally {
    await browser.close();
    await new Promise<void>((done) => server.httpServer.close(() => done()));
  }
}
