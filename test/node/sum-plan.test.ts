// clipPerExample's sum plan (src/plan/sum-plan.ts): which views share a window, the table each
// dispatch reads, and the lanes that cover every output once.
import { describe, expect, test } from 'vitest';
import { GradclipError } from '../../src/core/errors';
import { planPerExampleSum, type SumPlan } from '../../src/plan/sum-plan';
import type { ResolvedView } from '../../src/plan/views';
import { fakeBuffer } from '../shared/fake-device';

const limits = { offsetAlignment: 256, maxBindingBytes: 1 << 20, windowsPerDispatch: 5 };

/** Views of `lengths` floats one after another from 256-byte aligned offsets in one buffer. */
function arena(
  lengths: readonly number[],
  buffer = fakeBuffer(lengths.reduce((n, l) => n + Math.ceil(l / 64) * 256, 256)),
) {
  let at = 0;
  return lengths.map((length): ResolvedView => {
    const view = { buffer, offsetBytes: at, length, elementBytes: 4 as const };
    at += Math.ceil(length / 64) * 256;
    return view;
  });
}

/** Every (view, output vec4) a dispatch's lanes cover, from its table as the shader reads it. */
function covered(dispatch: SumPlan['dispatches'][number]): string[] {
  const t = dispatch.table;
  const [viewCount, , laneCount] = t;
  const out: string[] = [];
  for (let lane = 0; lane < laneCount; lane++) {
    const [entry, first, stride] = t.subarray(4 + 4 * (viewCount + lane));
    const [slot, , length, output] = t.subarray(4 + 4 * entry);
    const elements = slot < dispatch.vec4Slots ? 4 * length : length;
    for (let b = first; 4 * b < elements; b += stride) out.push(`${output} ${b}`);
  }
  return out.sort();
}

describe('the per-example sum plan', () => {
  test("an arena's views share one window and one dispatch, every output vec4 covered once", () => {
    const lengths = [4 * 160, 4 * 25_600, 4 * 160, 4 * 1000, 4 * 8];
    const views = arena(lengths);
    const plan = planPerExampleSum(views, 4, limits);
    expect(plan.dispatches).toHaveLength(1);
    const [d] = plan.dispatches;
    expect(d.windows).toEqual([
      { buffer: views[0].buffer, offset: 0, size: views[4].offsetBytes + 4 * 32, vec4: true },
    ]);
    expect(d.vec4Slots).toBe(1);
    // Per view: slot 0, its offset in vec4s, L in vec4s, its sum's element offset.
    const entries = Array.from({ length: 5 }, (_, v) => Array.from(d.table.subarray(4 + 4 * v, 8 + 4 * v)));
    expect(entries.map((e) => e[1])).toEqual(views.map((v) => v.offsetBytes / 16));
    expect(entries.map((e) => e[2])).toEqual(lengths.map((l) => l / 16));
    const expected = lengths.flatMap((l, v) => {
      const output = entries[v][3];
      return Array.from({ length: l / 16 }, (_, b) => `${output} ${b}`);
    });
    expect(covered(d)).toEqual(expected.sort());
    // No lane takes more than 64 output vec4s.
    for (let lane = 0; lane < d.lanes; lane++) {
      const [entry, , stride] = d.table.subarray(4 + 4 * (5 + lane));
      expect(Math.ceil(d.table[4 + 4 * entry + 2] / stride)).toBeLessThanOrEqual(64);
    }
  });

  test('views past one binding start a new window; separate buffers and scalar views get their own', () => {
    const big = arena([4 * 40_000, 4 * 40_000, 4 * 40_000]); // 640 000 B each: two fit no binding of 1 MiB
    const odd = arena([4 * 3, 4 * 5]); // per-example lengths 3 and 5: read as floats
    const plan = planPerExampleSum([...big, ...odd], 4, limits);
    const windows = plan.dispatches.flatMap((d) => d.windows);
    expect(windows.map((w) => [w.buffer === big[0].buffer, w.offset, w.vec4])).toEqual([
      [true, 0, true],
      [true, big[1].offsetBytes, true],
      [true, big[2].offsetBytes, true],
      [false, 0, false],
    ]);
    expect(plan.dispatches).toHaveLength(1);
    expect(plan.dispatches[0].vec4Slots).toBe(3);
    expect(covered(plan.dispatches[0])).toHaveLength(3 * 10_000 + 1 + 2);
  });

  test('more windows than a dispatch binds take more dispatches; a view over one binding is an error', () => {
    const views = Array.from({ length: 7 }, () => arena([64])[0]);
    expect(planPerExampleSum(views, 4, limits).dispatches.map((d) => d.windows.length)).toEqual([5, 2]);
    const huge = arena([(1 << 18) + 64]);
    expect(() => planPerExampleSum(huge, 4, { ...limits, maxBindingBytes: 1 << 20 })).toThrow(GradclipError);
    expect(() => planPerExampleSum(huge, 4, { ...limits, maxBindingBytes: 1 << 20 })).toThrow(/views\[0\] spans/);
  });
});
