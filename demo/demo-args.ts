// The flags both demo CLIs take: --steps N, --browser chromium|firefox and --out PATH (the PNG).
import { resolve } from 'node:path';
import { BROWSERS, type BrowserName } from './browser-names';

export interface DemoArgs {
  steps: number;
  browserName: BrowserName;
  /** Absolute path of the PNG to write. */
  out: string;
}

function flag(argv: readonly string[], name: string, fallback: string): string {
  const at = argv.indexOf(`--${name}`);
  return at >= 0 && argv[at + 1] ? argv[at + 1] : fallback;
}

const FLAGS = ['--steps', '--browser', '--out'];

/** The demo's flags, or 2 (the usage exit code) after printing what is wrong. */
export function readDemoArgs(argv: readonly string[], defaults: { steps: number; out: string }): DemoArgs | 2 {
  for (let i = 0; i < argv.length; i += 2) {
    if (!FLAGS.includes(argv[i]) || argv[i + 1] === undefined || argv[i + 1].startsWith('--')) {
      console.error(`${argv[i]}: expected one of ${FLAGS.join(', ')}, each with a value`);
      return 2;
    }
  }
  const steps = Number(flag(argv, 'steps', String(defaults.steps)));
  if (!Number.isInteger(steps) || steps < 1) {
    console.error(`--steps must be a positive integer (got ${flag(argv, 'steps', '')})`);
    return 2;
  }
  const browserName = flag(argv, 'browser', 'chromium') as BrowserName;
  if (!BROWSERS.includes(browserName)) {
    console.error(`--browser takes ${BROWSERS.join(' or ')} (got ${browserName})`);
    return 2;
  }
  return { steps, browserName, out: resolve(flag(argv, 'out', defaults.out)) };
}
