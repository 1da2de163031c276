// Each benchmark method runs one small case and its result matches the float64 reference: a
// method that is fast because it is wrong fails here.
import { expect, test } from 'vitest';
import { runBenchmark } from '../../demo/bench/harness';
import { METHODS, OPERATIONS, type BenchConfig } from '../../demo/bench/config';
import { MIN_SAMPLES } from '../../demo/bench/budget';
import { validateResults } from '../../demo/bench/schema';
import { MODES, runModes } from '../../demo/bench/modes';
import { transformerShapes } from '../../demo/bench/cases';
import { sharedDevice } from './gpu';

test('every method on a small preset and sweep points, checked against the reference', async () => {
  const device = await sharedDevice();
  const config: BenchConfig = {
    presets: [],
    custom: [],
    sizes: [5000],
    counts: [7],
    methods: [...METHODS],
    operations: [...OPERATIONS],
    reps: 2,
    warmup: 1,
    budgetMs: 0,
    modes: [],
    fitStep: false,
  };
  const progress: string[] = [];
  const results = await runBenchmark(device, config, (p) => progress.push(`${p.done}/${p.total} ${p.label}`));
  expect(validateResults(results)).toEqual([]);
  expect(results.cases.map((c) => `${c.id} ${c.operation}`)).toEqual([
    'size-5000 clip-norm',
    'size-5000 no-clip-norm',
    'count-7 clip-norm',
  ]);
  for (const c of results.cases) {
    for (const m of c.methods) {
      expect(m.error, `${c.id} ${c.operation} ${m.method}`).toBeUndefined();
      expect(m.check?.ok, `${c.id} ${c.operation} ${m.method}: error ${m.check?.maxRelativeError}`).toBe(true);
      expect(m.wall!.samples).toBe(2);
    }
    const arena = c.methods.find((m) => m.method === 'gradclip-arena')!;
    expect(arena.counters).toEqual({ dispatches: 3, submits: 1, buffersCreated: 0 });
    // The step by kernel, from timestamps around each dispatch: the norm's two passes and the scale.
    if (device.features.has('timestamp-query')) {
      expect(arena.passes?.map((p) => [p.kernel, p.dispatches])).toEqual([
        ['norm_partials', 1],
        ['norm_finalize', 1],
        ['elementwise', 1],
      ]);
      for (const p of arena.passes!) expect(p.ms).toBeGreaterThanOrEqual(0);
      expect(arena.passes![0].ms).toBeGreaterThan(0);
    } else {
      expect(arena.passes).toBeUndefined();
    }
  }
  expect(progress.at(-1)).toBe(`${3 * METHODS.length}/${3 * METHODS.length} done`);
  // The set-build line: 150 views, and later builds of the same shape served by the pool.
  expect(results.setBuild?.views).toBe(150);
  expect(results.setBuild?.laterMs.samples).toBe(50);
  expect(results.setBuild?.buffersCreatedLater).toBe(0);
});

test('presets cover ∞-norm and clip by value, and the naive baseline says where it does not apply', async () => {
  const device = await sharedDevice();
  const config: BenchConfig = {
    presets: ['mlp'],
    custom: [],
    sizes: [],
    counts: [],
    methods: ['gradclip-arena', 'tfjs', 'naive', 'cpu'],
    operations: [...OPERATIONS],
    reps: 1,
    warmup: 0,
    budgetMs: 0,
    modes: [],
    fitStep: false,
  };
  const results = await runBenchmark(device, config);
  expect(results.cases.map((c) => `${c.operation} ${c.normType}`)).toEqual([
    'clip-norm 2',
    'no-clip-norm 2',
    'clip-norm inf',
    'clip-value null',
  ]);
  for (const c of results.cases) {
    for (const m of c.methods) {
      if (m.method === 'naive' && c.operation === 'clip-value') {
        expect(m.error).toMatch(/not applicable/);
        continue;
      }
      expect(m.error, `${c.operation} ${m.method}`).toBeUndefined();
      expect(m.check?.ok, `${c.operation} ${c.normType} ${m.method}: ${m.check?.maxRelativeError}`).toBe(true);
    }
  }
});

