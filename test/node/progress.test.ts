// The demo CLIs' progress lines: durations as a person reads them, and the time left at the pace so far.
import { expect, test } from 'vitest';
import { formatDuration, StepClock } from '../../demo/progress';

test('durations', () => {
  expect(formatDuration(0)).toBe('0 s');
  expect(formatDuration(44_600)).toBe('45 s');
  expect(formatDuration(185_000)).toBe('3 min 05 s');
  expect(formatDuration(4_320_000)).toBe('1 h 12 min');
});

test('the time left: at first from all the time so far, then at the pace since the first report', () => {
  let now = 1000;
  const clock = new StepClock(100, () => now);
  expect(clock.line(0)).toBe('step 0/100 · 0 s so far, estimating the time left');
  now += 30_000; // 10 s of set-up, then 20 steps of 1 s
  expect(clock.line(20)).toBe('step 20/100 · 30 s so far, about 2 min 00 s left');
  now += 40_000; // 40 steps of 1 s: the set-up no longer counts
  expect(clock.line(60)).toBe('step 60/100 · 1 min 10 s so far, about 40 s left');
  now += 40_000;
  expect(clock.line(100)).toBe('step 100/100 · 1 min 50 s so far, about 0 s left');
  expect(clock.elapsed()).toBe('1 min 50 s');
});
