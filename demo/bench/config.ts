// What a benchmark run covers, shared by the page and the CLI, with the CLI's flag parser.
import { BROWSERS, type BrowserName } from '../browser-names';
import { MIN_SAMPLES, type Limits } from './budget';
import { DEFAULT_COUNTS, DEFAULT_SIZES, PRESETS, type Preset } from './cases';

export const METHODS = [
  'gradclip-arena',
  'gradclip-arena-read',
  'gradclip-separate',
  'tfjs',
  'naive',
  'cpu',
  'copy-kernel',
  'copy-buffer',
] as const;
export type MethodName = (typeof METHODS)[number];

/** The operations a case runs: clip by L2 norm, the same with nothing to clip, clip by ∞-norm, clip by value. */
export const OPERATIONS = ['clip-l2', 'no-clip-l2', 'clip-inf', 'clip-value'] as const;
export type OperationName = (typeof OPERATIONS)[number];

/** The clipping modes' lines (demo/bench/modes/), in the order they run. */
export const MODES = [
  'clipGradNorm',
  'clipGradNorm + scaler',
  'clipByNorm',
  'getTotalNorm',
  'perTensorNorms',
  'getTotalNorm (one view)',
  'getTotalNorm (odd lengths)',
  'adaptiveGradClip',
  'autoClip',
  'zClip',
  'clipGradNorm (batch)',
  'clipPerExample',
  'clipPerExample + noise',
  'copy kernel',
  'adam (fused clip)',
  'adam (fused clip) + scaler',
  'clipGradNorm then adam',
  'tfjs adam + clip',
  'dp adam (fused)',
  'clipGradNorm f16',
] as const;
export type ModeName = (typeof MODES)[number];

export interface BenchConfig extends Limits {
  presets: Preset[];
  /** A custom shape list: element counts of the tensors of one extra case; empty skips it. */
  custom: number[];
  /** Total-size sweep, floats per case; empty skips it. */
  sizes: number[];
  /** Tensor-count sweep at 1 M floats; empty skips it. */
  counts: number[];
  methods: MethodName[];
  /** The operations each case runs (a sweep runs those of its own that are listed). */
  operations: OperationName[];
  /** The mode lines to time against plain clipGradNorm (their baselines are added); empty skips them. */
  modes: ModeName[];
  /** Time one `model.fit` step of the demo's GPT with each TF.js optimizer (demo/gpt/fit-step.ts). */
  fitStep: boolean;
}

/** `npm run bench`: the transformer preset, every method, operation and mode line, within a time budget. */
export const DEFAULT_CONFIG: BenchConfig = {
  presets: ['transformer'],
  custom: [],
  sizes: [],
  counts: [],
  methods: [...METHODS],
  operations: [...OPERATIONS],
  reps: 21,
  warmup: 3,
  budgetMs: 1500,
  modes: [...MODES],
  fitStep: false,
};

/** `--full`: every preset and both sweeps, every step of every method. */
export const FULL_CONFIG: BenchConfig = {
  ...DEFAULT_CONFIG,
  presets: [...PRESETS],
  sizes: DEFAULT_SIZES,
  counts: DEFAULT_COUNTS,
  budgetMs: 0,
  fitStep: true,
};

/** `--quick`: the transformer preset, clipping and not, gradclip against TF.js, naive and the copy roofline, and the fused optimizer. */
export const QUICK_CONFIG: BenchConfig = {
  ...DEFAULT_CONFIG,
  methods: ['gradclip-arena', 'gradclip-arena-read', 'tfjs', 'naive', 'copy-kernel'],
  operations: ['clip-l2', 'no-clip-l2'],
  budgetMs: 1000,
  modes: ['clipGradNorm', 'copy kernel', 'adam (fused clip)'],
};

export interface CliOptions {
  config: BenchConfig;
  /** Where results.json goes; the PNG goes beside it. */
  out: string;
  /** The browser the CLI drives (its system package). */
  browser: BrowserName;
  /** `--autotune-check`: judge the autotune's choice over fresh runs instead (demo/bench/autotune-check.ts). */
  autotuneCheck: boolean;
  /** `--runs N`: how many fresh runs the autotune check makes (default 10). */
  runs: number;
  help: boolean;
}

