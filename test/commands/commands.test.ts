// Every command the README and docs/ document, as a user runs it on a fresh clone: the working
// tree's files (what git tracks, and what it would track) copied to a new folder, `npm ci`, then
// each command in a short mode, its exit code and the file it writes checked. A fresh clone has no
// dist/, no results/ and no built pages: a command that leans on one of them fails here.
// `npm run test:commands` (in .ci/run); each command's time is printed.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { DP_RUNS, dpShows, type DpOutcome } from '../../demo/dp/settings';
import { GPT_MODES, TRAINED_FRACTION, type GptOutcome, type GptSettings } from '../../demo/gpt/settings';

const repo = resolve(import.meta.dirname, '../..');
const clone = mkdtempSync(join(tmpdir(), 'gradclip-fresh-clone-'));

interface Ran {
  code: number | null;
  output: string;
  seconds: number;
}

/** Runs `command` in the clone (a shell line, as a user types it) and resolves with its exit code and output. */
function run(command: string, timeoutSeconds: number): Promise<Ran> {
  const start = performance.now();
  return new Promise((done) => {
    const child = spawn('bash', ['-c', command], { cwd: clone, env: { ...process.env, CI: '1' } });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutSeconds * 1000);
    child.on('close', (code) => {
      clearTimeout(timer);
      const seconds = (performance.now() - start) / 1000;
      console.log(`${command}: exit ${code} in ${seconds.toFixed(1)} s`);
      done({ code, output, seconds });
    });
  });
}

/** Asserts a zero exit, showing the output's end when it is not. */
function expectSuccess(ran: Ran): void {
  expect(ran.code, ran.output.slice(-4000)).toBe(0);
}

function fileIn(path: string): Buffer {
  const full = join(clone, path);
  expect(existsSync(full), `${path} was written`).toBe(true);
  return readFileSync(full);
}

interface GptRecord {
  size: string;
  steps: number;
  settings: GptSettings;
  outcomes: GptOutcome[];
}

/**
 * What the transformer demo is for, on its record: the clipped runs learn and stay finite, every
 * corrupted batch stands out (several times a clean step's norm) and is clipped by the global norm,
 * and by ZClip once past its warm-up, while most clean steps are left alone.
 */
function expectGptOutcome({ steps, settings, outcomes }: GptRecord): void {
  expect(outcomes.map((o) => o.mode)).toEqual([...GPT_MODES]);
  for (const o of outcomes) {
    expect(o.records.map((r) => r.step)).toEqual(Array.from({ length: steps }, (_, i) => i));
    expect(o.mapAsyncCalls, o.mode).toBe(Math.ceil(steps / settings.readEvery));
    expect(o.samples.every((s) => s.text.length === settings.sampleLength)).toBe(true);
  }
  const byMode = Object.fromEntries(outcomes.map((o) => [o.mode, o]));
  for (const mode of ['norm', 'zclip'] as const) {
    const o = byMode[mode];
    expect(o.nonfiniteAt, mode).toBeNull();
    expect(
      o.records.every((r) => Number.isFinite(r.loss) && Number.isFinite(r.norm)),
      mode,
    ).toBe(true);
    expect(o.lastLoss, mode).toBeLessThan(TRAINED_FRACTION * o.firstLoss);
  }
  const every = settings.corruptEvery;
  const corrupted = Array.from({ length: Math.floor(steps / every) }, (_, k) => (k + 1) * every - 1);
  const warmup = 25; // ZClip's default warmupSteps
  const clean = byMode.norm.records.filter((r) => !corrupted.includes(r.step));
  const cleanMedian = clean.map((r) => r.norm).sort((a, b) => a - b)[Math.floor(clean.length / 2)];
  for (const step of corrupted) {
    expect(byMode.norm.records[step].norm, `step ${step}`).toBeGreaterThan(Math.max(1, 3 * cleanMedian));
    if (step >= warmup)
      expect(byMode.zclip.records[step].threshold, `step ${step}`).toBeLessThan(byMode.zclip.records[step].norm);
  }
  expect(clean.filter((r) => r.norm <= 1).length).toBeGreaterThan(clean.length / 2);
  expect(byMode.norm.clippedSteps).toBeGreaterThanOrEqual(corrupted.length);
  expect(byMode.zclip.clippedSteps).toBeGreaterThanOrEqual(corrupted.filter((s) => s >= warmup).length);
  expect(byMode.none.clippedSteps).toBe(0);
  expect(Number.isFinite(byMode.none.largestSpike)).toBe(true);
}

const isPng = (bytes: Buffer) => bytes.subarray(1, 4).toString() === 'PNG' && bytes.length > 1000;

