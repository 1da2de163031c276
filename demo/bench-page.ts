// The benchmark page: controls, a live progress bar, charts (uPlot), the results table and a JSON
// download. It only presents: demo/bench/harness.ts measures. The CLI drives it through
// `window.gradclipBench.run(config)`.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import {
  DEFAULT_CONFIG,
  FULL_CONFIG,
  METHODS,
  MODES,
  OPERATIONS,
  type BenchConfig,
  type MethodName,
} from './bench/config';
import { METHOD_COLORS, fitStepChart, modesChart, operationChart, optimizerChart } from './bench/charts';
import { runBenchmark, type Progress } from './bench/harness';
import { formatModes, formatReport, reportRows } from './bench/report';
import type { BenchResults, CaseResult } from './bench/schema';
import { OPTIMIZER_ROOFLINE_TARGET } from './bench/targets';
import { pageDevice } from './page-device';

declare global {
  interface Window {
    gradclipBench: {
      run(config: BenchConfig): Promise<BenchResults>;
      results: BenchResults | null;
    };
    /** Set by the CLI (Playwright exposeFunction) to follow progress in the terminal. */
    benchProgress?: (p: Progress) => void;
  }
}

const $ = <T extends HTMLElement>(selector: string) => document.querySelector(selector) as T;
const form = $<HTMLFormElement>('#controls');

for (const method of METHODS) {
  const label = document.createElement('label');
  label.innerHTML = `<input type="checkbox" name="method" value="${method}" checked /> ${method}`;
  $('#methods').append(label);
}
form.querySelectorAll<HTMLInputElement>('input[name="preset"]').forEach((input) => {
  input.checked = DEFAULT_CONFIG.presets.includes(input.value as BenchConfig['presets'][number]);
});
(form.elements.namedItem('sizes') as HTMLInputElement).placeholder = `e.g. ${FULL_CONFIG.sizes.join(',')}`;
(form.elements.namedItem('counts') as HTMLInputElement).placeholder = `e.g. ${FULL_CONFIG.counts.join(',')}`;
(form.elements.namedItem('budget') as HTMLInputElement).value = String(DEFAULT_CONFIG.budgetMs);

function numbers(name: string): number[] {
  const text = (form.elements.namedItem(name) as HTMLInputElement).value.trim();
  return text
    ? text
        .split(',')
        .map((s) => Number(s.trim()))
        .filter((n) => Number.isInteger(n) && n > 0)
    : [];
}

function configFromForm(): BenchConfig {
  const data = new FormData(form);
  return {
    presets: data.getAll('preset') as BenchConfig['presets'],
    custom: numbers('custom'),
    sizes: numbers('sizes'),
    counts: numbers('counts'),
    methods: data.getAll('method') as MethodName[],
    operations: [...OPERATIONS],
    reps: Math.max(1, Number(data.get('reps')) | 0),
    warmup: Math.max(0, Number(data.get('warmup')) | 0),
    budgetMs: Math.max(0, Number(data.get('budget')) | 0),
    modes: data.get('modes') === 'yes' ? [...MODES] : [],
    fitStep: data.get('fitStep') === 'yes',
  };
}

function showProgress(p: Progress) {
  $<HTMLProgressElement>('#progress').value = p.total ? p.done / p.total : 1;
  $('#progress-label').textContent = `${p.done}/${p.total} ${p.label}`;
  window.benchProgress?.(p);
}

function renderTable(results: BenchResults) {
  const rows = reportRows(results);
  const methods = results.config.methods;
  const table = document.createElement('table');
  const head = ['case', 'operation', 'norm', ...methods, 'gc/copy', 'ideal', 'tfjs/gc'];
  table.innerHTML = `<thead><tr>${head.map((h) => `<th>${h}</th>`).join('')}</tr></thead>`;
  const body = table.createTBody();
  rows.forEach((r, i) => {
    const tr = body.insertRow();
    const c = results.cases[i];
    const cells = [r.case, r.operation, r.norm === null ? '–' : r.norm.toPrecision(5)];
    tr.innerHTML = cells.map((x) => `<td>${x}</td>`).join('');
    for (const m of methods) {
      const td = tr.insertCell();
      const result = c.methods.find((x) => x.method === m);
      const t = r.times[m];
      td.textContent = t === null || t === undefined ? '–' : t.toFixed(2);
      if (result?.wall)
        td.title = `p10 ${result.wall.p10.toFixed(2)} · p90 ${result.wall.p90.toFixed(2)}${result.gpu ? ` · GPU ${result.gpu.median.toFixed(2)}` : ''}`;
      if (result?.error) td.title = result.error;
      if (r.failures.some((f) => f.startsWith(`${m}:`))) td.className = 'bad';
    }
    for (const v of [r.gradclipOverCopy, r.ideal, r.tfjsOverGradclip])
      tr.insertCell().textContent = v === null ? '–' : v.toFixed(2);
  });
  const modes = document.createElement('pre');
  modes.textContent = results.modes?.length ? formatModes(results).join('\n') : '';
  $('#table').replaceChildren(table, modes);
  $('#targets').replaceChildren(
    ...results.targets.map((t) => {
      const li = document.createElement('li');
      li.className = t.met === null ? '' : t.met ? 'met' : 'missed';
      li.textContent = `${t.met === null ? '?' : t.met ? 'met' : 'missed'}: ${t.name}: ${t.measured === null ? '–' : t.measured.toFixed(2)} (target ${t.comparison} ${t.threshold}) — ${t.detail}`;
      return li;
    }),
  );
}

