// The training demo's page: controls, two live log-scale charts (loss; gradient norm with the
// clip thresholds, NaN/Inf steps marked) and a summary table. demo/train/run.ts trains; this
// module only presents. The CLI (demo/train/cli.ts) drives it through `window.gradclipTrain.run`.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { tfjsOn } from './tfjs-device';
import type { StepRecord } from './train/monitor';
import { trainSideBySide, type TrainOptions } from './train/run';
import {
  CLIP_MODES,
  DEFAULT_SETTINGS,
  MODE_LABELS,
  type ClipMode,
  type RunOutcome,
  type TrainSettings,
} from './train/settings';
import { pageDevice } from './page-device';
import { StartStop } from './start-stop';

declare global {
  interface Window {
    gradclipTrain: {
      run(options: TrainOptions): Promise<RunOutcome[]>;
      outcomes: RunOutcome[] | null;
    };
  }
}

const $ = <T extends HTMLElement>(selector: string) => document.querySelector(selector) as T;
const form = $<HTMLFormElement>('#controls');
const COLORS: Record<ClipMode, string> = { none: '#b00020', norm: '#1565c0', value: '#00897b', autoclip: '#ef6c00' };
const field = (name: string) => form.elements.namedItem(name) as HTMLInputElement;
const buttons = new StartStop($<HTMLButtonElement>('#start'), $<HTMLButtonElement>('#stop'));
for (const [name, value] of Object.entries(DEFAULT_SETTINGS)) field(name).value = String(value);

/** The charts' y range: a diverging run leaves it at the top, where its markers sit. */
const Y_RANGE: [number, number] = [1e-2, 1e4];
/** Values a log axis can draw: non-finite or non-positive values become gaps, huge ones the top. */
const drawable = (v: number) => (Number.isFinite(v) && v > 0 ? Math.min(v, Y_RANGE[1]) : null);

/** The live charts: x = step; one loss and one norm series per run, thresholds, NaN/Inf markers. */
class Charts {
  private readonly steps: number[] = [];
  private readonly data = new Map<ClipMode, StepRecord[]>();
  private readonly loss: uPlot;
  private readonly norm: uPlot;

  constructor(
    private readonly modes: readonly ClipMode[],
    private readonly settings: TrainSettings,
  ) {
    const figure = (title: string) => {
      const f = document.createElement('figure');
      f.innerHTML = `<figcaption>${title}</figcaption>`;
      return f;
    };
    const lossFigure = figure('Training loss (log scale; circles at the top = loss NaN/Inf)');
    const normFigure = figure(
      'Gradient norm before clipping (dashed = thresholds; circles = NaN/Inf gradients, step skipped)',
    );
    $('#charts').replaceChildren(lossFigure, normFigure);
    const marker = (mode: ClipMode) => ({
      label: `${mode} NaN/Inf`,
      stroke: COLORS[mode],
      width: 0,
      points: { show: true, size: 9, width: 2, fill: '#fff' },
      paths: () => null,
    });
    const line = (mode: ClipMode) => ({ label: MODE_LABELS[mode], stroke: COLORS[mode], width: 2, spanGaps: false });
    const options = (yLabel: string, extra: uPlot.Series[]): uPlot.Options => ({
      width: 600,
      height: 340,
      scales: { x: { time: false }, y: { distr: 3, log: 10, range: Y_RANGE } },
      axes: [{ label: 'step' }, { label: yLabel, size: 70 }],
      series: [{ label: 'step' }, ...modes.map(line), ...extra, ...modes.map(marker)],
    });
    const thresholds: uPlot.Series[] = [];
    if (modes.includes('norm'))
      thresholds.push({ label: `max norm ${settings.maxNorm}`, stroke: COLORS.norm, dash: [6, 4], width: 1 });
    if (modes.includes('autoclip'))
      thresholds.push({ label: 'AutoClip threshold', stroke: COLORS.autoclip, dash: [6, 4], width: 1 });
    this.loss = new uPlot(options('loss', []), this.aligned('loss'), lossFigure);
    this.norm = new uPlot(options('‖g‖₂', thresholds), this.aligned('norm'), normFigure);
  }

