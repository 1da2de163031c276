// The DP-SGD demo's page: controls, two live charts (test accuracy of the four runs; ε spent by the
// private ones) and a summary table. demo/dp/run.ts trains; this module only presents. The CLI
// (demo/dp/cli.ts) and the outcome test drive it through `window.gradclipDp.run`.
import { trainDp, type DpTrainOptions } from './dp/run';
import {
  DEFAULT_DP_SETTINGS,
  DEFAULT_DP_STEPS,
  DP_RUN_LABELS,
  DP_RUNS,
  DP_TARGETS,
  noiseMultipliers,
  type DpOutcome,
  type DpRecord,
  type DpRun,
} from './dp/settings';
import { LiveChart } from './live-chart';
import { pageDevice } from './page-device';
import { StartStop } from './start-stop';

declare global {
  interface Window {
    gradclipDp: {
      run(options?: DpTrainOptions): Promise<DpOutcome[]>;
      outcomes: DpOutcome[] | null;
    };
  }
}

const $ = <T extends HTMLElement>(selector: string) => document.querySelector(selector) as T;
const form = $<HTMLFormElement>('#controls');
const field = (name: string) => form.elements.namedItem(name) as HTMLInputElement;
const buttons = new StartStop($<HTMLButtonElement>('#start'), $<HTMLButtonElement>('#stop'));
const FORM_SETTINGS = ['lr', 'maxNorm'] as const;
for (const name of FORM_SETTINGS) field(name).value = String(DEFAULT_DP_SETTINGS[name]);
field('steps').value = String(DEFAULT_DP_STEPS);
const COLORS: Record<DpRun, string> = { none: '#1d1d1f', eps1: '#b00020', eps3: '#ef6c00', eps8: '#1565c0' };
const PRIVATE_RUNS = DP_RUNS.filter((r) => DP_TARGETS[r] !== null);

/** "σ = 2.42 (ε = 1), …" for `steps` steps at the default sample rate. */
function describeSigmas(steps: number): string {
  const sigmas = noiseMultipliers(DEFAULT_DP_SETTINGS, steps);
  const each = PRIVATE_RUNS.map((r) => `σ = ${sigmas[r].toFixed(3)} for ε = ${DP_TARGETS[r]}`).join(', ');
  return `Noise multipliers for ${steps} steps: ${each}.`;
}

class DpCharts {
  private readonly accuracy: LiveChart;
  private readonly epsilon: LiveChart;
  private readonly privateRuns: DpRun[];

  constructor(private readonly runs: readonly DpRun[]) {
    $('#charts').replaceChildren();
    // Evaluated every evalEvery steps: the chart's steps between are gaps, spanned.
    const line = (run: DpRun) => ({
      label: DP_RUN_LABELS[run],
      stroke: COLORS[run],
      width: 2,
      spanGaps: true,
      ...(run === 'none' ? { dash: [6, 4] } : {}),
    });
    this.accuracy = new LiveChart('Test accuracy (chance: 0.25; no privacy dashed)', 'accuracy', runs.map(line), false);
    this.privateRuns = runs.filter((r) => DP_TARGETS[r] !== null);
    this.epsilon = new LiveChart(
      'ε spent so far (δ = 1e-5, log scale): each run ends at its target',
      'ε',
      this.privateRuns.map(line),
      true,
    );
  }

  add(run: DpRun, records: readonly DpRecord[]): void {
    for (const r of records) {
      this.accuracy.set(this.runs.indexOf(run), r.step, r.accuracy);
      // ε is 0 before the first step: a log axis has no place for it.
      if (this.privateRuns.includes(run))
        this.epsilon.set(this.privateRuns.indexOf(run), r.step, r.epsilon !== null && r.epsilon > 0 ? r.epsilon : null);
    }
    this.accuracy.draw();
    this.epsilon.draw();
  }
}

function renderSummary(outcomes: readonly DpOutcome[]) {
  const table = $<HTMLTableElement>('#summary');
  table.innerHTML =
    '<tr><th>run</th><th>σ</th><th>clip bound</th><th>final test accuracy</th><th>final ε (target)</th><th>steps</th><th>examples clipped</th></tr>';
  for (const o of outcomes) {
    const tr = table.insertRow();
    for (const v of [
      DP_RUN_LABELS[o.run],
      o.noiseMultiplier.toFixed(3),
      String(o.maxNorm),
      o.finalAccuracy.toFixed(3),
      o.epsilon === null ? '∞ (no noise)' : `${o.epsilon.toFixed(3)} (${o.targetEpsilon})`,
      String(o.steps),
      `${(100 * o.clippedFraction).toFixed(1)} %`,
    ])
      tr.insertCell().textContent = v;
  }
}

async function run(options: DpTrainOptions = {}): Promise<DpOutcome[]> {
  const device = await pageDevice();
  const runs = options.runs ?? DP_RUNS;
  const charts = new DpCharts(runs);
  return buttons.during(options.stopped, async (stopped) => {
    const outcomes = await trainDp(device, {
      ...options,
      runs,
      onRecords: (r, records) => {
        charts.add(r, records);
        options.onRecords?.(r, records);
      },
      stopped,
    });
    window.gradclipDp.outcomes = outcomes;
    renderSummary(outcomes);
    return outcomes;
  });
}

window.gradclipDp = { run, outcomes: null };

form.addEventListener('submit', (event) => {
  event.preventDefault();
  const settings = Object.fromEntries(FORM_SETTINGS.map((name) => [name, Number(field(name).value)]));
  const runs = Array.from(form.querySelectorAll<HTMLInputElement>('input[name=run]:checked'), (i) => i.value as DpRun);
  run({ runs, steps: Number(field('steps').value), settings }).catch(
    (error) => ($('#sigmas').textContent = String(error)),
  );
});

field('steps').addEventListener('change', () => {
  const steps = Number(field('steps').value);
  if (Number.isInteger(steps) && steps > 0) $('#sigmas').textContent = describeSigmas(steps);
});
$('#sigmas').textContent = describeSigmas(DEFAULT_DP_STEPS);

pageDevice().catch((error) => ($('#adapter').textContent = String(error)));
