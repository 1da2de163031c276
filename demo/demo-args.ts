// The flags the demo CLIs take: --steps N, --browser chromium|firefox, --out PATH (the PNG), and
// the switches a demo declares (demo:gpt's --full).
import { resolve } from 'node:path';
import { BROWSERS, type BrowserName } from './browser-names';

export interface DemoArgs {
  /** Steps of each run; null: the demo's default (demo:gpt's depends on the adapter). */
  steps: number | null;
  browserName: BrowserName;
  /** Absolute path of the PNG to write. */
  out: string;
  /** The declared switches given. */
  switches: string[];
}

const VALUED = ['--steps', '--browser', '--out'];

/** The demo's flags, or 2 (the usage exit code) after printing what is wrong. */
export function readDemoArgs(
  argv: readonly string[],
  defaults: { steps: number | null; out: string; switches?: readonly string[] },
): DemoArgs | 2 {
  const switches = (defaults.switches ?? []).map((s) => `--${s}`);
  const given = new Map<string, string>();
  const on: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (switches.includes(argv[i])) {
      on.push(argv[i].slice(2));
      continue;
    }
    if (!VALUED.includes(argv[i]) || argv[i + 1] === undefined || argv[i + 1].startsWith('--')) {
      const known = [...VALUED.map((f) => `${f} VALUE`), ...switches].join(', ');
      console.error(`${argv[i]}: expected one of ${known}`);
      return 2;
    }
    given.set(argv[i], argv[++i]);
  }
  const stepsText = given.get('--steps');
  const steps = stepsText === undefined ? defaults.steps : Number(stepsText);
  if (steps !== null && (!Number.isInteger(steps) || steps < 1)) {
    console.error(`--steps must be a positive integer (got ${stepsText})`);
    return 2;
  }
  const browserName = (given.get('--browser') ?? 'chromium') as BrowserName;
  if (!BROWSERS.includes(browserName)) {
    console.error(`--browser takes ${BROWSERS.join(' or ')} (got ${browserName})`);
    return 2;
  }
  return { steps, browserName, out: resolve(given.get('--out') ?? defaults.out), switches: on };
}
