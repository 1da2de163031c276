// The training demo's outcome, headless: the same model, data and learning rate trained side by
// side with each clipping mode through gradclip's fused optimizer on TF.js's gradients. Without
// clipping the run must diverge; every clipped run must stay finite and lower its loss, with the
// monitors reading back once per `readEvery` steps and never per step.
import { expect, test } from 'vitest';
import { tfjsOn } from '../../demo/bench/methods';
import { CLIP_MODES, DIVERGED_NORM, trainSideBySide } from '../../demo/train/run';
import { sharedDevice, withErrorScopes } from './gpu';

const STEPS = 80;
const READ_EVERY = 10;

test(`${STEPS} steps: no clipping diverges, clipping by norm, by value and AutoClip train`, async () => {
  const device = await sharedDevice();
  const tf = await tfjsOn(device);
  await import('@tensorflow/tfjs-core/dist/register_all_gradients');
  const seen = new Map<string, number>();
  const outcomes = await withErrorScopes(device, () =>
    trainSideBySide(tf, device, {
      steps: STEPS,
      settings: { readEvery: READ_EVERY },
      onRecords: (mode, records) => seen.set(mode, (seen.get(mode) ?? 0) + records.length),
    }),
  );
  expect(outcomes.map((o) => o.mode)).toEqual([...CLIP_MODES]);
  for (const o of outcomes) {
    expect(o.records.map((r) => r.step)).toEqual(Array.from({ length: STEPS }, (_, i) => i));
    expect(seen.get(o.mode)).toBe(STEPS);
    expect(o.mapAsyncCalls).toBe(STEPS / READ_EVERY);
  }
  const [none, ...clipped] = outcomes;
  expect(none.diverged).toBe(true);
  expect(none.records.some((r) => !Number.isFinite(r.loss) || r.norm > DIVERGED_NORM)).toBe(true);
  for (const o of clipped) {
    expect(o.diverged, o.mode).toBe(false);
    expect(o.records.every((r) => Number.isFinite(r.loss) && Number.isFinite(r.norm)), o.mode).toBe(true);
    expect(o.lastLoss, o.mode).toBeLessThan(0.75 * o.firstLoss);
  }
  // AutoClip's threshold was recorded on the GPU and is finite once it has a history.
  const auto = outcomes.find((o) => o.mode === 'autoclip')!;
  expect(auto.records.slice(1).every((r) => Number.isFinite(r.threshold) && r.threshold > 0)).toBe(true);
});