  add(mode: ClipMode, records: StepRecord[]): void {
    const list = this.data.get(mode) ?? [];
    list.push(...records);
    this.data.set(mode, list);
    for (const r of records)
      if (this.steps.length <= r.step)
        this.steps.push(...Array.from({ length: r.step + 1 - this.steps.length }, (_, i) => this.steps.length + i));
    this.loss.setData(this.aligned('loss'));
    this.norm.setData(this.aligned('norm'));
  }

  private aligned(what: 'loss' | 'norm'): uPlot.AlignedData {
    const at = (mode: ClipMode) => {
      const column: Array<StepRecord | undefined> = new Array(this.steps.length);
      for (const r of this.data.get(mode) ?? []) column[r.step] = r;
      return column;
    };
    const columns = this.modes.map(at);
    const values = columns.map((c) => c.map((r) => (r ? drawable(r[what]) : null)));
    // Markers sit at the top, on steps whose loss (or gradients) were not finite.
    const markers = columns.map((c) =>
      c.map((r) => (r && (what === 'loss' ? !Number.isFinite(r.loss) : r.nonfinite) ? Y_RANGE[1] : null)),
    );
    const thresholds: Array<Array<number | null>> = [];
    if (what === 'norm') {
      if (this.modes.includes('norm')) thresholds.push(this.steps.map(() => this.settings.maxNorm));
      if (this.modes.includes('autoclip'))
        thresholds.push(columns[this.modes.indexOf('autoclip')].map((r) => (r ? drawable(r.threshold) : null)));
    }
    return [this.steps, ...values, ...thresholds, ...markers] as uPlot.AlignedData;
  }
}

function renderSummary(outcomes: readonly RunOutcome[]) {
  const table = $<HTMLTableElement>('#summary');
  table.innerHTML =
    '<tr><th>run</th><th>outcome</th><th>loss, first 5 steps</th><th>loss, last 5 steps</th><th>NaN/Inf steps skipped</th><th>readbacks</th></tr>';
  for (const o of outcomes) {
    const tr = table.insertRow();
    tr.insertCell().textContent = MODE_LABELS[o.mode];
    const outcome = tr.insertCell();
    outcome.textContent = o.diverged ? `diverged at step ${o.divergedAt}` : 'trained';
    if (o.diverged) outcome.className = 'bad';
    for (const v of [
      o.firstLoss.toPrecision(3),
      Number.isFinite(o.lastLoss) ? o.lastLoss.toPrecision(3) : String(o.lastLoss),
      String(o.nonfiniteSteps),
      String(o.mapAsyncCalls),
    ])
      tr.insertCell().textContent = v;
  }
}

async function run(options: TrainOptions): Promise<RunOutcome[]> {
  const dev = await pageDevice();
  const tf = await tfjsOn(dev);
  await import('@tensorflow/tfjs-core/dist/register_all_gradients');
  const settings = { ...DEFAULT_SETTINGS, ...options.settings };
  const modes = options.modes ?? CLIP_MODES;
  const charts = new Charts(modes, settings);
  return buttons.during(options.stopped, async (stopped) => {
    const outcomes = await trainSideBySide(tf, dev, {
      ...options,
      settings,
      modes,
      onRecords: (mode, records) => {
        charts.add(mode, records);
        options.onRecords?.(mode, records);
      },
      stopped,
    });
    window.gradclipTrain.outcomes = outcomes;
    renderSummary(outcomes);
    return outcomes;
  });
}

window.gradclipTrain = { run, outcomes: null };

form.addEventListener('submit', (event) => {
  event.preventDefault();
  const settings = Object.fromEntries(
    Object.keys(DEFAULT_SETTINGS).map((name) => [name, Number(field(name).value)]),
  ) as unknown as TrainSettings;
  const modes = Array.from(
    form.querySelectorAll<HTMLInputElement>('input[name=mode]:checked'),
    (i) => i.value as ClipMode,
  );
  run({ modes, steps: Number(field('steps').value), settings }).catch(
    (error) => ($('#adapter').textContent = String(error)),
  );
});

pageDevice().catch((error) => ($('#adapter').textContent = String(error)));
