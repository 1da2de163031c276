// Turns results into rows for the terminal table and the page's table (one source for both).
import { PROFILED_STEPS } from './pass-profile';
import type { BenchResults, CaseResult, MethodResult } from './schema';
import { MIN_SAMPLES } from './budget';
import type { BenchConfig } from './config';
import type { FitStepResult } from '../gpt/fit-step';
import type { SetBuildResult } from './set-build';

export interface ReportRow {
  case: string;
  operation: string;
  elements: number;
  tensors: number;
  norm: number | null;
  /** Wall median per method, ms (null where it failed or does not apply). */
  times: Record<string, number | null>;
  gradclipOverCopy: number | null;
  ideal: number;
  tfjsOverGradclip: number | null;
  failures: string[];
}

export function operationLabel(c: Pick<CaseResult, 'operation' | 'normType'>): string {
  if (c.operation === 'clip-value') return 'clip value';
  const p = c.normType === 'inf' ? '∞' : String(c.normType);
  return `${c.operation === 'clip-norm' ? 'clip' : 'no clip'} p=${p}`;
}

function failure(m: MethodResult): string | null {
  if (m.error && !m.error.startsWith('not applicable')) return `${m.method}: ${m.error}`;
  if (m.check && !m.check.ok)
    return `${m.method}: wrong result (max relative error ${m.check.maxRelativeError.toExponential(2)})`;
  return null;
}

export function reportRows(results: BenchResults): ReportRow[] {
  return results.cases.map((c) => ({
    case: c.label,
    operation: operationLabel(c),
    elements: c.elements,
    tensors: c.tensors,
    norm: c.norm,
    times: Object.fromEntries(c.methods.map((m) => [m.method, m.wall && !failure(m) ? m.wall.median : null])),
    gradclipOverCopy: c.ratios.gradclipOverCopyKernel,
    ideal: c.ratios.idealOverCopyKernel,
    tfjsOverGradclip: c.ratios.tfjsOverGradclip,
    failures: c.methods.map(failure).filter((f): f is string => f !== null),
  }));
}

function fmt(value: number | null, digits = 2): string {
  if (value === null || !Number.isFinite(value)) return '-';
  return value >= 100 ? value.toFixed(0) : value.toFixed(digits);
}

/** How many steps each median is over (results from before the budget have none: every rep). */
function stepsText(config: BenchConfig): string {
  if (!config.budgetMs) return `over ${config.reps} steps`;
  return `over ${MIN_SAMPLES}–${config.reps} steps (each method timed until ${config.budgetMs} ms of steps are spent)`;
}

/** A plain-text table (ms medians, ratios) with the adapter and targets, for the terminal and README. */
export function formatReport(results: BenchResults): string {
  const rows = reportRows(results);
  const methods = results.config.methods;
  const header = ['case', 'operation', 'norm', ...methods, 'gc/copy', 'ideal', 'tfjs/gc'];
  const body = rows.map((r) => [
    r.case,
    r.operation,
    r.norm === null ? '-' : r.norm.toPrecision(5),
    ...methods.map((m) => fmt(r.times[m] ?? null)),
    fmt(r.gradclipOverCopy),
    fmt(r.ideal),
    fmt(r.tfjsOverGradclip, 1),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i].length)));
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
  // norm: the float64 reference norm of the case's gradients, which every method's result is checked against.
  const a = results.adapter;
  const out = [
    `gradclip benchmark, ${results.date.slice(0, 10)}: ${[a.vendor, a.architecture, a.description].filter(Boolean).join(' / ') || 'unknown adapter'}`,
    `browser: ${results.browser}; gradclip's autotuned workgroup cap: ${results.tuning?.maxWorkgroups ?? '-'}${startUpText(results.tuning)}`,
    `wall-time medians in ms ${stepsText(results.config)}; gc/copy = gradclip-arena / copy kernel (ideal from the byte model); tfjs/gc = TF.js / gradclip reading the norm each step`,
    '',
    line(header),
    `|${widths.map((w, i) => (i < 2 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`,
    ...body.map(line),
    '',
    'targets:',
    ...results.targets.map(
      (t) =>
        `  ${t.met === null ? '?' : t.met ? 'met   ' : 'MISSED'} ${t.name}: ${fmt(t.measured)} (target ${t.comparison} ${t.threshold}) — ${t.detail}`,
    ),
  ];
  const profiled = formatPasses(results);
  if (profiled.length) out.push('', ...profiled);
  if (results.modes?.length) out.push('', ...formatModes(results));
  if (results.setBuild) out.push('', formatSetBuild(results.setBuild));
  if (results.fitStep) out.push('', ...formatFitStep(results.fitStep));
  const failures = rows.flatMap((r) => r.failures.map((f) => `  ${r.case} ${r.operation}: ${f}`));
  for (const m of results.modes ?? []) {
    if (m.error) failures.push(`  mode ${m.mode}: ${m.error}`);
    else if (m.check && !m.check.ok)
      failures.push(`  mode ${m.mode}: wrong result (max relative error ${m.check.maxRelativeError.toExponential(2)})`);
  }
  if (failures.length) out.push('', 'failures:', ...failures);
  if (results.skipped.length) out.push('', 'skipped:', ...results.skipped.map((s) => `  ${s}`));
  return out.join('\n');
}

