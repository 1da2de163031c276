import { describe, expect, test } from 'vitest';
import { encodeDispatchArgs, encodePlanTable, liveArgsOffset, planSet, type PlanLimits } from '../../src/plan';
import type { ResolvedView } from '../../src/views';
import { fakeBuffer } from '../shared/fake-device';

const limits: PlanLimits = {
  bindingsPerGroup: 6,
  maxBindingBytes: 128 * 1024 * 1024,
  offsetAlignment: 256,
  workgroupSize: 256,
  maxWorkgroups: 64,
  minElementsPerWorkgroup: 4096,
};

/** Every element of every view covered exactly once, inside its window. */
function expectExactCover(views: ResolvedView[], limitsUsed: PlanLimits) {
  const plan = planSet(views, limitsUsed);
  const covered = views.map((v) => new Uint8Array(v.length));
  for (const group of plan.groups) {
    expect(group.windows.length).toBeLessThanOrEqual(limitsUsed.bindingsPerGroup);
    for (const w of group.windows) {
      expect(w.offsetBytes % limitsUsed.offsetAlignment).toBe(0);
      expect(w.sizeBytes % 4).toBe(0);
      expect(w.sizeBytes).toBeLessThanOrEqual(limitsUsed.maxBindingBytes);
      expect(w.offsetBytes + w.sizeBytes).toBeLessThanOrEqual(w.buffer.size);
    }
    for (const c of group.chunks) {
      const w = group.windows[c.slot];
      const v = views[c.view];
      expect(c.offset + c.length).toBeLessThanOrEqual(w.sizeBytes / 4);
      expect(w.buffer).toBe(v.buffer);
      const first = (w.offsetBytes + c.offset * 4 - v.offsetBytes) / 4;
      for (let i = first; i < first + c.length; i++) covered[c.view][i]++;
    }
    // Workgroup ranges are contiguous, non-empty and cover every chunk in order.
    let next = 0;
    for (const [begin, end] of group.workgroupRanges) {
      expect(begin).toBe(next);
      expect(end).toBeGreaterThan(begin);
      next = end;
    }
    expect(next).toBe(group.chunks.length);
    expect(group.workgroupRanges.length).toBeLessThanOrEqual(limitsUsed.maxWorkgroups);
  }
  covered.forEach((c) => expect(c.every((n) => n === 1)).toBe(true));
  return plan;
}

describe('planSet', () => {
  test('an arena of 1 000 views is one dispatch group whatever the view count', () => {
    for (const count of [10, 1000]) {
      const buffer = fakeBuffer(count * 4096);
      const views = Array.from({ length: count }, (_, i) => ({ buffer, offsetBytes: i * 4096, length: 1000 + (i % 24) }));
      const plan = expectExactCover(views, limits);
      expect(plan.groups.length).toBe(1);
    }
  });

  test('separate buffers are packed bindingsPerGroup to a dispatch group', () => {
    for (const [buffers, groups] of [[5, 1], [6, 1], [7, 2], [50, 9], [500, 84]]) {
      const views = Array.from({ length: buffers }, () => ({ buffer: fakeBuffer(4 * 300), offsetBytes: 0, length: 300 }));
      const plan = expectExactCover(views, limits);
      expect(plan.groups.length).toBe(groups);
      expect(plan.partialCount).toBe(plan.groups.reduce((n, g) => n + g.workgroupRanges.length, 0));
    }
  });

  test('views at 4-byte offsets get aligned windows and element offsets', () => {
    const buffer = fakeBuffer(4096);
    const views = [
      { buffer, offsetBytes: 4, length: 3 },
      { buffer, offsetBytes: 20, length: 1 },
      { buffer, offsetBytes: 300, length: 257 },
    ];
    const plan = expectExactCover(views, limits);
    expect(plan.groups[0].windows[0]).toMatchObject({ offsetBytes: 0, sizeBytes: 300 + 257 * 4 });
    expect(plan.groups[0].chunks.map((c) => c.offset)).toEqual([1, 5, 75]);
  });

  test('a view larger than one binding is split across windows', () => {
    const small: PlanLimits = { ...limits, maxBindingBytes: 1000 }; // not a multiple of 256
    const buffer = fakeBuffer(10_000);
    const views = [{ buffer, offsetBytes: 12, length: 2000 }];
    const plan = expectExactCover(views, small);
    const windows = plan.groups.flatMap((g) => g.windows);
    expect(windows.length).toBe(Math.ceil(8012 / 768));
    expect(plan.groups.length).toBe(2);
  });

  test('work is balanced across workgroups', () => {
    const buffer = fakeBuffer(4 * 1_000_000);
    const views = [{ buffer, offsetBytes: 0, length: 900_000 }, { buffer, offsetBytes: 3_600_000, length: 100_000 }];
    const plan = expectExactCover(views, limits);
    const group = plan.groups[0];
    expect(group.workgroupRanges.length).toBe(64);
    const loads = group.workgroupRanges.map(([b, e]) => group.chunks.slice(b, e).reduce((n, c) => n + c.length, 0));
    expect(Math.max(...loads)).toBeLessThanOrEqual(1.25 * (1_000_000 / 64));
    expect(Math.min(...loads)).toBeGreaterThanOrEqual(0.75 * (1_000_000 / 64));
  });

  test('zero-length views are skipped; small sets use one workgroup', () => {
    const buffer = fakeBuffer(64);
    const plan = expectExactCover([{ buffer, offsetBytes: 0, length: 0 }, { buffer, offsetBytes: 16, length: 5 }], limits);
    expect(plan.groups[0].workgroupRanges).toEqual([[0, 1]]);
    expect(plan.elementCount).toBe(5);
  });
});

test('plan table and dispatch argument encodings', () => {
  const buffer = fakeBuffer(4096);
  const plan = planSet([{ buffer, offsetBytes: 4, length: 3 }, { buffer, offsetBytes: 64, length: 2 }], limits);
  expect(Array.from(encodePlanTable(plan.groups[0]))).toEqual([
    1, 0, 1, 0, // header: workgroups, partialBase, chunkBase, pad
    0, 2, 0, 0, // workgroup 0: chunks [0, 2)
    0, 1, 3, 0, // chunk: slot 0, offset 1, length 3, view 0
    0, 16, 2, 1,
  ]);
  expect(Array.from(encodeDispatchArgs(plan))).toEqual([1, 1, 0, 0, 1, 1, 1, 0, 1, 1]);
  expect(liveArgsOffset(plan, 0)).toBe(28);
});
