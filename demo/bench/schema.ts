// The results file (results/bench.json): its types, and a validator the tests and the CLI use.
import { BROWSERS, type BrowserName } from '../browser-names';
import type { Operation } from './byte-model';
import type { CaseShape } from './cases';
import { METHODS, type BenchConfig, type MethodName } from './config';
import type { FitStepResult } from '../gpt/fit-step';
import type { ModeResult } from './modes';
import type { SetBuildResult } from './set-build';
import type { Summary } from './stats';

export const SCHEMA_ID = 'gradclip-bench/1';

export interface MethodResult {
  method: MethodName;
  /** Wall time per step in ms: encode, submit, completion (and the read-back where the method reads). */
  wall: Summary | null;
  /** GPU time per step in ms from timestamp queries, where the method and adapter allow. */
  gpu: Summary | null;
  /** The result after a step compared with the float64 reference. */
  check: { ok: boolean; maxRelativeError: number } | null;
  /** Per step, counted on extra untimed steps (gradclip methods only). */
  counters?: { dispatches: number; submits: number; buffersCreated: number };
  /**
   * The step's GPU time by kernel (gradclip-arena, where the adapter has timestamps): medians over
   * extra untimed steps whose dispatches each ran in a timed pass of their own, so their sum a
   * little exceeds `gpu` (demo/bench/pass-profile.ts).
   */
  passes?: Array<{ kernel: string; ms: number; dispatches: number }>;
  /** The copy kernel's chosen workgroup count. */
  workgroups?: number;
  /** Set when the method failed or does not apply. */
  error?: string;
}

export interface CaseResult {
  id: string;
  label: string;
  series: CaseShape['series'];
  operation: Operation;
  /** p of the norm ('inf' for ∞, which JSON cannot hold as a number); null for clip by value. */
  normType: number | 'inf' | null;
  tensors: number;
  elements: number;
  /** The float64 reference norm of the case's gradients (null for clip by value). */
  norm: number | null;
  methods: MethodResult[];
  ratios: {
    /** gradclip-arena / copy-kernel (wall medians). */
    gradclipOverCopyKernel: number | null;
    /** The byte model's ideal for that ratio. */
    idealOverCopyKernel: number;
    /** tfjs / gradclip, against the gradclip method that also reads the norm each step. */
    tfjsOverGradclip: number | null;
    naiveOverGradclip: number | null;
    cpuOverGradclip: number | null;
  };
}

export interface TargetCheck {
  name: string;
  measured: number | null;
  comparison: '>=' | '<=' | '==';
  threshold: number;
  met: boolean | null;
  detail: string;
}

export interface BenchResults {
  schema: typeof SCHEMA_ID;
  date: string;
  adapter: { vendor: string; architecture: string; device: string; description: string; features: string[] };
  /** The page's user agent. */
  browser: string;
  /** The browser the CLI drove (`--browser`) and its version; absent when the page ran by hand. */
  launchedBrowser?: { name: BrowserName; version: string };
  timestamps: { supported: boolean; note: string };
  config: BenchConfig;
  /**
   * The workgroup cap gradclip's autotune chose on this device. Start-up (ms, absent in older
   * results): the first createClipper() on this device, the browser's first WebGPU work, and the
   * autotune's share of it; the first createClipper() on a second device of the adapter, as a page
   * reload finds the browser (null where no second device was had).
   */
  tuning: {
    maxWorkgroups: number | null;
    createMs?: number;
    autotuneMs?: number | null;
    reloadCreateMs?: number | null;
  };
  skipped: string[];
  cases: CaseResult[];
  /** Each clipping mode's step against plain clipGradNorm (absent when --modes no). */
  modes?: ModeResult[];
  /** The CPU cost of clipper.gradients() for a 150-view set, first and later builds (absent in older results). */
  setBuild?: SetBuildResult;
  /** One model.fit step of the transformer demo's GPT per TF.js optimizer (`--fit-step yes`). */
  fitStep?: FitStepResult;
  targets: TargetCheck[];
}

function isSummary(value: unknown): boolean {
  if (value === null) return true;
  const s = value as Summary;
  return (
    typeof s === 'object' &&
    ['median', 'p10', 'p90', 'min', 'samples'].every((k) => typeof s[k as keyof Summary] === 'number')
  );
}

/** Problems with a results document; an empty list means it matches the schema. */
export function validateResults(doc: unknown): string[] {
  const problems: string[] = [];
  const r = doc as BenchResults;
  if (typeof r !== 'object' || r === null) return ['results must be an object'];
  if (r.schema !== SCHEMA_ID) problems.push(`schema must be "${SCHEMA_ID}"`);
  if (typeof r.date !== 'string' || Number.isNaN(Date.parse(r.date))) problems.push('date must be an ISO date string');
  if (typeof r.adapter !== 'object' || r.adapter === null || typeof r.adapter.description !== 'string') {
    problems.push('adapter must describe the adapter (vendor, architecture, device, description)');
  }
  if (typeof r.browser !== 'string') problems.push('browser must be a string');
  if (r.launchedBrowser !== undefined && !BROWSERS.includes(r.launchedBrowser?.name)) {
    problems.push(`launchedBrowser.name must be one of ${BROWSERS.join(', ')}`);
  }
  if (!Array.isArray(r.cases)) return [...problems, 'cases must be an array'];
  r.cases.forEach((c, i) => {
    if (typeof c.id !== 'string') problems.push(`cases[${i}].id must be a string`);
    if (!(c.elements > 0)) problems.push(`cases[${i}].elements must be > 0`);
    if (!Array.isArray(c.methods)) {
      problems.push(`cases[${i}].methods must be an array`);
      return;
    }
    c.methods.forEach((m, j) => {
      if (!METHODS.includes(m.method)) problems.push(`cases[${i}].methods[${j}].method is unknown: ${m.method}`);
      if (!isSummary(m.wall) || !isSummary(m.gpu))
        problems.push(`cases[${i}].methods[${j}] wall/gpu must be summaries or null`);
      if (m.wall === null && !m.error) problems.push(`cases[${i}].methods[${j}] has no timing and no error`);
    });
    if (typeof c.ratios?.idealOverCopyKernel !== 'number')
      problems.push(`cases[${i}].ratios.idealOverCopyKernel must be a number`);
  });
  if (!Array.isArray(r.targets)) problems.push('targets must be an array');
  return problems;
}