beforeAll(async () => {
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: repo })
    .toString()
    .split('\0')
    .filter((f) => f && existsSync(join(repo, f)));
  for (const file of files) {
    mkdirSync(dirname(join(clone, file)), { recursive: true });
    cpSync(join(repo, file), join(clone, file));
  }
  expect(existsSync(join(clone, 'dist')), 'a fresh clone has no dist/').toBe(false);
  expectSuccess(await run('npm ci --prefer-offline --no-audit --no-fund', 300));
}, 400_000);

afterAll(() => rmSync(clone, { recursive: true, force: true }));

describe('the benchmark (npm run bench)', () => {
  test('--help', async () => {
    const ran = await run('npm run bench -- --help', 60);
    expectSuccess(ran);
    expect(ran.output).toContain('Usage: npm run bench');
  });

  test('--quick: every target line, the JSON and the PNG', async () => {
    expectSuccess(await run('npm run bench -- --quick --out results/quick.json', 300));
    const results = JSON.parse(fileIn('results/quick.json').toString());
    expect(results.cases.length).toBeGreaterThan(0);
    expect(results.modes.map((m: { mode: string }) => m.mode)).toContain('adam (fused clip)');
    expect(isPng(fileIn('results/quick.png'))).toBe(true);
  });

  test('each refining flag, short: --preset --custom --sizes --counts --methods --operations --reps --warmup --budget --modes --fit-step --browser', async () => {
    const flags =
      '--preset none --custom 4096,1000,3 --sizes 65536 --counts 4 --methods gradclip-arena,gradclip-separate,copy-kernel ' +
      '--operations clip-l2,clip-value --reps 5 --warmup 1 --budget 0 --modes clipGradNorm,clipByNorm --fit-step yes --browser chromium';
    expectSuccess(await run(`npm run bench -- ${flags} --out results/flags.json`, 400));
    const results = JSON.parse(fileIn('results/flags.json').toString());
    expect(results.cases.map((c: { id: string }) => c.id)).toEqual(expect.arrayContaining(['custom', 'size-65536']));
    expect(results.fitStep.methods).toHaveLength(4);
    expect(isPng(fileIn('results/flags.png'))).toBe(true);
  });

  test('--full, narrowed to one small case', async () => {
    const flags =
      '--full --preset none --sizes 4096 --counts none --methods gradclip-arena --modes no --fit-step no --reps 2';
    expectSuccess(await run(`npm run bench -- ${flags} --out results/full.json`, 300));
    expect(JSON.parse(fileIn('results/full.json').toString()).cases.length).toBeGreaterThan(0);
  });

  test('--autotune-check --runs 1: a judged run written (exit 1 is its verdict, not a failure to run)', async () => {
    const ran = await run('npm run bench -- --autotune-check --runs 1 --out results/autotune.json', 300);
    expect([0, 1], ran.output.slice(-4000)).toContain(ran.code);
    const record = JSON.parse(fileIn('results/autotune.json').toString());
    expect(record.runs).toBe(1);
    expect(record.trials[0].chosen).toBeGreaterThan(0);
  });

  test('the Deno bundle (npm run bench:deno-bundle), then run as documented', async () => {
    expectSuccess(await run('npm run bench:deno-bundle', 120));
    const flags =
      '--preset none --custom 4096,100 --methods gradclip-arena,copy-kernel --operations clip-l2 --modes no --reps 3';
    const deno = `XDG_RUNTIME_DIR=$(mktemp -d) npx deno run --allow-read --allow-write --allow-env dist-deno/bench-deno.js ${flags} --out results/deno.json`;
    expectSuccess(await run(deno, 300));
    expect(JSON.parse(fileIn('results/deno.json').toString()).cases.length).toBeGreaterThan(0);
  });
});

