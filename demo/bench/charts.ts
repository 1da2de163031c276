// The charts of a run as SVG text (pure, so the Node tests read them): per case and operation one
// bar per method on a log time axis with the copy roofline marked, and the mode lines as ratio
// bars. The page puts them in #charts, which the CLI saves as the run's PNG.
import type { MethodName } from './config';
import type { FitStepResult } from '../gpt/fit-step';
import type { ModeResult } from './modes';
import { operationLabel } from './report';
import type { CaseResult } from './schema';

export const METHOD_COLORS: Record<MethodName, string> = {
  'gradclip-arena': '#1565c0',
  'gradclip-arena-read': '#42a5f5',
  'gradclip-separate': '#00897b',
  tfjs: '#ef6c00',
  naive: '#8e24aa',
  cpu: '#6d4c41',
  'copy-kernel': '#212121',
  'copy-buffer': '#9e9e9e',
};

/** Chart width in px (two side by side fit the CLI's 1 320 px page). */
export const CHART_WIDTH = 620;
const LABEL_WIDTH = 170;
const RIGHT = 70;
const BAR = 18;
const GAP = 6;
const TOP = 34;
const AXIS = 34;

export interface Bar {
  label: string;
  value: number;
  color: string;
  /** Shown after the value: red when `bad` (a wrong result), grey otherwise. */
  note?: string;
  bad?: boolean;
}

/** A vertical line across the bars at `value`, labelled. */
export interface Marker {
  value: number;
  label: string;
  color: string;
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function formatValue(value: number, unit: string): string {
  const digits = value >= 100 ? 0 : value >= 10 ? 1 : 2;
  return `${value.toFixed(digits)}${unit}`;
}

/** Powers of ten covering [lo, hi], with 2 and 5 between when the range spans few decades. */
export function logTicks(lo: number, hi: number): number[] {
  const ticks: number[] = [];
  const steps = Math.log10(hi / lo) <= 2 ? [1, 2, 5] : [1];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
    for (const s of steps) {
      const t = s * 10 ** e;
      if (t >= lo * 0.999 && t <= hi * 1.001) ticks.push(t);
    }
  }
  return ticks;
}

