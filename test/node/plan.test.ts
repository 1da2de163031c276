import { describe, expect, test } from 'vitest';
import { CHUNK_WALK } from '../../src/core/abi';
import {
  encodeDispatchArgs,
  encodePlanTable,
  liveArgsOffset,
  planSet,
  type PlanLimits,
  type SetPlan,
} from '../../src/plan/windows';
import type { ResolvedView } from '../../src/plan/views';
import { fakeBuffer } from '../shared/fake-device';

const limits: PlanLimits = {
  bindingsPerGroup: 6,
  maxBindingBytes: 128 * 1024 * 1024,
  offsetAlignment: 256,
  workgroupSize: 256,
  maxWorkgroups: 64,
  minElementsPerWorkgroup: 4096,
};

/** Where each planned element lands: buffer, byte offset and size (4 for f32, 2 for f16). */
function coveredBytes(plan: SetPlan): Array<{ buffer: GPUBuffer; byte: number; bytes: number }> {
  const out: Array<{ buffer: GPUBuffer; byte: number; bytes: number }> = [];
  for (const group of plan.groups) {
    for (const c of group.chunks) {
      const w = group.windows[c.slot];
      const [first, end] = w.scalar ? [c.offset, c.offset + c.count] : [c.offset * 4, (c.offset + c.count) * 4];
      for (let e = first; e < end; e++)
        out.push({ buffer: w.buffer, byte: w.offsetBytes + (w.half ? 2 : 4) * e, bytes: w.half ? 2 : 4 });
    }
    for (const b of group.boundaries) {
      const w = group.windows[b.slot];
      expect(w.scalar).toBe(false);
      for (let k = 0; k < 4; k++) {
        if (b.mask & (1 << k))
          out.push({
            buffer: w.buffer,
            byte: w.offsetBytes + (w.half ? 2 : 4) * (4 * b.index + k),
            bytes: w.half ? 2 : 4,
          });
      }
    }
  }
  return out;
}

/** Every element of every view covered exactly once, nothing else covered, all limits respected. */
function expectExactCover(views: ResolvedView[], limitsUsed: PlanLimits) {
  const plan = planSet(views, limitsUsed);
  for (const group of plan.groups) {
    expect(group.windows.length).toBeLessThanOrEqual(limitsUsed.bindingsPerGroup);
    expect(group.windows.map((w) => w.scalar)).toEqual(group.windows.map((_, i) => i >= group.vec4Slots));
    for (const w of group.windows) {
      expect(w.offsetBytes % limitsUsed.offsetAlignment).toBe(0);
      expect(w.sizeBytes % (w.scalar ? 4 : w.half ? 8 : 16)).toBe(0);
      expect(w.sizeBytes).toBeLessThanOrEqual(limitsUsed.maxBindingBytes);
      expect(w.offsetBytes + w.sizeBytes).toBeLessThanOrEqual(w.buffer.size);
      // Under 16 bytes only where no vec4 window of the buffer could give up an alignment to it.
      if (w.scalar && w.sizeBytes < 16)
        expect(plan.groups.some((g) => g.windows.some((o) => o.buffer === w.buffer && !o.scalar))).toBe(false);
    }
    // Windows of one buffer never overlap (writable bindings must not alias).
    const sorted = group.windows.slice().sort((a, b) => a.offsetBytes - b.offsetBytes);
    sorted.forEach((w, i) => {
      const next = sorted.slice(i + 1).find((o) => o.buffer === w.buffer);
      if (next) expect(next.offsetBytes).toBeGreaterThanOrEqual(w.offsetBytes + w.sizeBytes);
    });
    let next = 0;
    const mediumLanes = Math.min(CHUNK_WALK.MEDIUM_CHUNK_LANES, limitsUsed.workgroupSize);
    for (const [begin, end, firstMedium, firstSmall] of group.workgroupRanges) {
      expect(begin).toBe(next);
      // Large chunks (all lanes) first, then medium ones (a few lanes each), then small ones (a
      // lane each, fewer loads than there are lanes).
      expect(begin <= firstMedium && firstMedium <= firstSmall && firstSmall <= end).toBe(true);
      const loads = (c: (typeof group.chunks)[number]) => (c.slot < group.vec4Slots ? c.count : c.count / 4);
      for (const c of group.chunks.slice(firstSmall, end)) expect(loads(c)).toBeLessThan(limitsUsed.workgroupSize);
      for (const c of group.chunks.slice(firstMedium, firstSmall)) {
        expect(loads(c)).toBeGreaterThanOrEqual(limitsUsed.workgroupSize);
        expect(loads(c)).toBeLessThan(mediumLanes * limitsUsed.workgroupSize);
      }
      for (const c of group.chunks.slice(begin, firstMedium))
        expect(loads(c)).toBeGreaterThanOrEqual(mediumLanes * limitsUsed.workgroupSize);
      next = end;
    }
    expect(next).toBe(group.chunks.length);
    expect(group.workgroupRanges.length).toBeLessThanOrEqual(limitsUsed.maxWorkgroups);
    const keys = group.boundaries.map((b) => `${b.slot}:${b.index}`);
    expect(new Set(keys).size).toBe(keys.length); // each boundary vec4 owned once
  }
  // Count coverage per 2-byte half-word of each buffer: every view element once, nothing else.
  const buffers = [...new Set(views.map((v) => v.buffer))];
  const counts = buffers.map((b) => new Uint8Array(b.size / 2));
  for (const c of coveredBytes(plan)) {
    for (let h = c.byte / 2; h < (c.byte + c.bytes) / 2; h++) counts[buffers.indexOf(c.buffer)][h]++;
  }
  const wanted = buffers.map((b) => new Uint8Array(b.size / 2));
  for (const v of views)
    wanted[buffers.indexOf(v.buffer)].fill(1, v.offsetBytes / 2, (v.offsetBytes + v.length * v.elementBytes) / 2);
  counts.forEach((c, i) => {
    const mismatch = c.findIndex((n, h) => n !== wanted[i][h]);
    expect(mismatch === -1 ? 'exact cover' : `buffer ${i} half-word ${mismatch} covered ${c[mismatch]} times`).toBe(
      'exact cover',
    );
  });
  return plan;
}

