// `npm run bench -- --browser firefox` end to end on one tiny case: the CLI builds the pages,
// drives the benchmark page in Firefox over WebDriver BiDi, and writes results that match the
// schema, name Firefox, and check every method against the float64 reference, beside a PNG.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { main } from '../../demo/bench/cli';
import { validateResults, type BenchResults } from '../../demo/bench/schema';

const work = mkdtempSync(join(tmpdir(), 'gradclip-firefox-bench-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

test('the benchmark CLI runs its page in Firefox on one tiny case', async () => {
  const out = join(work, 'bench.json');
  const argv = ['--browser', 'firefox', '--preset', 'none', '--sizes', '5000', '--counts', 'none', '--modes', 'no'];
  const code = await main([
    ...argv,
    '--methods',
    'gradclip-arena,copy-kernel',
    '--reps',
    '2',
    '--warmup',
    '1',
    '--out',
    out,
  ]);
  expect(code).toBe(0);
  const results = JSON.parse(readFileSync(out, 'utf8')) as BenchResults;
  expect(validateResults(results)).toEqual([]);
  expect(results.launchedBrowser?.name).toBe('firefox');
  expect(results.browser).toMatch(/Firefox\/\d+/);
  expect(results.cases.map((c) => `${c.id} ${c.operation}`)).toEqual(['size-5000 clip-norm', 'size-5000 no-clip-norm']);
  for (const c of results.cases) {
    for (const m of c.methods) expect(m.check?.ok, `${c.id} ${c.operation} ${m.method}`).toBe(true);
  }
  const png = readFileSync(join(work, 'bench.png'));
  expect(png.subarray(1, 4).toString()).toBe('PNG');
});