/** Horizontal bars on a log axis, with vertical markers. */
export function barChart(title: string, bars: readonly Bar[], markers: readonly Marker[], unit: string): string {
  const values = [...bars.map((b) => b.value), ...markers.map((m) => m.value)].filter((v) => v > 0);
  const lo = 10 ** Math.floor(Math.log10(Math.min(...values)));
  const hi = 10 ** Math.ceil(Math.log10(Math.max(...values) * 1.0001));
  const plot = CHART_WIDTH - LABEL_WIDTH - RIGHT;
  const x = (v: number) => LABEL_WIDTH + (Math.log10(v / lo) / Math.log10(hi / lo)) * plot;
  const height = TOP + bars.length * (BAR + GAP) + AXIS + 14 * markers.length;
  const bottom = TOP + bars.length * (BAR + GAP);
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${CHART_WIDTH}" height="${height}" font-family="system-ui, sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="4" y="16" font-size="14" font-weight="600">${escapeXml(title)}</text>`,
  ];
  for (const t of logTicks(lo, hi)) {
    parts.push(
      `<line x1="${x(t)}" x2="${x(t)}" y1="${TOP - 4}" y2="${bottom}" stroke="#e0e0e0"/>`,
      `<text x="${x(t)}" y="${bottom + 14}" text-anchor="middle" fill="#555">${t >= 1 ? t : t.toPrecision(1)}</text>`,
    );
  }
  parts.push(
    `<text x="${LABEL_WIDTH + plot / 2}" y="${bottom + 28}" text-anchor="middle" fill="#555">${escapeXml(unit === '×' ? 'ratio (log scale)' : `${unit} per step, median (log scale)`)}</text>`,
  );
  const texts: string[] = [];
  bars.forEach((b, i) => {
    const y = TOP + i * (BAR + GAP);
    const end = x(Math.max(b.value, lo));
    parts.push(
      `<rect x="${LABEL_WIDTH}" y="${y}" width="${Math.max(1, end - LABEL_WIDTH)}" height="${BAR}" fill="${b.color}"/>`,
    );
    texts.push(
      `<text x="${LABEL_WIDTH - 6}" y="${y + BAR - 5}" text-anchor="end">${escapeXml(b.label)}</text>`,
      `<text x="${end + 4}" y="${y + BAR - 5}" stroke="#fff" stroke-width="3" paint-order="stroke">${escapeXml(formatValue(b.value, unit === '×' ? '×' : ''))}${b.note ? ` <tspan fill="${b.bad ? '#b00020' : '#777'}">${escapeXml(b.note)}</tspan>` : ''}</text>`,
    );
  });
  markers.forEach((m, i) => {
    parts.push(
      `<line x1="${x(m.value)}" x2="${x(m.value)}" y1="${TOP - 6}" y2="${bottom}" stroke="${m.color}" stroke-width="2" stroke-dasharray="5 3"/>`,
      `<text x="${LABEL_WIDTH}" y="${bottom + AXIS + 12 * i + 6}" fill="${m.color}">┆ ${escapeXml(m.label)}</text>`,
    );
  });
  // Values over the markers, on a white halo, so a line through a number leaves it legible.
  parts.push(...texts);
  parts.push('</svg>');
  return parts.join('');
}

/** One case and operation: a bar per method that has a time, the roofline (copy kernel × the byte model's ideal) marked. */
export function operationChart(c: CaseResult): string | null {
  const bars: Bar[] = c.methods
    .filter((m) => m.wall)
    .map((m) => ({
      label: m.method,
      value: m.wall!.median,
      color: METHOD_COLORS[m.method],
      note: m.error ? 'failed' : m.check && !m.check.ok ? 'wrong result' : undefined,
      bad: Boolean(m.error) || (m.check !== null && !m.check.ok),
    }));
  if (bars.length === 0) return null;
  const copy = c.methods.find((m) => m.method === 'copy-kernel')?.wall?.median;
  const ideal = c.ratios.idealOverCopyKernel;
  const markers: Marker[] = copy
    ? [
        {
          value: copy * ideal,
          label: `roofline: copy kernel × ${ideal} (the bytes this operation moves)`,
          color: '#c62828',
        },
      ]
    : [];
  return barChart(`${c.label} · ${operationLabel(c)}`, bars, markers, 'ms');
}

/** The mode lines: each one's time over plain clipGradNorm on the same bytes. */
export function modesChart(modes: readonly ModeResult[]): string | null {
  const bars: Bar[] = modes
    .filter((m) => m.mode !== m.baseline && m.overBaseline)
    .map((m) => ({
      label: m.mode,
      value: m.overBaseline!,
      color: m.mode.includes('adam') ? '#6a1b9a' : '#1565c0',
      note: m.check && !m.check.ok ? 'wrong result' : undefined,
      bad: m.check !== null && !m.check.ok,
    }));
  if (bars.length === 0) return null;
  return barChart(
    'Clipping modes: time / clipGradNorm on the same bytes',
    bars,
    [{ value: 1, label: 'clipGradNorm (= 1)', color: '#212121' }],
    '×',
  );
}

/** The optimizer lines: each step's time over the copy kernel's time for the bytes it must move. */
export function optimizerChart(modes: readonly ModeResult[], target: number): string | null {
  const bars: Bar[] = modes
    .filter((m) => m.overRoofline)
    .map((m) => ({
      label: m.mode,
      value: m.overRoofline!,
      color: m.mode.startsWith('tfjs') ? METHOD_COLORS.tfjs : '#6a1b9a',
      note: `${m.bytesPerFloat} B/float${m.check && !m.check.ok ? ', wrong result' : ''}`,
      bad: m.check !== null && !m.check.ok,
    }));
  if (bars.length === 0) return null;
  return barChart(
    'Optimizer step: time / roofline (copy kernel on its bytes)',
    bars,
    [
      { value: 1, label: 'roofline (= 1)', color: '#212121' },
      { value: target, label: `target for the fused step (≤ ${target})`, color: '#c62828' },
    ],
    '×',
  );
}

/** The model.fit line: ms per fit step of the GPT per optimizer, each clip's overhead noted. */
export function fitStepChart(f: FitStepResult): string {
  const adam = f.methods.find((m) => m.method === 'adam');
  return barChart(
    `model.fit step of the GPT demo (${f.parameters.toLocaleString('en')} parameters): ms per step`,
    f.methods.map((m) => ({
      label: m.method,
      value: m.msPerStep,
      color: m.method.startsWith('adam') ? METHOD_COLORS.tfjs : '#6a1b9a',
      note:
        m.method === 'adam' ? 'no clip' : `clip ${m.overheadPercent >= 0 ? '+' : ''}${m.overheadPercent.toFixed(1)} %`,
    })),
    adam ? [{ value: adam.msPerStep, label: 'tf.train.adam, no clip', color: '#212121' }] : [],
    'ms',
  );
}
