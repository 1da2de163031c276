// `npm run bench -- --autotune-check`: can a busy machine fool the autotune? With one other
// process keeping a core busy (started here), each of `runs` fresh pages (--runs, default 10)
// calls createClipper() (a new device, so a fresh autotune) and then judges the chosen cap
// independently on that device (demo/bench/autotune-trial.ts). Prints each run and the count of
// runs whose chosen cap steps within 10 % of the fastest candidate; writes the runs as JSON.
// Exits 1 when fewer than REQUIRED_SHARE of the runs pass.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { type Browser, chromium } from 'playwright';
import { createServer } from 'vite';
import { chromiumArgs, chromiumPath } from '../chromium';
import type { AutotuneTrial } from './autotune-trial';

/** The share of runs that must pass (the "at least 9 of 10"). */
export const REQUIRED_SHARE = 0.9;

const root = resolve(import.meta.dirname, '../..');
const TRIAL_EXPRESSION = "import('/demo/bench/autotune-trial.ts').then((trial) => trial.autotuneTrial())";
const BLANK_PAGE = '<!doctype html><meta charset="utf-8"><title>gradclip autotune check</title>';

function describeRun(i: number, t: AutotuneTrial): string {
  const timed = t.tuning.candidates.map((c) => `${c.maxWorkgroups}:${c.medianMs.toFixed(1)}`).join(' ');
  const judged = t.judged.map((j) => `${j.maxWorkgroups}:${j.medianStepMs.toFixed(1)}`).join(' ');
  return [
    `run ${i + 1}: chose ${t.chosen} (autotune ${t.tuning.elapsedMs.toFixed(0)} ms, ${t.tuning.timer}; timed ${timed})`,
    `  judged step ms (clip + no-clip, median): ${judged}`,
    `  fastest ${t.fastest}; chosen / fastest = ${t.ratio.toFixed(3)} ${t.within ? 'within' : 'NOT within'} 10 %`,
  ].join('\n');
}

/** Runs the check; resolves with the exit code (0 when at least REQUIRED_SHARE of the runs pass). */
export async function runAutotuneCheck(out: string, runs: number): Promise<number> {
  execFileSync('bash', [join(root, 'scripts/ensure-chromium.sh')], { stdio: 'inherit' });
  const server = await createServer({
    root,
    configFile: join(root, 'vite.config.ts'),
    logLevel: 'warn',
    server: { host: '127.0.0.1', port: 0, strictPort: false },
  });
  const trials: AutotuneTrial[] = [];
  const load = { before: loadavg(), after: [] as number[] };
  let browser: Browser | null = null;
  let busy: ChildProcess | null = null;
  try {
    browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs, headless: true });
    await server.listen();
    const url = server.resolvedUrls?.local[0];
    if (!url) throw new Error('the dev server did not report its address');
    // The other process: one core kept busy for the whole check (killed in `finally`, whatever fails).
    busy = spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' });
    console.log(`Autotune check: ${runs} fresh createClipper() runs, one core kept busy (pid ${busy.pid})`);
    for (let i = 0; i < runs; i++) {
      const page = await browser.newPage();
      page.on('pageerror', (error) => console.error(`page error: ${error.message}`));
      // A blank page of the dev server's origin (secure: loopback) that imports the trial's source.
      await page.route(url, (route) => route.fulfill({ contentType: 'text/html', body: BLANK_PAGE }));
      await page.goto(url);
      // An expression string: a function would be rewritten by the module runner that loads this file.
      const trial = (await page.evaluate(TRIAL_EXPRESSION)) as AutotuneTrial;
      await page.close();
      trials.push(trial);
      console.log(describeRun(i, trial));
    }
  } finally {
    busy?.kill();
    load.after = loadavg();
    await browser?.close();
    await server.close();
  }
  const passed = trials.filter((t) => t.within).length;
  const file = resolve(out);
  mkdirSync(dirname(file), { recursive: true });
  const record = { date: new Date().toISOString(), adapter: trials[0]?.adapter ?? '', load, passed, runs, trials };
  writeFileSync(file, `${JSON.stringify(record, null, 2)}\n`);
  console.log(
    `\nautotune check: ${passed}/${runs} runs chose a cap within 10 % of the fastest candidate's step ` +
      `(${record.adapter}; load average ${load.before[0].toFixed(2)} before, ${load.after[0].toFixed(2)} after)`,
  );
  console.log(`wrote ${file}`);
  return passed >= Math.ceil(REQUIRED_SHARE * runs) ? 0 : 1;
}
