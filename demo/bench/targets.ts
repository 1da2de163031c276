// The issue's speed targets, checked on a finished run (never in timed tests).
import type { ModeResult } from './modes';
import type { CaseResult, TargetCheck } from './schema';

/** The fused clip + Adam step's time over the copy kernel's time for its bytes, at most (issue 18). */
export const OPTIMIZER_ROOFLINE_TARGET = 2;

/** The zero-chunk cases' time over the dense transformer's, at most (issue 18): case id, ratio, what it is. */
export const ZERO_CHUNK_TARGETS = [
  ['zero-grads', 1.1, 'all-zero gradients'],
  ['sparse-embedding', 1.05, 'embeddings zero but every 50th row'],
] as const;

/** Mode lines held to a ratio of their baseline line (issues 23–25): the line, the ratio at most, what it says. */
export const MODE_TARGETS = [
  ['clipByNorm', 1.2, 'clipByNorm (a norm and a clip per view) / clipGradNorm, same bytes'],
  ['perTensorNorms', 1.1, 'perTensorNorms / getTotalNorm, same bytes'],
  ['getTotalNorm (odd lengths)', 2, '10 000 tensors of 1–255 floats / one tensor of the same floats, not clipping'],
  ['adaptiveGradClip', 1.5, 'adaptiveGradClip (per row) / clipGradNorm, same gradients'],
  ['clipPerExample', 1.5, 'clipPerExample / clipGradNorm over the same per-example bytes'],
  ['clipPerExample + noise', 1.7, 'clipPerExample with noise and a divisor / clipGradNorm, same bytes'],
  ['clipGradNorm + scaler', 1.05, 'clipGradNorm with a GradScaler / without it, same bytes'],
  ['adam (fused clip) + scaler', 1.05, 'the fused clip + Adam step with a GradScaler / without it'],
  ['clipGradNorm f16', 0.6, 'clipGradNorm over f16 gradients / over f32 ones of the same count'],
] as const;

/** The device's first createClipper() (autotune and compile included), at most (ms; issue 25). */
export const START_UP_TARGET_MS = 1000;

/** "≥ 4 M floats" in the issue's targets. */
const FOUR_M = 4_000_000;

function method(c: Pick<CaseResult, 'methods'>, name: string) {
  return c.methods.find((m) => m.method === name);
}

