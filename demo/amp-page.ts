// The AMP demo's page: controls, three live charts (loss; the GradScaler's scale with its
// backoffs; the fraction of gradients flushed to zero) and a summary table. demo/amp/run.ts
// trains; this module only presents. The CLI (demo/amp/cli.ts) and the outcome test drive it
// through `window.gradclipAmp.run`.
import { ampUnsupported, trainAmp, type AmpTrainOptions } from './amp/run';
import {
  AMP_RUN_LABELS,
  AMP_RUNS,
  DEFAULT_AMP_SETTINGS,
  DEFAULT_AMP_STEPS,
  type AmpOutcome,
  type AmpRecord,
  type AmpRun,
} from './amp/settings';
import { LiveChart } from './live-chart';
import { pageDevice } from './page-device';
import { StartStop } from './start-stop';

declare global {
  interface Window {
    gradclipAmp: {
      run(options?: AmpTrainOptions): Promise<AmpOutcome[]>;
      /** Why the demo cannot run on this page's adapter, or null. */
      unsupported(): Promise<string | null>;
      outcomes: AmpOutcome[] | null;
    };
  }
}

const $ = <T extends HTMLElement>(selector: string) => document.querySelector(selector) as T;
const form = $<HTMLFormElement>('#controls');
const field = (name: string) => form.elements.namedItem(name) as HTMLInputElement;
const buttons = new StartStop($<HTMLButtonElement>('#start'), $<HTMLButtonElement>('#stop'));
const FORM_SETTINGS = ['lr', 'lossWeight', 'growthInterval'] as const;
for (const name of FORM_SETTINGS) field(name).value = String(DEFAULT_AMP_SETTINGS[name]);
field('steps').value = String(DEFAULT_AMP_STEPS);
const COLORS: Record<AmpRun, string> = { f32: '#1d1d1f', f16: '#b00020', 'f16-scaler': '#1565c0' };

class AmpCharts {
  private readonly loss: LiveChart;
  private readonly scale: LiveChart;
  private readonly flushed: LiveChart;
  private readonly last = new Map<AmpRun, number>();
  private readonly halfRuns: AmpRun[];
  private readonly lossOrder: AmpRun[];

  constructor(runs: readonly AmpRun[]) {
    $('#charts').replaceChildren();
    // f32 dashed on top: where the scaled f16 run tracks it, both lines show.
    const line = (run: AmpRun) => ({
      label: AMP_RUN_LABELS[run],
      stroke: COLORS[run],
      width: 2,
      ...(run === 'f32' ? { dash: [6, 4] } : {}),
    });
    // Drawn in reverse, so that the f32 run's dashed line lies on top of the f16 run that tracks it.
    this.lossOrder = [...runs].reverse();
    this.loss = new LiveChart(
      'Training loss (mean squared error / 2, log scale; f32 dashed)',
      'loss',
      this.lossOrder.map(line),
      true,
    );
    this.scale = new LiveChart(
      'The GradScaler’s loss scale (log scale; red points: backoffs after an overflow)',
      'scale',
      [
        { label: 'scale', stroke: COLORS['f16-scaler'], width: 2 },
        { label: 'backoff', stroke: '#b00020', width: 0, points: { show: true, size: 8, fill: '#b00020' } },
      ],
      2,
    );
    this.halfRuns = runs.filter((r) => r !== 'f32');
    this.flushed = new LiveChart(
      'Gradient values flushed to zero by f16 storage (fraction)',
      'flushed',
      this.halfRuns.map(line),
      false,
    );
  }

  add(run: AmpRun, records: readonly AmpRecord[]): void {
    const index = this.lossOrder.indexOf(run);
    for (const r of records) {
      this.loss.set(index, r.step, Number.isFinite(r.loss) && r.loss > 0 ? r.loss : null);
      if (this.halfRuns.includes(run)) this.flushed.set(this.halfRuns.indexOf(run), r.step, r.flushed);
      if (run !== 'f16-scaler') continue;
      const previous = this.last.get(run);
      this.scale.set(0, r.step, r.scale);
      this.scale.set(1, r.step, previous !== undefined && r.scale < previous ? r.scale : null);
      this.last.set(run, r.scale);
    }
    for (const chart of [this.loss, this.scale, this.flushed]) chart.draw();
  }
}

function renderSummary(outcomes: readonly AmpOutcome[]) {
  const table = $<HTMLTableElement>('#summary');
  table.innerHTML =
    '<tr><th>run</th><th>loss, first 10 steps</th><th>loss, last 10 steps</th><th>mean flushed</th><th>steps taken</th><th>backoffs</th></tr>';
  for (const o of outcomes) {
    const tr = table.insertRow();
    for (const v of [
      AMP_RUN_LABELS[o.run],
      o.firstLoss.toPrecision(3),
      o.lastLoss.toPrecision(3),
      `${(100 * o.meanFlushed).toFixed(1)} %`,
      `${o.stepsTaken} / ${o.records.length}`,
      o.run === 'f16-scaler' ? String(o.backoffs) : '—',
    ])
      tr.insertCell().textContent = v;
  }
}

async function unsupported(): Promise<string | null> {
  return ampUnsupported(await pageDevice());
}

async function run(options: AmpTrainOptions = {}): Promise<AmpOutcome[]> {
  const device = await pageDevice();
  const runs = options.runs ?? AMP_RUNS;
  const charts = new AmpCharts(runs);
  return buttons.during(options.stopped, async (stopped) => {
    const outcomes = await trainAmp(device, {
      ...options,
      runs,
      onRecords: (r, records) => {
        charts.add(r, records);
        options.onRecords?.(r, records);
      },
      stopped,
    });
    window.gradclipAmp.outcomes = outcomes;
    renderSummary(outcomes);
    return outcomes;
  });
}

window.gradclipAmp = { run, unsupported, outcomes: null };

form.addEventListener('submit', (event) => {
  event.preventDefault();
  const settings = Object.fromEntries(FORM_SETTINGS.map((name) => [name, Number(field(name).value)]));
  const runs = Array.from(form.querySelectorAll<HTMLInputElement>('input[name=run]:checked'), (i) => i.value as AmpRun);
  run({ runs, steps: Number(field('steps').value), settings }).catch(
    (error) => ($('#support').textContent = String(error)),
  );
});

unsupported()
  .then((reason) => {
    $('#support').textContent = reason ? `The demo cannot run here: ${reason}.` : 'shader-f16: available.';
    $<HTMLButtonElement>('#start').disabled = reason !== null;
  })
  .catch((error) => ($('#adapter').textContent = String(error)));