test('every clipping mode is timed against clipGradNorm and matches the CPU backend', async () => {
  const device = await sharedDevice();
  const config: BenchConfig = {
    presets: [],
    custom: [],
    sizes: [],
    counts: [],
    methods: [],
    operations: [],
    reps: 3,
    warmup: 3,
    budgetMs: 0,
    modes: [...MODES],
    fitStep: false,
  };
  // A small transformer (2 layers of width 16) keeps this quick; the benchmark runs the full preset.
  const modes = await runModes(device, config, () => {}, transformerShapes(2, 16, 64, 16));
  expect(modes.map((m) => m.mode)).toEqual([...MODES]);
  for (const m of modes) {
    expect(m.error, m.mode).toBeUndefined();
    if (m.mode === 'clipGradNorm f16' && !device.features.has('shader-f16')) {
      // SwiftShader: the f16 line says why it did not run (Deno on lavapipe runs it: test/deno/f16.ts).
      expect(m.skipped).toBe('the device lacks shader-f16');
      expect(m.wall).toBeNull();
      continue;
    }
    expect(m.skipped, m.mode).toBeUndefined();
    expect(m.check?.ok, `${m.mode}: error ${m.check?.maxRelativeError}`).toBe(true);
    expect(m.wall!.samples).toBe(3);
    expect(m.overBaseline, m.mode).toBeGreaterThan(0);
    // SwiftShader offers timestamp-query: every line also has GPU times, within its wall time.
    expect(device.features.has('timestamp-query')).toBe(true);
    expect(m.gpu!.samples, m.mode).toBe(3);
    expect(m.gpu!.median, m.mode).toBeGreaterThan(0);
    expect(m.gpu!.median, m.mode).toBeLessThanOrEqual(m.wall!.p90 * 1.05 + 0.2);
    expect(m.gpuOverBaseline, m.mode).toBeGreaterThan(0);
  }
  expect(modes.find((m) => m.mode === 'clipGradNorm')!.overBaseline).toBe(1);
});

test('a time budget cuts the timed steps to the minimum; chosen operations and mode lines run with their baselines', async () => {
  const device = await sharedDevice();
  const config: BenchConfig = {
    presets: [],
    custom: [],
    sizes: [5000],
    counts: [],
    methods: ['gradclip-arena', 'copy-kernel'],
    operations: ['no-clip-l2'],
    reps: 21,
    warmup: 3,
    budgetMs: 1, // spent by the first step
    modes: ['adam (fused clip)'],
    fitStep: false,
  };
  const results = await runBenchmark(device, config);
  expect(results.cases.map((c) => `${c.id} ${c.operation}`)).toEqual(['size-5000 no-clip-norm']);
  for (const m of results.cases[0].methods) {
    expect(m.check?.ok, m.method).toBe(true);
    expect(m.wall!.samples, m.method).toBe(MIN_SAMPLES);
  }
  // The fused line's ratios need clipGradNorm and the copy kernel: they run too, in MODES order.
  expect(results.modes!.map((m) => m.mode)).toEqual(['clipGradNorm', 'copy kernel', 'adam (fused clip)']);
  for (const m of results.modes!) {
    expect(m.check?.ok, m.mode).toBe(true);
    expect(m.wall!.samples, m.mode).toBe(MIN_SAMPLES);
  }
  const fused = results.modes![2];
  expect(fused.overRoofline).toBeGreaterThan(0);
  // The target reads GPU timestamps where the run has them (SwiftShader does), else wall medians.
  expect(fused.gpuOverRoofline).toBeGreaterThan(0);
  expect(results.targets.find((t) => t.name.startsWith('fused clip + Adam'))?.measured).toBe(
    fused.gpuOverRoofline ?? fused.overRoofline,
  );
});