test('a scalar tail window is never under 16 bytes where the buffer has room (wgpu keeps a vec4 minimum across pipelines)', () => {
  for (const offsetAlignment of [32, 256]) {
    // 66 floats: 264 bytes, a tail of 2 floats past the last whole vec4.
    const views = Array.from({ length: 10 }, () => ({
      buffer: fakeBuffer(264),
      offsetBytes: 0,
      length: 66,
      elementBytes: 4 as const,
    }));
    const plan = expectExactCover(views, { ...limits, offsetAlignment });
    const tails = plan.groups.flatMap((g) => g.windows.filter((w) => w.scalar));
    expect(tails).toHaveLength(10);
    for (const w of tails) expect(w.sizeBytes).toBe(264 - (256 - offsetAlignment));
  }
});

describe('planSet', () => {
  test('an arena of 1 000 views is one dispatch group whatever the view count', () => {
    for (const count of [10, 1000]) {
      const buffer = fakeBuffer(count * 4096);
      const views = Array.from({ length: count }, (_, i) => ({
        buffer,
        offsetBytes: i * 4096,
        length: 1000 + (i % 24),
        elementBytes: 4 as const,
      }));
      const plan = expectExactCover(views, limits);
      expect(plan.groups.length).toBe(1);
      expect(plan.groups[0].vec4Slots).toBe(1);
    }
  });

  test('consecutive views that meet exactly merge into few chunks', () => {
    const buffer = fakeBuffer(148 * 4096);
    const views = Array.from({ length: 148 }, (_, i) => ({
      buffer,
      offsetBytes: i * 4096,
      length: 1024,
      elementBytes: 4 as const,
    }));
    const plan = expectExactCover(views, { ...limits, maxWorkgroups: 4 });
    expect(plan.groups[0].chunks.length).toBeLessThanOrEqual(4 * 4 + 1);
    expect(plan.groups[0].boundaries).toEqual([]);
  });

  test('separate buffers are packed bindingsPerGroup to a dispatch group', () => {
    for (const [buffers, groups] of [
      [5, 1],
      [6, 1],
      [7, 2],
      [50, 9],
      [500, 84],
    ]) {
      const views = Array.from({ length: buffers }, () => ({
        buffer: fakeBuffer(4 * 300),
        offsetBytes: 0,
        length: 300,
        elementBytes: 4 as const,
      }));
      const plan = expectExactCover(views, limits);
      expect(plan.groups.length).toBe(groups);
      expect(plan.partialCount).toBe(plan.groups.reduce((n, g) => n + g.workgroupRanges.length, 0));
    }
  });

  test('views at 4-byte offsets: whole vec4s become chunks, the rest boundary vec4s', () => {
    const buffer = fakeBuffer(4096);
    const views = [
      { buffer, offsetBytes: 4, length: 3, elementBytes: 4 as const }, // elements 1..3: one boundary vec4
      { buffer, offsetBytes: 20, length: 1, elementBytes: 4 as const }, // element 5
      { buffer, offsetBytes: 24, length: 2, elementBytes: 4 as const }, // elements 6, 7 share vec4 1 with view 1
      { buffer, offsetBytes: 300, length: 257, elementBytes: 4 as const }, // elements 75 .. 331: one partial, then 64 whole vec4s
    ];
    const plan = expectExactCover(views, limits);
    const group = plan.groups[0];
    expect(group.windows[0]).toMatchObject({ offsetBytes: 0, sizeBytes: 1328 });
    expect(group.boundaries.map((b) => [b.index, b.mask])).toEqual([
      [0, 0b1110],
      [1, 0b1110],
      [18, 0b1000],
    ]);
    expect(group.chunks.map((c) => [c.offset, c.count])).toEqual([[19, 64]]);
  });

  test("the bytes past a buffer's last whole vec4 get a scalar window after the vec4 ones", () => {
    const a = fakeBuffer(12); // 3 floats: no whole vec4 at all
    const b = fakeBuffer(4 * 1003); // 1003 floats: a vec4 window to byte 3840, a scalar one after
    const views = [
      { buffer: a, offsetBytes: 0, length: 3, elementBytes: 4 as const },
      { buffer: b, offsetBytes: 0, length: 1003, elementBytes: 4 as const },
      { buffer: b, offsetBytes: 0, length: 0, elementBytes: 4 as const },
    ];
    const plan = expectExactCover(views, limits);
    const group = plan.groups[0];
    expect(group.vec4Slots).toBe(1);
    expect(group.windows).toEqual([
      { buffer: b, offsetBytes: 0, sizeBytes: 3840, scalar: false, half: false },
      { buffer: a, offsetBytes: 0, sizeBytes: 12, scalar: true, half: false },
      { buffer: b, offsetBytes: 3840, sizeBytes: 172, scalar: true, half: false },
    ]);
  });

  test('f16 buffers get vec4<f16> windows (8-byte vec4s) and word-aligned scalar tails, in the slot order f32 vec4, f16 vec4, f16 scalar, f32 scalar', () => {
    const f32 = fakeBuffer(4 * 1003); // vec4 window to 3840, scalar tail after
    const halves = fakeBuffer(2 * 1002); // 1002 halves = 2004 bytes: vec4<f16> window to 1792, tail of 212
    const small = fakeBuffer(8); // 3 halves in one vec4<f16>: a boundary vec4
    const views = [
      { buffer: f32, offsetBytes: 0, length: 1003, elementBytes: 4 as const },
      { buffer: halves, offsetBytes: 2, length: 1001, elementBytes: 2 as const },
      { buffer: small, offsetBytes: 0, length: 3, elementBytes: 2 as const },
    ];
    const plan = expectExactCover(views, limits);
    const group = plan.groups[0];
    expect(group.windows).toEqual([
      { buffer: f32, offsetBytes: 0, sizeBytes: 3840, scalar: false, half: false },
      { buffer: halves, offsetBytes: 0, sizeBytes: 1792, scalar: false, half: true },
      { buffer: small, offsetBytes: 0, sizeBytes: 8, scalar: false, half: true },
      { buffer: halves, offsetBytes: 1792, sizeBytes: 212, scalar: true, half: true },
      { buffer: f32, offsetBytes: 3840, sizeBytes: 172, scalar: true, half: false },
    ]);
    expect(group.vec4Slots).toBe(3);
    expect(group.halfSlots).toEqual([1, 4]);
    // Element 1 of the f16 buffer starts mid-vec4: a boundary of three halves, then whole vec4<f16>s.
    expect(group.boundaries).toEqual([
      { slot: 1, index: 0, mask: 0b1110, view: 1 },
      { slot: 2, index: 0, mask: 0b0111, view: 2 },
    ]);
    expect(group.chunks.find((c) => c.slot === 1)).toMatchObject({ offset: 1, view: 1 });
  });

  test('vec4 windows fill the first dispatch groups, scalar tails the last', () => {
    const views = Array.from({ length: 10 }, (_, i) => ({
      buffer: fakeBuffer(i % 2 ? 1024 : 1020),
      offsetBytes: 0,
      length: i % 2 ? 256 : 255,
      elementBytes: 4 as const,
    }));
    const plan = expectExactCover(views, limits);
    // 1020-byte buffers: a vec4 window to byte 768 and a scalar one after: 10 vec4 + 5 scalar windows.
    expect(plan.groups.map((g) => g.vec4Slots)).toEqual([6, 4, 0]);
    expect(plan.groups.map((g) => g.windows.length)).toEqual([6, 6, 3]);
  });

  test('a view larger than one binding is split across windows', () => {
    const small: PlanLimits = { ...limits, maxBindingBytes: 1000 }; // not a multiple of 256
    const buffer = fakeBuffer(10_000);
    const plan = expectExactCover([{ buffer, offsetBytes: 12, length: 2000, elementBytes: 4 as const }], small);
    const windows = plan.groups.flatMap((g) => g.windows);
    expect(windows.length).toBe(Math.ceil(8016 / 768));
    expect(plan.groups.length).toBe(2);
  });

  test('work is balanced across workgroups', () => {
    const buffer = fakeBuffer(4 * 1_000_000);
    const views = [
      { buffer, offsetBytes: 0, length: 900_000, elementBytes: 4 as const },
      { buffer, offsetBytes: 3_600_000, length: 100_000, elementBytes: 4 as const },
    ];
    const group = expectExactCover(views, limits).groups[0];
    expect(group.workgroupRanges.length).toBe(64);
    const loads = group.workgroupRanges.map(([b, e]) => group.chunks.slice(b, e).reduce((n, c) => n + 4 * c.count, 0));
    expect(Math.max(...loads)).toBeLessThanOrEqual(1.25 * (1_000_000 / 64));
    expect(Math.min(...loads)).toBeGreaterThanOrEqual(0.75 * (1_000_000 / 64));
  });

  test('tiny sets use one workgroup, also when only boundary vec4s remain', () => {
    const buffer = fakeBuffer(64);
    const plan = expectExactCover(
      [
        { buffer, offsetBytes: 0, length: 0, elementBytes: 4 as const },
        { buffer, offsetBytes: 20, length: 2, elementBytes: 4 as const },
      ],
      limits,
    );
    expect(plan.groups[0].workgroupRanges).toEqual([[0, 0, 0, 0]]);
    expect(plan.elementCount).toBe(2);
  });
});

test('plan table and dispatch argument encodings', () => {
  const buffer = fakeBuffer(4096);
  const plan = planSet(
    [
      { buffer, offsetBytes: 4, length: 3, elementBytes: 4 as const },
      { buffer, offsetBytes: 64, length: 8, elementBytes: 4 as const },
    ],
    limits,
  );
  expect(Array.from(encodePlanTable(plan.groups[0]))).toEqual([
    1,
    0,
    1,
    2,
    1,
    0,
    0,
    0, // header: workgroups, partialBase, chunkBase, boundaryBase, boundaryCount
    0,
    1,
    0,
    0, // workgroup 0: chunks [0, 1)
    0,
    4,
    2,
    1, // chunk: slot 0, vec4 offset 4, 2 vec4s, view 1
    0,
    0,
    0b1110,
    0, // boundary: slot 0, vec4 0, components 1..3, view 0
  ]);
  expect(Array.from(encodeDispatchArgs(plan))).toEqual([1, 1, 0, 0, 1, 1, 1, 0, 1, 1]);
  expect(liveArgsOffset(plan, 0)).toBe(28);
});
