// The benchmark's pure parts: statistics, byte model, cases, flag parsing, results schema.
import { describe, expect, test, vi } from 'vitest';
import { bytesPerElement, gigabytesPerSecond, idealCopyRatio } from '../../demo/bench/byte-model';
import {
  countSweep,
  elementCount,
  gradientsFor,
  manySmallShapes,
  mlpShapes,
  presetCase,
  sizeSweep,
  transformerShapes,
} from '../../demo/bench/cases';
import { MIN_SAMPLES, moreSamples, moreWarmup } from '../../demo/bench/budget';
import { barChart, fitStepChart, logTicks, modesChart, operationChart, optimizerChart } from '../../demo/bench/charts';
import type { FitStepResult } from '../../demo/gpt/fit-step';
import {
  DEFAULT_CONFIG,
  FULL_CONFIG,
  HELP,
  METHODS,
  MODES,
  OPERATIONS,
  QUICK_CONFIG,
  UsageError,
  parseArgs,
  readCli,
} from '../../demo/bench/config';
import type { ModeResult } from '../../demo/bench/modes';
import { formatReport } from '../../demo/bench/report';
import { kernelMedians } from '../../demo/bench/pass-profile';
import { SCHEMA_ID, validateResults, type BenchResults } from '../../demo/bench/schema';
import { percentile, summarize } from '../../demo/bench/stats';
import {
  MODE_TARGETS,
  OPTIMIZER_ROOFLINE_TARGET,
  ROOFLINE_TARGETS,
  ZERO_CHUNK_TARGETS,
  checkTargets,
  START_UP_TARGET_MS,
} from '../../demo/bench/targets';

test('the per-kernel breakdown: median per kernel of its summed time in a step, in first-run order', () => {
  const step = (partials: number[], finalize: number, scale: number) => [
    ...partials.map((ms, i) => ({ kernel: `norm_partials vec4Slots=${i + 1} normKind=2`, ms })),
    { kernel: 'norm_finalize normKind=2 source=0 scaled=false', ms: finalize },
    { kernel: 'elementwise vec4Slots=1 op=0', ms: scale },
  ];
  expect(kernelMedians([step([1, 2], 0.1, 4), step([2, 2], 0.3, 5), step([5, 5], 0.2, 6)])).toEqual([
    { kernel: 'norm_partials', ms: 4, dispatches: 2 },
    { kernel: 'norm_finalize', ms: 0.2, dispatches: 1 },
    { kernel: 'elementwise', ms: 5, dispatches: 1 },
  ]);
});

