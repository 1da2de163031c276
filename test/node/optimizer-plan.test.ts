// The fused optimizer's plan (src/plan/optimizer-plan.ts): one read-write window per buffer,
// views packed into dispatches of at most the binding budget, each view's quads and state offset,
// and which dispatches get the update kernel specialised for one (gradient, parameter) slot pair.
import { describe, expect, test } from 'vitest';
import { planOptimizer, type OptimizerLimits } from '../../src/plan/optimizer-plan';
import type { ResolvedView } from '../../src/plan/views';
import { fakeBuffer } from '../shared/fake-device';

const LIMITS: OptimizerLimits = { offsetAlignment: 256, maxBindingBytes: 1 << 20, windowsPerDispatch: 4 };

function views(buffer: GPUBuffer, lengths: number[], firstOffsetBytes = 0): ResolvedView[] {
  let at = firstOffsetBytes;
  return lengths.map((length) => {
    const view: ResolvedView = { buffer, offsetBytes: at, length, elementBytes: 4 };
    at += length * 4 + 12;
    return view;
  });
}

describe('planOptimizer', () => {
  test('an arena pair: one dispatch, one slot pair, each view on its own vec4 of state', () => {
    const lengths = [1, 7, 300, 4099];
    const plan = planOptimizer(views(fakeBuffer(1 << 16), lengths, 12), views(fakeBuffer(1 << 16), lengths, 4), LIMITS);
    expect(plan.dispatches).toHaveLength(1);
    const [d] = plan.dispatches;
    expect(d.slots).toEqual([0, 1]);
    expect(d.windows).toHaveLength(2);
    const quads = lengths.map((n) => Math.ceil(n / 4));
    expect(d.lanes).toBe(quads.reduce((a, b) => a + b));
    expect(plan.stateOffsets).toEqual([0, 4, 12, 312]);
    expect(plan.stateElements).toBe(4 * d.lanes);
    // Header, then (slot, element offset) pairs, then (state vec4, length, first quad).
    expect([...d.table.slice(0, 2)]).toEqual([4, d.lanes]);
    expect([...d.table.slice(4, 8)]).toEqual([0, 3, 1, 1]);
    expect([...d.table.slice(4 + 16 + 12, 4 + 16 + 15)]).toEqual([312 / 4, 4099, 1 + 2 + 75]);
  });

  test('gradients and parameters in one buffer: one window, slot pair (0, 0)', () => {
    const buffer = fakeBuffer(1 << 16);
    const plan = planOptimizer(views(buffer, [5, 9]), views(buffer, [5, 9], 4096), LIMITS);
    expect(plan.dispatches.map((d) => [d.windows.length, d.slots])).toEqual([[1, [0, 0]]]);
  });

  test('a buffer per view: dispatches within the binding budget, each switching slots from its table', () => {
    const lengths = [10, 20, 30, 40, 50];
    const grads = lengths.map((n) => views(fakeBuffer(4 * n), [n])[0]);
    const params = lengths.map((n) => views(fakeBuffer(4 * n), [n])[0]);
    const plan = planOptimizer(grads, params, LIMITS);
    expect(plan.dispatches.map((d) => d.windows.length)).toEqual([4, 4, 2]);
    expect(plan.dispatches.map((d) => d.slots)).toEqual([null, null, [0, 1]]);
    expect(plan.dispatches.map((d) => d.lanes)).toEqual([3 + 5, 8 + 10, 13]);
  });

  test('empty views take no quads and no dispatch', () => {
    const plan = planOptimizer(views(fakeBuffer(4096), [0, 8]), views(fakeBuffer(4096), [0, 8]), LIMITS);
    expect(plan.dispatches).toHaveLength(1);
    expect(plan.dispatches[0].table[0]).toBe(1);
    expect(plan.stateOffsets).toEqual([0, 0]);
  });

  test('state beyond one binding is refused', () => {
    const big = views(fakeBuffer(1 << 22), [(1 << 18) + 4]);
    expect(() => planOptimizer(big, views(fakeBuffer(1 << 22), [(1 << 18) + 4]), LIMITS)).toThrow(
      /optimizer state needs/,
    );
  });
});