export const HELP = `Usage: npm run bench -- [flags]

Runs the gradclip benchmark page headless in the system Chromium or Firefox (WebGPU on whatever
adapter it finds) and writes the results as JSON and a PNG of the charts. With no flags: the
transformer preset, every method, operation and mode line, each timed within a budget (a few
minutes on a software adapter).

  --quick           under a minute: the transformer preset, clipping and not, gradclip against
                    TF.js, the naive clip and the copy roofline, and the fused optimizer line
  --full            every preset, both sweeps, every step of every method (the slow baselines
                    make this long on a software adapter)
  --preset LIST     presets to run: ${PRESETS.join(', ')}, all or none (default transformer)
  --custom LIST     one extra case with these tensor lengths, e.g. 4096,4096,1000 (default none)
  --sizes LIST      total-size sweep in floats, e.g. 65536,1048576, or none (default none;
                    --full: ${DEFAULT_SIZES.join(',')})
  --counts LIST     tensor-count sweep at 1 M floats, or none (default none; --full: ${DEFAULT_COUNTS.join(',')})
  --methods LIST    methods: ${METHODS.join(', ')} (default all)
  --operations LIST operations: ${OPERATIONS.join(', ')} (default all)
  --reps N          timed steps per case and method at most, >= 1 (default 21)
  --warmup N        untimed steps first at most, >= 0 (default 3)
  --budget MS       stop timing a method after MS ms once it has ${MIN_SAMPLES} steps; 0 times every
                    step (default ${DEFAULT_CONFIG.budgetMs}; --quick ${QUICK_CONFIG.budgetMs}; --full 0)
  --modes yes|no|LIST
                    the clipping-mode lines (per-view, AGC, AutoClip, ZClip, per-example, the
                    fused optimizer, ...) against plain clipGradNorm on the transformer preset:
                    all, none, or a list of ${MODES.map((m) => `"${m}"`).join(', ')} (default yes)
  --fit-step yes|no one model.fit step of the transformer demo's GPT (the size npm run demo:gpt picks
                    for the adapter: ~0.8 M parameters on a GPU, ~30 K on a software one) with
                    tf.train.adam, adam + a global clip in TF.js ops, clippedOptimizer and the
                    fused AdamW: the clip's overhead in % of the step (default no; --full: yes)
  --out PATH        results JSON path (default results/bench.json; the PNG goes beside it)
  --browser NAME    ${BROWSERS.join(' or ')}, the system package (default chromium)
  --autotune-check  instead of the benchmark: 10 fresh createClipper() runs in Chromium with one
                    core kept busy, each chosen cap judged against every candidate's step time;
                    prints how many are within 10 % and exits 1 below 90 % of the runs (--out
                    default results/autotune-check.json; --runs N for another number of runs)
  --help            this text
`;

export class UsageError extends Error {}

function parseList<T extends string>(flag: string, value: string, allowed: readonly T[]): T[] {
  if (value === 'all') return [...allowed];
  if (value === 'none') return [];
  const items = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const item of items) {
    if (!allowed.includes(item as T)) {
      throw new UsageError(`${flag}: unknown value "${item}"; choose from ${allowed.join(', ')}, all or none`);
    }
  }
  return items as T[];
}

function parseCount(flag: string, value: string, min: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`${flag} must be an integer >= ${min}, got "${value}"`);
  return n;
}

function parseNumbers(flag: string, value: string): number[] {
  if (value === 'none') return [];
  return value.split(',').map((s) => parseCount(flag, s.trim(), 1));
}