export function checkTargets(
  cases: CaseResult[],
  modes: readonly ModeResult[] = [],
  startUp: { createMs: number; reloadCreateMs: number | null } | null = null,
): TargetCheck[] {
  const targets: TargetCheck[] = [];
  const reloadMs = startUp?.reloadCreateMs ?? null;
  targets.push({
    name: "start-up, a page reload's: the first createClipper() on a fresh device, autotune included: ms",
    measured: reloadMs,
    comparison: '<=',
    threshold: START_UP_TARGET_MS,
    met: reloadMs === null ? null : reloadMs <= START_UP_TARGET_MS,
    detail: startUp
      ? `wall time from the call to its resolution on a second device of the adapter; on the run's first device, the browser's first WebGPU work: ${startUp.createMs.toFixed(0)} ms`
      : 'not in this run',
  });

  const transformer = cases.find((c) => c.id === 'transformer' && c.operation === 'clip-norm' && c.normType === 2);
  const speedup = transformer?.ratios.tfjsOverGradclip ?? null;
  targets.push({
    name: 'transformer, clipping, norm read each step: TF.js time / gradclip time',
    measured: speedup,
    comparison: '>=',
    threshold: 5,
    met: speedup === null ? null : speedup >= 5,
    detail: 'tfjs vs gradclip-arena-read, wall medians in the same run',
  });

  for (const [operation, threshold] of [
    ['clip-norm', 2],
    ['no-clip-norm', 1],
  ] as const) {
    const large = cases.filter((c) => c.elements >= FOUR_M && c.operation === operation && c.normType === 2);
    const ratios = large.map((c) => c.ratios.gradclipOverCopyKernel).filter((r): r is number => r !== null);
    const worst = ratios.length ? Math.max(...ratios) : null;
    targets.push({
      name: `>= 4 M floats, ${operation === 'clip-norm' ? 'clipping' : 'not clipping'}: gradclip / copy kernel (worst case)`,
      measured: worst,
      comparison: '<=',
      threshold,
      met: worst === null ? null : worst <= threshold,
      detail: `${ratios.length} cases: ${large.map((c) => `${c.id} ${c.ratios.gradclipOverCopyKernel?.toFixed(2) ?? '-'}`).join(', ')}`,
    });
  }

  const arenaCounters = cases
    .filter((c) => c.operation === 'clip-norm' && c.normType === 2)
    .map((c) => ({ c, counters: method(c, 'gradclip-arena')?.counters }))
    .filter((x) => x.counters);
  const dispatches = new Set(arenaCounters.map((x) => x.counters!.dispatches));
  targets.push({
    name: 'arena: dispatches per step constant in tensor count',
    measured: dispatches.size === 1 ? [...dispatches][0] : null,
    comparison: '==',
    threshold: dispatches.size === 1 ? [...dispatches][0] : NaN,
    met: arenaCounters.length ? dispatches.size === 1 : null,
    detail: arenaCounters.map((x) => `${x.c.tensors} tensors: ${x.counters!.dispatches}`).join(', '),
  });
  const counterTarget = (name: string, key: 'submits' | 'buffersCreated', expected: number, detail: string) => {
    const worst = Math.max(0, ...arenaCounters.map((x) => x.counters![key]));
    targets.push({
      name,
      measured: arenaCounters.length ? worst : null,
      comparison: '==',
      threshold: expected,
      met: arenaCounters.length ? worst === expected : null,
      detail,
    });
  };
  counterTarget('one submit per step', 'submits', 1, 'gradclip-arena, most submits per step over the cases');
  counterTarget(
    'buffers created per step after the first',
    'buffersCreated',
    0,
    'gradclip-arena, createBuffer calls counted over untimed steps',
  );

  // Zero chunks cost what dense ones do (no second read): the same bytes, not clipping, same run.
  // GPU-timestamp medians where both cases have them: the kernels' time, which a second read
  // would raise, without the submit-to-completion path that other processes' load inflates.
  const noClip = (id: string) =>
    method(
      cases.find((c) => c.id === id && c.operation === 'no-clip-norm' && c.normType === 2) ?? { methods: [] },
      'gradclip-arena',
    );
  const dense = noClip('transformer');
  for (const [id, threshold, what] of ZERO_CHUNK_TARGETS) {
    const sparse = noClip(id);
    const clock = sparse?.gpu && dense?.gpu ? 'gpu' : 'wall';
    const ms = sparse?.[clock]?.median ?? null;
    const denseMs = dense?.[clock]?.median ?? null;
    const measured = ms !== null && denseMs !== null ? ms / denseMs : null;
    targets.push({
      name: `${what}, not clipping: time / the dense transformer's`,
      measured,
      comparison: '<=',
      threshold,
      met: measured === null ? null : measured <= threshold,
      detail: sparse
        ? `gradclip-arena ${clock === 'gpu' ? 'GPU-timestamp' : 'wall'} medians in the same run: ${id} ${ms?.toFixed(2) ?? '-'} ms, transformer ${denseMs?.toFixed(2) ?? '-'} ms`
        : `not in this run: npm run bench -- --preset transformer,${ZERO_CHUNK_TARGETS.map(([c]) => c).join(',')} --methods gradclip-arena --operations no-clip-l2 --modes no`,
    });
  }

  for (const [mode, threshold, what] of MODE_TARGETS) {
    const line = modes.find((m) => m.mode === mode);
    // GPU-timestamp medians where the run has them (the kernels' time), else wall medians.
    const clock = line?.gpuOverBaseline != null ? 'GPU-timestamp' : 'wall';
    const measured = line?.gpuOverBaseline ?? line?.overBaseline ?? null;
    targets.push({
      name: `${what}: time ratio`,
      measured,
      comparison: '<=',
      threshold,
      met: measured === null ? null : measured <= threshold,
      detail: line?.skipped
        ? `not run here: ${line.skipped}`
        : line
          ? `median over rounds of "${mode}" / "${line.baseline}" (${clock} times, both timed in each round)`
          : `not in this run: npm run bench -- --modes "${mode}"`,
    });
  }

  for (const [mode, what] of ROOFLINE_TARGETS) {
    const line = modes.find((m) => m.mode === mode);
    // GPU timestamps where the run has them (the kernels' time): a wall median carries the fixed
    // submit-to-completion cost, which the roofline's multiplier would multiply too.
    const clock = line?.gpuOverRoofline != null ? 'GPU-timestamp' : 'wall';
    const measured = line?.gpuOverRoofline ?? line?.overRoofline ?? null;
    const bytes = line?.bytesPerFloat;
    targets.push({
      name: `${what}: time / roofline`,
      measured,
      comparison: '<=',
      threshold: OPTIMIZER_ROOFLINE_TARGET,
      met: measured === null ? null : measured <= OPTIMIZER_ROOFLINE_TARGET,
      detail: line
        ? `median over rounds of ${clock} times; roofline = the copy kernel's time in the same round × ${(bytes ?? 8) / 8} (${bytes} B per float against its 8)`
        : `not in this run: npm run bench -- --modes "${mode}"`,
    });
  }
  return targets;
}

/** Lines held to OPTIMIZER_ROOFLINE_TARGET × their roofline (issues 18 and 24): the line, what it is. */
export const ROOFLINE_TARGETS = [
  ['adam (fused clip)', 'fused clip + Adam step'],
  ['dp adam (fused)', 'DP-SGD Adam step (per-example clip, sum, noise, divide, update)'],
] as const;
