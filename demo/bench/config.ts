// What a benchmark run covers, shared by the page and the CLI, with the CLI's flag parser.
import { BROWSERS, type BrowserName } from '../browser-names';
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

export interface BenchConfig {
  presets: Preset[];
  /** A custom shape list: element counts of the tensors of one extra case; empty skips it. */
  custom: number[];
  /** Total-size sweep, floats per case; empty skips it. */
  sizes: number[];
  /** Tensor-count sweep at 1 M floats; empty skips it. */
  counts: number[];
  methods: MethodName[];
  /** Timed steps per case and method (the median of these is reported). */
  reps: number;
  /** Untimed steps first (pipeline compilation, caches). */
  warmup: number;
  /** Also time each clipping mode against plain clipGradNorm (demo/bench/modes.ts). */
  modes: boolean;
}

export const DEFAULT_CONFIG: BenchConfig = {
  presets: [...PRESETS],
  custom: [],
  sizes: DEFAULT_SIZES,
  counts: DEFAULT_COUNTS,
  methods: [...METHODS],
  reps: 21,
  warmup: 3,
  modes: true,
};

/** `--quick`: the transformer preset alone, every method. */
export const QUICK_CONFIG: BenchConfig = { ...DEFAULT_CONFIG, presets: ['transformer'], sizes: [], counts: [] };

export interface CliOptions {
  config: BenchConfig;
  /** Where results.json goes; the PNG goes beside it. */
  out: string;
  /** The browser the CLI drives (its system package). */
  browser: BrowserName;
  help: boolean;
}

export const HELP = `Usage: npm run bench -- [flags]

Runs the gradclip benchmark page headless in the system Chromium or Firefox (WebGPU on whatever
adapter it finds) and writes the results as JSON and a PNG of the charts.

  --preset LIST     presets to run: ${PRESETS.join(', ')}, all or none (default all)
  --custom LIST     one extra case with these tensor lengths, e.g. 4096,4096,1000 (default none)
  --sizes LIST      total-size sweep in floats, e.g. 65536,1048576, or none (default ${DEFAULT_SIZES.join(',')})
  --counts LIST     tensor-count sweep at 1 M floats, or none (default ${DEFAULT_COUNTS.join(',')})
  --methods LIST    methods: ${METHODS.join(', ')} (default all)
  --reps N          timed steps per case and method, >= 1 (default 21)
  --warmup N        untimed steps first, >= 0 (default 3)
  --modes yes|no    also time each clipping mode (per-view, AGC, AutoClip, ZClip, per-example)
                    against plain clipGradNorm on the transformer preset (default yes)
  --quick           the transformer preset only (same as --preset transformer --sizes none --counts none)
  --out PATH        results JSON path (default results/bench.json; the PNG goes beside it)
  --browser NAME    ${BROWSERS.join(' or ')}, the system package (default chromium)
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
  let help = false;
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
        Object.assign(config, { presets: QUICK_CONFIG.presets, sizes: [], counts: [] });
        break;
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
      case '--reps':
        config.reps = parseCount(flag, needValue(), 1);
        break;
      case '--warmup':
        config.warmup = parseCount(flag, needValue(), 0);
        break;
      case '--modes': {
        const value = needValue();
        if (value !== 'yes' && value !== 'no') throw new UsageError(`--modes takes yes or no, got "${value}"`);
        config.modes = value === 'yes';
        break;
      }
      case '--out':
        out = needValue();
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
    !config.modes
  ) {
    throw new UsageError('nothing to run: --preset, --custom, --sizes and --counts are all none and --modes is no');
  }
  if (!help && config.methods.length === 0) throw new UsageError('--methods: choose at least one method');
  return { config, out, browser, help };
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
