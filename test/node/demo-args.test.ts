// The demo CLIs' flags (npm run demo:train / demo:gpt): defaults, values, switches, and usage errors as exit code 2.
import { resolve } from 'node:path';
import { expect, test, vi } from 'vitest';
import { readDemoArgs } from '../../demo/demo-args';

const defaults = { steps: 200, out: 'results/x.png', switches: ['full'] };

test('defaults, and each flag read', () => {
  expect(readDemoArgs([], defaults)).toEqual({
    steps: 200,
    browserName: 'chromium',
    out: resolve('results/x.png'),
    switches: [],
  });
  expect(readDemoArgs(['--steps', '60', '--full', '--browser', 'firefox', '--out', '/tmp/y.png'], defaults)).toEqual({
    steps: 60,
    browserName: 'firefox',
    out: '/tmp/y.png',
    switches: ['full'],
  });
  // A demo whose default steps depend on the adapter leaves them to the page.
  expect(readDemoArgs([], { steps: null, out: 'a.png' })).toMatchObject({ steps: null });
});

test.each([
  [['--steps', '0'], /--steps must be a positive integer \(got 0\)/],
  [['--steps', '2.5'], /--steps must be a positive integer/],
  [['--browser', 'webkit'], /--browser takes chromium or firefox \(got webkit\)/],
  [['--step', '50'], /--step: expected one of --steps VALUE, --browser VALUE, --out VALUE, --full/],
  [['--steps'], /--steps: expected one of/],
  [['--out', '--steps', '3'], /--out: expected one of/],
  [['--full', 'yes'], /yes: expected one of/],
])('%j: exit code 2 and a message', (argv, message) => {
  const error = vi.spyOn(console, 'error').mockImplementation(() => {});
  expect(readDemoArgs(argv, defaults)).toBe(2);
  expect(error.mock.calls[0][0]).toMatch(message);
  error.mockRestore();
});

test('a switch another demo declares is a usage error here', () => {
  const error = vi.spyOn(console, 'error').mockImplementation(() => {});
  expect(readDemoArgs(['--full'], { steps: 200, out: 'a.png' })).toBe(2);
  error.mockRestore();
});
