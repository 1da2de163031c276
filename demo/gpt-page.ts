// The transformer demo's page: controls, three live charts (loss; gradient norm with the clip
// thresholds; tokens per second), a summary table and the text each model writes. demo/gpt/run.ts
// trains; this module only presents. The CLI (demo/gpt/cli.ts) and the outcome test drive it
// through `window.gradclipGpt.run`.
import { LiveChart } from './live-chart';
import { tfjsOn } from './tfjs-device';
import { gptParameterCount, trainGpts, type GptTrainOptions } from './gpt/run';
import {
  GPT_MODE_LABELS,
  GPT_MODES,
  GPT_SIZES,
  gptSizeFor,
  type GptMode,
  type GptOutcome,
  type GptSettings,
  type GptSize,
} from './gpt/settings';
import { adapterName, pageAdapterInfo, pageDevice } from './page-device';
import { StartStop } from './start-stop';
import type { StepRecord } from './train/monitor';

/** What the page runs: `size` picks the model and the default steps (default: from the adapter); `settings` and `steps` override them. */
export type GptPageOptions = Omit<GptTrainOptions, 'steps'> & { steps?: number; size?: GptSize };

/** The size the page chose for this adapter, and what it runs by default. */
export interface GptDefaults {
  size: GptSize;
  adapter: string;
  steps: number;
  parameters: number;
  settings: GptSettings;
}

declare global {
  interface Window {
    gradclipGpt: {
      run(options?: GptPageOptions): Promise<GptOutcome[]>;
      /** The size for this page's adapter (or `size`), its steps, settings and parameter count. */
      defaults(size?: GptSize): Promise<GptDefaults>;
      outcomes: GptOutcome[] | null;
    };
  }
}

const $ = <T extends HTMLElement>(selector: string) => document.querySelector(selector) as T;
const form = $<HTMLFormElement>('#controls');
const field = (name: string) => form.elements.namedItem(name) as HTMLInputElement;
const buttons = new StartStop($<HTMLButtonElement>('#start'), $<HTMLButtonElement>('#stop'));
const FORM_SETTINGS = ['lr', 'maxNorm', 'zThreshold', 'layers', 'width', 'batch'] as const;
const COLORS: Record<GptMode, string> = { none: '#b00020', norm: '#1565c0', zclip: '#ef6c00' };
/** Where a non-finite value is drawn on the log-scale norm chart. */
const NORM_TOP = 1e4;

/** The page's three charts, fed with each run's records as they are read back. */
class GptCharts {
  private readonly loss: LiveChart;
  private readonly norm: LiveChart;
  private readonly speed: LiveChart;

  constructor(
    private readonly modes: readonly GptMode[],
    private readonly settings: GptSettings,
  ) {
    $('#charts').replaceChildren();
    const line = (mode: GptMode) => ({ label: GPT_MODE_LABELS[mode], stroke: COLORS[mode], width: 2 });
    const dashed = (label: string, stroke: string) => ({ label, stroke, dash: [6, 4], width: 1 });
    this.loss = new LiveChart('Training loss (cross-entropy, nats per character)', 'loss', modes.map(line), false);
    this.norm = new LiveChart(
      'Gradient norm before clipping (log scale; dashed = thresholds)',
      '‖g‖₂',
      [
        ...modes.map(line),
        dashed(`max norm ${settings.maxNorm}`, COLORS.norm),
        dashed('ZClip threshold (steps it clipped)', COLORS.zclip),
      ],
      true,
    );
    this.speed = new LiveChart(
      'Tokens per second, all runs together',
      'tokens/s',
      [{ label: 'tokens/s', stroke: '#333', width: 2 }],
      false,
    );
  }

  add(mode: GptMode, records: readonly StepRecord[], tokensPerSecond: number): void {
    const index = this.modes.indexOf(mode);
    for (const r of records) {
      this.loss.set(index, r.step, Number.isFinite(r.loss) ? r.loss : null);
      this.norm.set(index, r.step, Number.isFinite(r.norm) && r.norm > 0 ? Math.min(r.norm, NORM_TOP) : NORM_TOP);
      if (this.modes.includes('norm')) this.norm.set(this.modes.length, r.step, this.settings.maxNorm);
      if (mode === 'zclip')
        this.norm.set(this.modes.length + 1, r.step, Number.isFinite(r.threshold) ? r.threshold : null);
      if (index === 0) this.speed.set(0, r.step, Number.isFinite(tokensPerSecond) ? tokensPerSecond : null);
    }
    this.loss.draw();
    this.norm.draw();
    this.speed.draw();
  }
}