describe('the demos', () => {
  test('npm run demo:train --steps 50: the unclipped run diverges, the clipped ones train, the PNG', async () => {
    const ran = await run('npm run demo:train -- --steps 50 --out results/train.png', 300);
    expectSuccess(ran);
    expect(ran.output).toMatch(/step 50\/50 · .* so far/);
    expect(isPng(fileIn('results/train.png'))).toBe(true);
  });

  // 40 steps: two corrupted batches (19 and 39), the second past ZClip's 25-step warm-up.
  test('npm run demo:gpt --steps 40: the clipped runs learn, each clip acts on the corrupted batches; the PNG and the record', async () => {
    const steps = 40;
    const ran = await run(`npm run demo:gpt -- --steps ${steps} --out results/gpt.png`, 500);
    expectSuccess(ran);
    expect(ran.output).toMatch(new RegExp(`step ${steps}/${steps} · .* so far`));
    expect(ran.output).toContain('What clipping did on the corrupted batches');
    expect(isPng(fileIn('results/gpt.png'))).toBe(true);
    const record = JSON.parse(fileIn('results/gpt.json').toString()) as GptRecord;
    expect(record.size, 'the small GPT on a software adapter').toBe('software');
    expect(record.steps).toBe(steps);
    expectGptOutcome(record);
  });

  test('npm run demo:amp: Chromium lacks shader-f16 here, so Firefox trains the three runs; the PNG and the record', async () => {
    const ran = await run('npm run demo:amp -- --out results/amp.png', 300);
    expectSuccess(ran);
    expect(ran.output).toMatch(/chromium: the demo cannot run here: this adapter has no 'shader-f16'/);
    expect(ran.output).toContain('f16 + GradScaler tracks f32');
    expect(isPng(fileIn('results/amp.png'))).toBe(true);
    const record = JSON.parse(fileIn('results/amp.json').toString());
    expect(record.browser.name).toBe('firefox');
    expect(record.outcomes.map((o: { run: string }) => o.run)).toEqual(['f32', 'f16', 'f16-scaler']);
  });

  test('npm run demo:dp --steps 60: the private runs learn and spend their ε; the PNG and the record', async () => {
    const steps = 60;
    // The working tree's record of the default run was copied here: gone, so what is read was written now.
    for (const file of ['results/dp.png', 'results/dp.json']) rmSync(join(clone, file), { force: true });
    const ran = await run(`npm run demo:dp -- --steps ${steps}`, 300);
    expectSuccess(ran);
    expect(ran.output).toMatch(new RegExp(`step ${steps}/${steps} · .* so far`));
    expect(ran.output).toContain('each spent its target ε');
    expect(isPng(fileIn('results/dp.png'))).toBe(true);
    const record = JSON.parse(fileIn('results/dp.json').toString()) as { steps: number; outcomes: DpOutcome[] };
    expect(record.steps).toBe(steps);
    expect(record.outcomes.map((o) => o.run)).toEqual([...DP_RUNS]);
    expect(record.outcomes.every((o) => o.steps === steps && o.records.at(-1)?.step === steps)).toBe(true);
    expect(dpShows(record.outcomes)).toBe(true);
  });

  test('npm run read-latency --browser chromium --rounds 3', async () => {
    expectSuccess(await run('npm run read-latency -- --browser chromium --rounds 3 --out results/latency.json', 300));
    const [chromium] = JSON.parse(fileIn('results/latency.json').toString());
    expect(chromium.results.rounds).toBe(3);
  });
});

describe('building, packing and serving', () => {
  test('npm run build', async () => {
    expectSuccess(await run('npm run build', 120));
    for (const file of ['index.js', 'reference.js', 'tfjs.js', 'index.d.ts'])
      expect(fileIn(`dist/${file}`).length).toBeGreaterThan(0);
  });

  test('npm run docs', async () => {
    expectSuccess(await run('npm run docs', 120));
    expect(fileIn('docs/api/index.html').toString()).toContain('gradclip');
  });

  test('npm pack', async () => {
    expectSuccess(await run('npm pack', 120));
    const listing = execFileSync('tar', ['-tzf', join(clone, 'gradclip-0.1.0.tgz')]).toString();
    expect(listing).toContain('package/dist/index.js');
    expect(listing).toContain('package/README.md');
  });

  test.each(['npm run dev', 'npx vite'])('%s serves the demo pages', async (command) => {
    // As documented: no flags, so the address is Vite's default (localhost:5173, or the next free port).
    const child: ChildProcess = spawn('bash', ['-c', `exec ${command}`], {
      cwd: clone,
      detached: true,
      env: { ...process.env, NO_COLOR: '1' },
    });
    try {
      let output = '';
      const url = await new Promise<string>((found, failed) => {
        const timer = setTimeout(() => failed(new Error(`no address in: ${output}`)), 60_000);
        child.stdout?.on('data', (chunk) => {
          output += chunk;
          const match = output.match(/http:\/\/localhost:\d+\//);
          if (match) {
            clearTimeout(timer);
            found(match[0]);
          }
        });
      });
      for (const page of [
        'demo/bench.html',
        'demo/train.html',
        'demo/gpt.html',
        'demo/read-latency.html',
        'demo/dp.html',
      ]) {
        const response = await fetch(new URL(page, url));
        expect(response.status, page).toBe(200);
        expect(await response.text(), page).toContain('<script type="module"');
      }
      const module = await fetch(new URL('demo/gpt-page.ts', url));
      expect(module.status).toBe(200);
    } finally {
      if (child.pid) process.kill(-child.pid, 'SIGTERM');
    }
  });
});