/** One log–log chart: wall median per method against the case's x (elements or tensors). */
function chart(
  title: string,
  cases: CaseResult[],
  x: (c: CaseResult) => number,
  xLabel: string,
  methods: MethodName[],
) {
  if (cases.length < 2) return null;
  const sorted = [...cases].sort((a, b) => x(a) - x(b));
  const xs = sorted.map(x);
  const series = methods.map((m) => sorted.map((c) => c.methods.find((r) => r.method === m)?.wall?.median ?? null));
  const figure = document.createElement('figure');
  figure.innerHTML = `<figcaption>${title}</figcaption>`;
  new uPlot(
    {
      width: 560,
      height: 320,
      scales: { x: { time: false, distr: 3 }, y: { distr: 3 } },
      axes: [{ label: xLabel }, { label: 'ms per step (median)' }],
      series: [
        { label: xLabel },
        ...methods.map((m) => ({ label: m, stroke: METHOD_COLORS[m], width: 2, points: { show: true } })),
      ],
    },
    [xs, ...series] as uPlot.AlignedData,
    figure,
  );
  return figure;
}

/** An SVG string as an element in a figure. */
function svgFigure(svg: string): HTMLElement {
  const figure = document.createElement('figure');
  figure.innerHTML = svg;
  return figure;
}

function renderCharts(results: BenchResults) {
  const methods = results.config.methods;
  const clip = (c: CaseResult) => c.operation === 'clip-norm' && c.normType === 2;
  const noClip = (c: CaseResult) => c.operation === 'no-clip-norm';
  const bars = [
    ...results.cases.filter((c) => c.series === 'preset').map(operationChart),
    results.modes ? modesChart(results.modes) : null,
    results.modes ? optimizerChart(results.modes, OPTIMIZER_ROOFLINE_TARGET) : null,
    results.fitStep ? fitStepChart(results.fitStep) : null,
  ]
    .filter((svg): svg is string => svg !== null)
    .map(svgFigure);
  const sweeps = [
    chart(
      'Time vs total size (clipping, p = 2)',
      results.cases.filter((c) => c.series === 'size' && clip(c)),
      (c) => c.elements,
      'floats',
      methods,
    ),
    chart(
      'Time vs total size (not clipping)',
      results.cases.filter((c) => c.series === 'size' && noClip(c)),
      (c) => c.elements,
      'floats',
      methods,
    ),
    chart(
      'Time vs tensor count (1 M floats, clipping)',
      results.cases.filter((c) => c.series === 'count'),
      (c) => c.tensors,
      'tensors',
      methods,
    ),
  ].filter((f): f is HTMLElement => f !== null);
  const a = results.adapter;
  const caption = document.createElement('p');
  caption.className = 'chart-caption';
  caption.textContent = `gradclip benchmark ${results.date.slice(0, 10)} · ${[a.vendor, a.architecture, a.description].filter(Boolean).join(' / ')} · workgroup cap ${results.tuning.maxWorkgroups ?? '–'} · wall-time medians`;
  $('#charts').replaceChildren(caption, ...bars, ...sweeps);
}

async function run(config: BenchConfig): Promise<BenchResults> {
  $<HTMLButtonElement>('#run').disabled = true;
  try {
    const results = await runBenchmark(await pageDevice(), config, showProgress);
    window.gradclipBench.results = results;
    renderTable(results);
    renderCharts(results);
    $('#adapter').textContent +=
      ` · ${results.timestamps.note} · autotuned workgroup cap ${results.tuning.maxWorkgroups ?? '–'}`;
    console.log(formatReport(results));
    $<HTMLButtonElement>('#download').disabled = false;
    return results;
  } finally {
    $<HTMLButtonElement>('#run').disabled = false;
  }
}

window.gradclipBench = { run, results: null };

form.addEventListener('submit', (event) => {
  event.preventDefault();
  run(configFromForm()).catch((error) => ($('#progress-label').textContent = String(error)));
});

$('#download').addEventListener('click', () => {
  const blob = new Blob([JSON.stringify(window.gradclipBench.results, null, 2)], { type: 'application/json' });
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = 'gradclip-bench.json';
  a.click();
});

pageDevice().catch((error) => ($('#adapter').textContent = String(error)));