/** Parses CLI arguments (without `node script`); throws UsageError with a message naming the flag. */
export function parseArgs(argv: readonly string[]): CliOptions {
  const config: BenchConfig = { ...DEFAULT_CONFIG };
  let out = 'results/bench.json';
  let browser: BrowserName = 'chromium';
  let autotuneCheck = false;
  let runs = 10;
  let outGiven = false;
  let help = false;
  // --quick and --full set the starting point, wherever they stand; the other flags refine it.
  if (argv.includes('--quick') && argv.includes('--full'))
    throw new UsageError('--quick and --full exclude each other');
  if (argv.includes('--quick')) Object.assign(config, QUICK_CONFIG);
  if (argv.includes('--full')) Object.assign(config, FULL_CONFIG);
  if (argv.includes('--autotune-check')) {
    const other = argv.filter(
      (a, i) => a.startsWith('--') && a !== '--autotune-check' && !(['--out', '--runs'].includes(a) && argv[i + 1]),
    );
    if (other.length) throw new UsageError(`--autotune-check takes only --out and --runs (got ${other.join(' ')})`);
  } else if (argv.includes('--runs')) {
    throw new UsageError('--runs applies to --autotune-check only');
  }
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const needValue = () => {
      const value = argv[++i];
      if (value === undefined || value.startsWith('--')) throw new UsageError(`${flag} needs a value`);
      return value;
    };
    switch (flag) {
      case '--help':
      case '-h':
        help = true;
        break;
      case '--quick':
      case '--full':
        break; // applied before the loop
      case '--preset':
      case '--presets':
        config.presets = parseList(flag, needValue(), PRESETS);
        break;
      case '--custom':
        config.custom = parseNumbers(flag, needValue());
        break;
      case '--sizes':
        config.sizes = parseNumbers(flag, needValue());
        break;
      case '--counts':
        config.counts = parseNumbers(flag, needValue());
        break;
      case '--methods':
        config.methods = parseList(flag, needValue(), METHODS);
        break;
      case '--operations':
        config.operations = parseList(flag, needValue(), OPERATIONS);
        break;
      case '--budget':
        config.budgetMs = parseCount(flag, needValue(), 0);
        break;
      case '--reps':
        config.reps = parseCount(flag, needValue(), 1);
        break;
      case '--warmup':
        config.warmup = parseCount(flag, needValue(), 0);
        break;
      case '--modes': {
        const value = needValue();
        config.modes = value === 'yes' ? [...MODES] : value === 'no' ? [] : parseList(flag, value, MODES);
        break;
      }
      case '--fit-step': {
        const value = needValue();
        if (value !== 'yes' && value !== 'no') throw new UsageError(`--fit-step takes yes or no, got "${value}"`);
        config.fitStep = value === 'yes';
        break;
      }
      case '--out':
        out = needValue();
        outGiven = true;
        break;
      case '--autotune-check':
        autotuneCheck = true;
        break;
      case '--runs':
        runs = parseCount(flag, needValue(), 1);
        break;
      case '--browser': {
        const value = needValue();
        if (!BROWSERS.includes(value as BrowserName)) {
          throw new UsageError(`--browser takes ${BROWSERS.join(' or ')}, got "${value}"`);
        }
        browser = value as BrowserName;
        break;
      }
      default:
        throw new UsageError(`unknown flag "${flag}" (see --help)`);
    }
  }
  if (
    !help &&
    config.presets.length + config.custom.length + config.sizes.length + config.counts.length === 0 &&
    config.modes.length === 0 &&
    !config.fitStep
  ) {
    throw new UsageError(
      'nothing to run: --preset, --custom, --sizes and --counts are all none, --modes is no and --fit-step is no',
    );
  }
  if (!help && config.operations.length === 0 && config.modes.length === 0 && !config.fitStep) {
    throw new UsageError('nothing to run: --operations none and --modes no');
  }
  if (!help && config.methods.length === 0) throw new UsageError('--methods: choose at least one method');
  if (autotuneCheck && !outGiven) out = 'results/autotune-check.json';
  return { config, out, browser, autotuneCheck, runs, help };
}

/**
 * Parses the flags for a CLI front end: the options to run with, or the exit code after printing
 * --help (0) or a usage error (2).
 */
export function readCli(argv: readonly string[]): CliOptions | number {
  try {
    const options = parseArgs(argv);
    if (!options.help) return options;
    console.log(HELP);
    return 0;
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`bench: ${error.message}`);
    return 2;
  }
}