function renderSummary(outcomes: readonly GptOutcome[]) {
  const table = $<HTMLTableElement>('#summary');
  table.innerHTML =
    '<tr><th>run</th><th>outcome</th><th>loss, first 10 steps</th><th>loss, last 10 steps</th><th>largest spike</th><th>steps clipped</th><th>readbacks</th></tr>';
  for (const o of outcomes) {
    const tr = table.insertRow();
    tr.insertCell().textContent = GPT_MODE_LABELS[o.mode];
    const outcome = tr.insertCell();
    outcome.textContent = o.nonfiniteAt !== null ? `loss NaN/Inf at step ${o.nonfiniteAt}` : 'finite throughout';
    if (o.nonfiniteAt !== null) outcome.className = 'bad';
    for (const v of [o.firstLoss, o.lastLoss, o.largestSpike])
      tr.insertCell().textContent = Number.isFinite(v) ? v.toFixed(3) : String(v);
    tr.insertCell().textContent = `${o.clippedSteps} / ${o.records.length}`;
    tr.insertCell().textContent = String(o.mapAsyncCalls);
  }
}

function addSample(mode: GptMode, step: number, text: string) {
  const row = $<HTMLTableElement>('#samples').insertRow();
  row.insertCell().textContent = `step ${step + 1}`;
  row.insertCell().textContent = GPT_MODE_LABELS[mode];
  row.insertCell().textContent = text;
}

async function defaults(size?: GptSize): Promise<GptDefaults> {
  const info = await pageAdapterInfo();
  const chosen = size ?? gptSizeFor(info);
  const { settings, steps } = GPT_SIZES[chosen];
  const device = await pageDevice();
  await tfjsOn(device);
  return { size: chosen, adapter: adapterName(info), steps, settings, parameters: gptParameterCount(settings) };
}

/** Fills the form with the size this adapter gets, and says which it is. */
async function showDefaults(): Promise<void> {
  const d = await defaults();
  for (const name of FORM_SETTINGS) field(name).value = String(d.settings[name]);
  field('steps').value = String(d.steps);
  $('#size').textContent =
    d.size === 'software'
      ? `On this software adapter the page starts with a small GPT (${d.parameters.toLocaleString('en')} parameters, ` +
        `${d.steps} steps, every ${d.settings.corruptEvery}th batch corrupted), which trains in minutes; ` +
        `the full ${gptParameterCount(GPT_SIZES.gpu.settings).toLocaleString('en')}-parameter model takes over an hour here.`
      : `The ${d.parameters.toLocaleString('en')}-parameter GPT, ${d.steps} steps, every ${d.settings.corruptEvery}th batch corrupted.`;
}

async function run(options: GptPageOptions = {}): Promise<GptOutcome[]> {
  const device = await pageDevice();
  await tfjsOn(device);
  await import('@tensorflow/tfjs-core/dist/register_all_gradients');
  const base = await defaults(options.size);
  const settings = { ...base.settings, ...options.settings };
  const steps = options.steps ?? base.steps;
  const modes = options.modes ?? GPT_MODES;
  $('#model').textContent =
    `Model: ${gptParameterCount(settings).toLocaleString('en')} parameters (${settings.layers} layers, width ${settings.width}, ` +
    `${settings.heads} heads, context ${settings.context}); batch ${settings.batch}; AdamW lr ${settings.lr}, ` +
    `betas (0.9, ${settings.beta2}), weight decay ${settings.weightDecay}.`;
  const charts = new GptCharts(modes, settings);
  $<HTMLTableElement>('#samples').replaceChildren();
  return buttons.during(options.stopped, async (stopped) => {
    const outcomes = await trainGpts(device, {
      ...options,
      steps,
      settings,
      modes,
      onRecords: (progress) => {
        charts.add(progress.mode, progress.records, progress.tokensPerSecond);
        options.onRecords?.(progress);
      },
      onSample: (mode, sample) => {
        addSample(mode, sample.step, sample.text);
        options.onSample?.(mode, sample);
      },
      stopped,
    });
    window.gradclipGpt.outcomes = outcomes;
    renderSummary(outcomes);
    return outcomes;
  });
}

window.gradclipGpt = { run, defaults, outcomes: null };

form.addEventListener('submit', (event) => {
  event.preventDefault();
  const settings = Object.fromEntries(FORM_SETTINGS.map((name) => [name, Number(field(name).value)]));
  const modes = Array.from(
    form.querySelectorAll<HTMLInputElement>('input[name=mode]:checked'),
    (i) => i.value as GptMode,
  );
  run({ modes, steps: Number(field('steps').value), settings }).catch(
    (error) => ($('#adapter').textContent = String(error)),
  );
});

showDefaults().catch((error) => ($('#adapter').textContent = String(error)));