describe('statistics', () => {
  test('percentiles interpolate between ranks', () => {
    expect(percentile([5, 1, 3], 0.5)).toBe(3);
    expect(percentile([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(percentile([10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110], 0.1)).toBe(20);
    expect(percentile([7], 0.9)).toBe(7);
    expect(() => percentile([], 0.5)).toThrow(/no samples/);
    expect(() => percentile([1], 1.5)).toThrow(/q must be in \[0, 1\]/);
  });

  test('summaries', () => {
    const s = summarize(Array.from({ length: 21 }, (_, i) => 21 - i));
    expect(s).toEqual({ median: 11, p10: 3, p90: 19, min: 1, samples: 21 });
  });
});

test('byte model: 12 B clipping, 4 B not clipping, against an 8 B copy', () => {
  expect(bytesPerElement('clip-norm')).toBe(12);
  expect(idealCopyRatio('clip-norm')).toBe(1.5);
  expect(idealCopyRatio('no-clip-norm')).toBe(0.5);
  expect(idealCopyRatio('clip-value')).toBe(1);
  expect(gigabytesPerSecond('clip-norm', 1e6, 1)).toBe(12);
});

describe('cases', () => {
  test('presets have real layer shapes and the sizes the issue names', () => {
    const transformer = transformerShapes();
    expect(transformer.length).toBe(148);
    expect(elementCount({ id: '', label: '', series: 'preset', tensors: transformer })).toBeGreaterThan(3.9e6);
    expect(elementCount({ id: '', label: '', series: 'preset', tensors: transformer })).toBeLessThan(4.5e6);
    expect(transformer.find((t) => t.name === 'h.0.attn.c_attn.weight')!.length).toBe(160 * 480);
    expect(mlpShapes().map((t) => t.length)).toEqual([1024 * 2048, 2048, 2048 * 1024, 1024, 1024 * 10, 10]);
    const small = manySmallShapes();
    expect(small.length).toBe(1000);
    expect(small.every((t) => t.length >= 64 && t.length <= 4096)).toBe(true);
    expect(manySmallShapes()).toEqual(small);
    expect(presetCase('many-small').series).toBe('preset');
  });

  test('the zero-chunk cases: the transformer all zero, or its embeddings zero but every 50th row', () => {
    const dense = gradientsFor(presetCase('transformer'), 7);
    const zero = gradientsFor(presetCase('zero-grads'), 7);
    expect(zero.map((g) => g.length)).toEqual(dense.map((g) => g.length));
    expect(zero.every((g) => g.every((v) => v === 0))).toBe(true);
    const sparse = gradientsFor(presetCase('sparse-embedding'), 7);
    const shapes = presetCase('sparse-embedding').tensors;
    sparse.forEach((g, i) => {
      const { name, shape } = shapes[i];
      if (name !== 'wte' && name !== 'wpe') return expect(g.every((v, k) => v === dense[i][k])).toBe(true);
      const rowNonZero = Array.from({ length: shape![0] }, (_, r) =>
        g.subarray(r * shape![1], (r + 1) * shape![1]).some((v) => v !== 0),
      );
      expect(rowNonZero.every((nonZero, r) => nonZero === (r % 50 === 0))).toBe(true);
    });
  });

  test('sweeps', () => {
    expect(sizeSweep([1 << 20]).map((c) => elementCount(c))).toEqual([1 << 20]);
    expect(countSweep([10, 2000]).map((c) => c.tensors.length)).toEqual([10, 2000]);
  });
});

describe('CLI flags', () => {
  test('defaults and every flag', () => {
    expect(parseArgs([])).toEqual({
      config: DEFAULT_CONFIG,
      out: 'results/bench.json',
      browser: 'chromium',
      autotuneCheck: false,
      runs: 10,
      help: false,
    });
    // --autotune-check writes its own record unless --out says where; --runs sets how many runs.
    expect(parseArgs(['--autotune-check'])).toMatchObject({ autotuneCheck: true, out: 'results/autotune-check.json' });
    expect(parseArgs(['--autotune-check', '--runs', '2'])).toMatchObject({ autotuneCheck: true, runs: 2 });
    expect(parseArgs(['--out', 'a.json', '--autotune-check']).out).toBe('a.json');
    const o = parseArgs([
      '--preset',
      'mlp,transformer',
      '--sizes',
      '65536,1048576',
      '--counts',
      'none',
      '--reps',
      '31',
      '--warmup',
      '0',
      '--methods',
      'tfjs,cpu',
      '--out',
      '/tmp/r.json',
      '--browser',
      'firefox',
    ]);
    expect(o.config).toEqual({
      presets: ['mlp', 'transformer'],
      custom: [],
      sizes: [65536, 1048576],
      counts: [],
      methods: ['tfjs', 'cpu'],
      operations: [...OPERATIONS],
      reps: 31,
      warmup: 0,
      budgetMs: DEFAULT_CONFIG.budgetMs,
      modes: [...MODES],
      fitStep: false,
    });
    expect(parseArgs(['--modes', 'no']).config.modes).toEqual([]);
    expect(parseArgs(['--modes', 'adam (fused clip),clipGradNorm then adam']).config.modes).toEqual([
      'adam (fused clip)',
      'clipGradNorm then adam',
    ]);
    expect(parseArgs(['--operations', 'clip-inf,clip-value', '--budget', '0']).config).toMatchObject({
      operations: ['clip-inf', 'clip-value'],
      budgetMs: 0,
    });
    expect(parseArgs(['--preset', 'none', '--sizes', 'none', '--counts', 'none']).config).toMatchObject({
      presets: [],
      modes: [...MODES],
    });
    expect(o.out).toBe('/tmp/r.json');
    expect(o.browser).toBe('firefox');
    // No flags: the transformer preset within a budget; --full: every case, every step; --quick: less.
    expect(DEFAULT_CONFIG).toMatchObject({ presets: ['transformer'], sizes: [], counts: [], methods: [...METHODS] });
    expect(DEFAULT_CONFIG.budgetMs).toBeGreaterThan(0);
    expect(parseArgs(['--full']).config).toEqual(FULL_CONFIG);
    expect(FULL_CONFIG).toMatchObject({
      presets: ['mlp', 'transformer', 'many-small', 'zero-grads', 'sparse-embedding', 'odd-lengths', 'odd-one-view'],
      budgetMs: 0,
    });
    expect(FULL_CONFIG.sizes.length).toBeGreaterThan(0);
    expect(FULL_CONFIG.counts.length).toBeGreaterThan(0);
    expect(parseArgs(['--quick']).config).toEqual(QUICK_CONFIG);
    expect(QUICK_CONFIG.modes).toContain('adam (fused clip)');
    expect(parseArgs(['--quick', '--reps', '5']).config).toEqual({ ...QUICK_CONFIG, reps: 5 });
    expect(parseArgs(['--reps', '5', '--quick']).config).toEqual({ ...QUICK_CONFIG, reps: 5 });
    expect(parseArgs(['--modes', 'no', '--full']).config).toEqual({ ...FULL_CONFIG, modes: [] });
    // The model.fit line takes minutes on a software adapter: asked for, or in --full.
    expect(DEFAULT_CONFIG.fitStep).toBe(false);
    expect(FULL_CONFIG.fitStep).toBe(true);
    expect(parseArgs(['--fit-step', 'yes']).config.fitStep).toBe(true);
    expect(parseArgs(['--preset', 'none', '--modes', 'no', '--fit-step', 'yes']).config).toMatchObject({
      presets: [],
      modes: [],
      fitStep: true,
    });
    expect(parseArgs(['--help']).help).toBe(true);
    expect(parseArgs(['--preset', 'none', '--custom', '4096,17']).config).toMatchObject({
      presets: [],
      custom: [4096, 17],
    });
  });

  test.each([
    [['--reps', '0'], /--reps must be an integer >= 1, got "0"/],
    [['--reps', '2.5'], /--reps must be an integer >= 1/],
    [['--warmup', '-1'], /--warmup must be an integer >= 0/],
    [['--preset', 'resnet'], /--preset: unknown value "resnet"; choose from mlp, transformer, many-small/],
    [['--methods', 'jax'], /--methods: unknown value "jax"/],
    [['--sizes', '1e6x'], /--sizes must be an integer >= 1/],
    [['--frobnicate'], /unknown flag "--frobnicate" \(see --help\)/],
    [['--out'], /--out needs a value/],
    [['--preset', 'none', '--sizes', 'none', '--counts', 'none', '--modes', 'no'], /nothing to run/],
    [['--modes', 'maybe'], /--modes: unknown value "maybe"/],
    [['--operations', 'clip-l3'], /--operations: unknown value "clip-l3"/],
    [['--operations', 'none', '--modes', 'no'], /nothing to run: --operations none and --modes no/],
    [['--budget', '-5'], /--budget must be an integer >= 0/],
    [['--custom', '0'], /--custom must be an integer >= 1/],
    [['--browser', 'webkit'], /--browser takes chromium or firefox, got "webkit"/],
    [['--fit-step', 'maybe'], /--fit-step takes yes or no, got "maybe"/],
    [['--quick', '--full'], /--quick and --full exclude each other/],
    [['--autotune-check', '--browser', 'firefox'], /--autotune-check takes only --out and --runs \(got --browser\)/],
    [['--runs', '3'], /--runs applies to --autotune-check only/],
    [['--autotune-check', '--runs', '0'], /--runs must be an integer >= 1/],
  ])('%j is rejected', (argv, message) => {
    expect(() => parseArgs(argv)).toThrow(UsageError);
    expect(() => parseArgs(argv)).toThrow(message);
  });
});

function sampleResults(): BenchResults {
  const wall = (median: number) => ({ median, p10: median * 0.9, p90: median * 1.1, min: median * 0.8, samples: 21 });
  const method = (name: (typeof METHODS)[number], median: number) => ({
    method: name,
    wall: wall(median),
    gpu: null,
    check: { ok: true, maxRelativeError: 0 },
    ...(name === 'gradclip-arena' ? { counters: { dispatches: 3, submits: 1, buffersCreated: 0 } } : {}),
  });
  const c = (id: string, elements: number, operation: 'clip-norm' | 'no-clip-norm', gradclip: number) => ({
    id,
    label: id,
    series: 'preset' as const,
    operation,
    normType: 2,
    tensors: 148,
    elements,
    norm: 1234.5,
    methods: [
      method('gradclip-arena', gradclip),
      method('gradclip-arena-read', gradclip + 1),
      method('tfjs', 150),
      method('copy-kernel', 12),
    ],
    ratios: {
      gradclipOverCopyKernel: gradclip / 12,
      idealOverCopyKernel: 1.5,
      tfjsOverGradclip: 150 / (gradclip + 1),
      naiveOverGradclip: null,
      cpuOverGradclip: null,
    },
  });
  const cases = [c('transformer', 4.2e6, 'clip-norm', 20), c('transformer', 4.2e6, 'no-clip-norm', 9)];
  return {
    schema: SCHEMA_ID,
    date: '2026-11-26T10:00:00.000Z',
    adapter: { vendor: 'google', architecture: 'swiftshader', device: '', description: 'SwiftShader', features: [] },
    browser: 'Chrome/156',
    timestamps: { supported: true, note: '' },
    config: DEFAULT_CONFIG,
    tuning: { maxWorkgroups: 16 },
    skipped: [],
    cases,
    targets: checkTargets(cases),
  };
}

describe('results schema and targets', () => {
  test('a well-formed document passes; broken ones name the problem', () => {
    const doc = sampleResults();
    expect(validateResults(doc)).toEqual([]);
    expect(validateResults({ ...doc, schema: 'x' })).toContain(`schema must be "${SCHEMA_ID}"`);
    expect(validateResults({ ...doc, date: 'yesterday' })).toContain('date must be an ISO date string');
    const broken = structuredClone(doc);
    (broken.cases[0].methods[0] as { method: string }).method = 'magic';
    broken.cases[1].methods[0].wall = null;
    expect(validateResults(broken)).toEqual([
      'cases[0].methods[0].method is unknown: magic',
      'cases[1].methods[0] has no timing and no error',
    ]);
    expect(validateResults(null)).toEqual(['results must be an object']);
  });

  test('targets are computed from the ratios', () => {
    // The start-up line first: no createClipper() timed in the sample, so unmeasured.
    const [startUp, ...targets] = sampleResults().targets;
    expect(startUp).toMatchObject({ measured: null, met: null, threshold: START_UP_TARGET_MS });
    expect(targets[0]).toMatchObject({ measured: 150 / 21, met: true, threshold: 5 });
    expect(targets[1]).toMatchObject({ measured: 20 / 12, met: true, threshold: 2 });
    expect(targets[2]).toMatchObject({ measured: 9 / 12, met: true, threshold: 1 });
    expect(targets.slice(3, 6).map((t) => t.met)).toEqual([true, true, true]);
    // No zero-chunk cases and no mode lines: those targets are unmeasured, not met or missed.
    // The two zero-chunk targets, the mode lines (the odd-lengths one among them) and the rooflines.
    const unmeasured = 2 + MODE_TARGETS.length + ROOFLINE_TARGETS.length;
    expect(targets.slice(6).map((t) => [t.measured, t.met])).toEqual(
      Array.from({ length: unmeasured }, () => [null, null]),
    );
    expect(targets.at(-2)!.name).toBe('fused clip + Adam step: time / roofline');
    expect(targets.at(-1)!.name).toBe(
      'DP-SGD Adam step (per-example clip, sum, noise, divide, update): time / roofline',
    );
  });

  test('the mode-line targets: each line over its baseline, GPU medians where the line has them, a skipped line unmeasured', () => {
    const line = (mode: string, baseline: string, wall: number, gpu: number | null, skipped?: string) =>
      ({ mode, baseline, overBaseline: wall, gpuOverBaseline: gpu, ...(skipped ? { skipped } : {}) }) as ModeResult;
    const modeTargets = checkTargets(sampleResults().cases, [
      line('perTensorNorms', 'getTotalNorm', 1.3, 1.05),
      line('getTotalNorm (odd lengths)', 'getTotalNorm (one view)', 1.9, 2.3),
      line('clipGradNorm + scaler', 'clipGradNorm', 1.2, 1.02),
      line('adam (fused clip) + scaler', 'adam (fused clip)', 1.07, null),
      { ...line('clipGradNorm f16', 'clipGradNorm', 0, null, 'the device lacks shader-f16'), overBaseline: null },
    ])
      .filter((t) => MODE_TARGETS.some(([, , what]) => t.name.startsWith(what)))
      .filter((t) => t.measured !== null || t.detail.startsWith('not run here'));
    expect(modeTargets.map((t) => [t.measured, t.threshold, t.met])).toEqual([
      [1.05, 1.1, true],
      [2.3, 2, false],
      [1.02, 1.05, true],
      [1.07, 1.05, false],
      [null, 0.6, null],
    ]);
    expect(modeTargets[4].detail).toBe('not run here: the device lacks shader-f16');
  });

  test('the zero-chunk targets: each case not clipping over the dense transformer, same run', () => {
    const results = sampleResults();
    const noClip = results.cases[1];
    const like = (id: string, ms: number) => ({
      ...noClip,
      id,
      methods: noClip.methods.map((m) =>
        m.method === 'gradclip-arena' ? { ...m, wall: { ...m.wall!, median: ms } } : m,
      ),
    });
    const zeroTargets = (cases: typeof results.cases) =>
      checkTargets(cases).filter((t) => ZERO_CHUNK_TARGETS.some(([, , what]) => t.name.startsWith(what)));
    const [zero, sparse] = zeroTargets([...results.cases, like('zero-grads', 9.9), like('sparse-embedding', 9.9)]);
    expect(zero).toMatchObject({ measured: 9.9 / 9, threshold: 1.1, met: true });
    expect(sparse).toMatchObject({ measured: 9.9 / 9, threshold: 1.05, met: false });
    // GPU-timestamp medians when both cases have them.
    const withGpu = (c: (typeof results.cases)[number], ms: number) => ({
      ...c,
      methods: c.methods.map((m) => (m.method === 'gradclip-arena' ? { ...m, gpu: { ...m.wall!, median: ms } } : m)),
    });
    const [gpuZero] = zeroTargets([
      results.cases[0],
      withGpu(noClip, 8),
      withGpu(like('zero-grads', 9.9), 8.4),
      like('sparse-embedding', 9.9),
    ]);
    expect(gpuZero.measured).toBeCloseTo(8.4 / 8);
    expect(gpuZero.detail).toContain('GPU-timestamp');
  });

  test("the start-up target: a page reload's first createClipper() within START_UP_TARGET_MS, the browser's first beside it", () => {
    const startUp = (reloadCreateMs: number | null) =>
      checkTargets([], [], { createMs: 1300, reloadCreateMs }).find((t) => t.name.startsWith('start-up'))!;
    expect(startUp(850)).toMatchObject({ measured: 850, threshold: START_UP_TARGET_MS, comparison: '<=', met: true });
    expect(startUp(850).detail).toContain('1300 ms');
    expect(startUp(START_UP_TARGET_MS + 1).met).toBe(false);
    expect(startUp(null)).toMatchObject({ measured: null, met: null });
  });

  test("the roofline targets: the fused optimizer's and the DP step's time over the copy time for their bytes per float", () => {
    const line = (mode: ModeResult['mode'], overRoofline: number) =>
      ({ mode, overRoofline, bytesPerFloat: 32 }) as ModeResult;
    const met = checkTargets([], [line('adam (fused clip)', 1.4)]).at(-2)!;
    expect(met).toMatchObject({ measured: 1.4, threshold: OPTIMIZER_ROOFLINE_TARGET, met: true });
    expect(checkTargets([], [line('adam (fused clip)', 6.7)]).at(-2)!.met).toBe(false);
    const dp = checkTargets([], [{ ...line('dp adam (fused)', 1.9), bytesPerFloat: 40 }]).at(-1)!;
    expect(dp).toMatchObject({ measured: 1.9, met: true });
    expect(dp.detail).toContain('× 5 (40 B per float');
  });
});

describe('the report and the CLI front', () => {
  test('formatReport prints a Markdown table, the adapter and each target', () => {
    const text = formatReport(sampleResults());
    const lines = text.split('\n');
    expect(lines[0]).toBe('gradclip benchmark, 2026-11-26: google / swiftshader / SwiftShader');
    const header = lines.findIndex((l) => l.startsWith('| case'));
    expect(lines[header + 1]).toMatch(/^\|-+\|-+\|-+:\|/);
    expect(lines[header + 2]).toMatch(/^\| transformer \| clip p=2 +\| +1234\.5 \| +20\.00 \|/);
    expect(text).toContain(
      'met    transformer, clipping, norm read each step: TF.js time / gradclip time: 7.14 (target >= 5)',
    );
    const widths = lines.slice(header, header + 4).map((l) => l.length);
    expect(new Set(widths).size).toBe(1);
  });

  test('formatReport prints the set-build line when the results have one', () => {
    const setBuild = {
      views: 150,
      firstMs: 4.25,
      laterMs: { median: 1.5, p10: 1.2, p90: 2, min: 1.1, samples: 50 },
      buffersCreatedLater: 0,
    };
    expect(formatReport({ ...sampleResults(), setBuild })).toContain(
      "set build (clipper.gradients() of 150 views, CPU wall time): first 4.25 ms (makes the shape's GPU resources), then median 1.50 ms over 50 builds of the same shape, which created 0 buffers",
    );
    expect(formatReport(sampleResults())).not.toContain('set build');
  });

  test('formatReport prints the step by kernel where gradclip-arena has it', () => {
    const results = sampleResults();
    const arena = results.cases[0].methods.find((m) => m.method === 'gradclip-arena')!;
    arena.passes = [
      { kernel: 'norm_partials', ms: 9, dispatches: 2 },
      { kernel: 'norm_finalize', ms: 0.19, dispatches: 1 },
    ];
    expect(formatReport(results)).toContain(
      `  ${results.cases[0].id} ${results.cases[0].operation}: norm_partials 9.00 (2 dispatches), norm_finalize 0.19`,
    );
    expect(formatReport(sampleResults())).not.toContain('step by kernel');
  });

  test('readCli answers --help and usage errors with exit codes', () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    const error = vi.spyOn(console, 'error').mockImplementation(() => {});
    expect(readCli(['--help'])).toBe(0);
    expect(log).toHaveBeenCalledWith(HELP);
    expect(readCli(['--reps', 'x'])).toBe(2);
    expect(error).toHaveBeenCalledWith('bench: --reps must be an integer >= 1, got "x"');
    expect(readCli(['--quick'])).toMatchObject({ out: 'results/bench.json', help: false });
    log.mockRestore();
    error.mockRestore();
  });
});

describe('time budget', () => {
  const limits = { reps: 21, warmup: 3, budgetMs: 1000 };
  test('timed steps: at least the minimum, then until the budget is spent or reps are taken', () => {
    expect(moreSamples(MIN_SAMPLES - 1, 5000, limits)).toBe(true);
    expect(moreSamples(MIN_SAMPLES, 999, limits)).toBe(true);
    expect(moreSamples(MIN_SAMPLES, 1000, limits)).toBe(false);
    expect(moreSamples(21, 0, limits)).toBe(false);
    expect(moreSamples(20, 1e9, { ...limits, budgetMs: 0 })).toBe(true);
    expect(moreSamples(2, 0, { ...limits, reps: 2 })).toBe(false);
  });
  test('warm-up: one step at least, more while under a quarter of the budget', () => {
    expect(moreWarmup(0, 0, limits)).toBe(true);
    expect(moreWarmup(1, 249, limits)).toBe(true);
    expect(moreWarmup(1, 250, limits)).toBe(false);
    expect(moreWarmup(3, 0, limits)).toBe(false);
    expect(moreWarmup(0, 0, { ...limits, warmup: 0 })).toBe(false);
    expect(moreWarmup(2, 1e9, { ...limits, budgetMs: 0 })).toBe(true);
  });
});

describe('charts', () => {
  test('log ticks: decades, with 2 and 5 between over a short range', () => {
    expect(logTicks(1, 1000)).toEqual([1, 10, 100, 1000]);
    expect(logTicks(10, 100)).toEqual([10, 20, 50, 100]);
  });

  test('an operation chart: one bar per timed method, lengths in log proportion, the roofline at copy × ideal', () => {
    const c = sampleResults().cases[0]; // copy 12 ms, clip by norm: ideal 1.5 → roofline 18 ms
    const svg = operationChart(c)!;
    const widths = [...svg.matchAll(/<rect x="170" y="\d+" width="([\d.]+)"/g)].map((m) => Number(m[1]));
    expect(widths).toHaveLength(c.methods.length);
    // Bars for 20, 21, 150 and 12 ms on a 10–1000 ms axis of 380 px: 190 · log10(v / 10).
    widths.forEach((w, i) => expect(w).toBeCloseTo(190 * Math.log10(c.methods[i].wall!.median / 10), 6));
    const roofline = /<line x1="([\d.]+)"[^>]*stroke-dasharray/.exec(svg)!;
    expect(Number(roofline[1])).toBeCloseTo(170 + 190 * Math.log10(18 / 10), 6);
    expect(svg).toContain('roofline: copy kernel × 1.5');
    expect(svg).toContain('transformer · clip p=2');
  });

  test('a method with a wrong result is flagged on its bar; a case with no timing has no chart', () => {
    const c = structuredClone(sampleResults().cases[0]);
    c.methods[2].check = { ok: false, maxRelativeError: 0.5 };
    expect(operationChart(c)).toContain('wrong result');
    expect(operationChart({ ...c, methods: c.methods.map((m) => ({ ...m, wall: null })) })).toBeNull();
  });

  test('mode and optimizer charts: ratio bars with the baseline and the target marked', () => {
    const mode = (m: ModeResult['mode'], overBaseline: number, overRoofline?: number) =>
      ({
        mode: m,
        baseline: 'clipGradNorm',
        overBaseline,
        overRoofline,
        bytesPerFloat: overRoofline ? 32 : undefined,
        check: { ok: true, maxRelativeError: 0 },
      }) as ModeResult;
    const modes = [mode('clipGradNorm', 1), mode('clipByNorm', 2.5), mode('adam (fused clip)', 2, 1.4)];
    const svg = modesChart(modes)!;
    expect(svg.match(/<rect x="170"/g)).toHaveLength(2); // the baseline itself is the marker, not a bar
    expect(svg).toContain('2.50×');
    const opt = optimizerChart(modes, 2)!;
    expect(opt.match(/<rect x="170"/g)).toHaveLength(1);
    expect(opt).toContain('1.40×');
    expect(opt).toContain('target for the fused step (≤ 2)');
    expect(optimizerChart([mode('clipByNorm', 2)], 2)).toBeNull();
  });

  test('the model.fit chart: a bar per optimizer in ms, each clip overhead noted, the unclipped step marked', () => {
    const method = (m: FitStepResult['methods'][number]['method'], msPerStep: number, overheadPercent: number) => ({
      method: m,
      label: m,
      msPerStep,
      overheadPercent,
    });
    const svg = fitStepChart({
      parameters: 806170,
      batch: 8,
      context: 64,
      rounds: 3,
      stepsPerRound: 3,
      methods: [
        method('adam', 9000, 0),
        method('adam-ops-clip', 9300, 3.3),
        method('clipped-optimizer', 8950, -0.6),
        method('fused-adamw', 9100, 1.1),
      ],
    });
    expect(svg.match(/<rect x="170"/g)).toHaveLength(4);
    expect(svg).toContain('806,170 parameters');
    expect(svg).toContain('clip +3.3 %');
    expect(svg).toContain('clip -0.6 %');
    expect(svg).toContain('tf.train.adam, no clip');
  });

  test('text is escaped', () => {
    expect(barChart('a < b & c', [{ label: '<x>', value: 1, color: '#000' }], [], 'ms')).toContain('a &lt; b &amp; c');
  });
});
