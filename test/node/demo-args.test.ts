// The demo CLIs' flags (npm run demo:train / demo:gpt): defaults, values, and usage errors as exit code 2.
import { resolve } from 'node:path';
import { expect, test, vi } from 'vitest';
import { readDemoArgs } from '../../demo/demo-args';

const defaults = { steps: 200, out: 'results/x.png' };

test('defaults, and each flag read', () => {
  expect(readDemoArgs([], defaults)).toEqual({ steps: 200, browserName: 'chromium', out: resolve('results/x.png') });
  expect(readDemoArgs(['--steps', '60', '--browser', 'firefox', '--out', '/tmp/y.png'], defaults)).toEqual({
    steps: 60,
    browserName: 'firefox',
    out: '/tmp/y.png',
  });
});

test.each([
  [['--steps', '0'], /--steps must be a positive integer \(got 0\)/],
  [['--steps', '2.5'], /--steps must be a positive integer/],
  [['--browser', 'webkit'], /--browser takes chromium or firefox \(got webkit\)/],
  [['--step', '50'], /--step: expected one of --steps, --browser, --out, each with a value/],
  [['--steps'], /--steps: expected one of/],
  [['--out', '--steps', '3'], /--out: expected one of/],
])('%j: exit code 2 and a message', (argv, message) => {
  const error = vi.spyOn(console, 'error').mockImplementation(() => {});
  expect(readDemoArgs(argv, defaults)).toBe(2);
  expect(error.mock.calls[0][0]).toMatch(message);
  error.mockRestore();
});