/** gradclip-arena's step by kernel (GPU timestamps around each dispatch), a line per case. */
export function formatPasses(results: BenchResults): string[] {
  const lines = results.cases.flatMap((c) => {
    const passes = c.methods.find((m) => m.method === 'gradclip-arena')?.passes;
    if (!passes?.length) return [];
    const kernels = passes.map(
      (p) => `${p.kernel} ${fmt(p.ms)}${p.dispatches > 1 ? ` (${p.dispatches} dispatches)` : ''}`,
    );
    return [`  ${c.id} ${c.operation}: ${kernels.join(', ')}`];
  });
  return lines.length
    ? [
        `gradclip-arena step by kernel (GPU ms, medians of ${PROFILED_STEPS} steps, each dispatch timed alone):`,
        ...lines,
      ]
    : [];
}

/** The set-build line: what clipper.gradients() costs on the CPU for a model's worth of views. */
export function formatSetBuild(b: SetBuildResult): string {
  return (
    `set build (clipper.gradients() of ${b.views} views, CPU wall time): first ${fmt(b.firstMs, 2)} ms (makes the shape's GPU resources), ` +
    `then median ${fmt(b.laterMs.median, 2)} ms over ${b.laterMs.samples} builds of the same shape, which created ${b.buffersCreatedLater} buffers`
  );
}

/** The model.fit line: ms per step per optimizer and the clip's overhead over plain Adam. */
export function formatFitStep(f: FitStepResult): string[] {
  return [
    `model.fit step of the transformer demo's GPT (${f.parameters.toLocaleString('en')} parameters, batch ${f.batch} × ${f.context} tokens; median of ${f.rounds} interleaved rounds of ${f.stepsPerRound} steps):`,
    ...f.methods.map(
      (m) =>
        `  ${m.label.padEnd(50)} ${fmt(m.msPerStep, 1).padStart(8)} ms/step` +
        (m.method === 'adam'
          ? ''
          : `   clip overhead ${m.overheadPercent >= 0 ? '+' : ''}${fmt(m.overheadPercent, 1)} %`),
    ),
  ];
}

/** The modes' lines: wall median per step and the ratio to plain clipGradNorm on the same bytes. */
export function formatModes(results: BenchResults): string[] {
  const modes = results.modes ?? [];
  const withGpu = modes.some((m) => m.gpu);
  const header = [
    'mode',
    'elements',
    'ms',
    'vs clipGradNorm',
    'vs roofline',
    ...(withGpu ? ['GPU ms', 'GPU vs clipGradNorm', 'GPU vs roofline'] : []),
    'check',
    'step',
  ];
  const body = modes.map((m) => [
    m.mode,
    m.elements.toLocaleString('en-US'),
    fmt(m.wall?.median ?? null),
    m.mode === m.baseline ? '1 (baseline)' : fmt(m.overBaseline),
    m.bytesPerFloat ? fmt(m.overRoofline ?? null) : '',
    ...(withGpu
      ? [
          fmt(m.gpu?.median ?? null),
          m.mode === m.baseline ? '1 (baseline)' : fmt(m.gpuOverBaseline ?? null),
          m.bytesPerFloat ? fmt(m.gpuOverRoofline ?? null) : '',
        ]
      : []),
    m.error ? 'error' : m.skipped ? 'skipped' : m.check ? (m.check.ok ? 'ok' : 'WRONG') : '-',
    m.skipped ? `not run here: ${m.skipped}` : m.label,
  ]);
  const text = new Set([0, header.length - 1]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i].length)));
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => (text.has(i) ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
  return [
    `clipping modes (wall${withGpu ? ' and GPU-timestamp' : ''} medians ${stepsText(results.config)}; each divided by clipGradNorm on the same bytes in this run;`,
    `vs roofline: divided by the copy kernel's time for the bytes the step must move):`,
    line(header),
    `|${widths.map((w, i) => (text.has(i) ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`,
    ...body.map(line),
  ];
}

/** The start-up times, where the run has them. */
function startUpText(tuning: BenchResults['tuning'] | undefined): string {
  if (tuning?.createMs === undefined) return '';
  const autotune = tuning.autotuneMs == null ? '' : `, autotune ${tuning.autotuneMs.toFixed(0)} ms`;
  const reload = tuning.reloadCreateMs == null ? '' : `; on a second device ${tuning.reloadCreateMs.toFixed(0)} ms`;
  return ` (first createClipper() ${tuning.createMs.toFixed(0)} ms${autotune}${reload})`;
}
