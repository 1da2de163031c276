// AGC's one-pass plan (plan/agc-rows.ts): on 500 seeded layouts, whenever it applies, its rows
// cover every unit of the gradients and of the weights exactly once, at the right bytes of each
// window, and each lane's rows are the unit plan's; where a unit is not whole vec4s of one lane in
// one f32 window (or the weights share the gradients' buffer) it declines. The benchmark's
// transformer takes it at the caps a CPU adapter gets, with neighbouring lanes on rows of one length.
import { expect, test } from 'vitest';
import { planAgcRows, type AgcRowPlan } from '../../src/plan/agc-rows';
import { planSegments, unitSegments } from '../../src/plan/segments';
import type { ResolvedView } from '../../src/plan/views';
import type { PlanLimits } from '../../src/plan/windows';
import { fakeBuffer } from '../shared/fake-device';
import { seededRandom } from '../shared/random';
import { lockstepCost } from '../shared/lockstep';

const HEADER_WORDS = 4;

/** Each lane's steps (lockstepCost): its rows in the table, each its vec4 loads plus one table read. */
function rowSteps(rows: AgcRowPlan): number[][] {
  const words = rows.table;
  const [lanes, laneBase] = words;
  const first = (lane: number) => words[HEADER_WORDS + 4 * laneBase + lane];
  return Array.from({ length: lanes }, (_, lane) =>
    Array.from({ length: first(lane + 1) - first(lane) }, (_, k) => {
      const row = first(lane) + k;
      return Math.ceil(words[HEADER_WORDS + 4 * row + 2] / 4) + 1;
    }),
  );
}

function limitsWith(maxWorkgroups: number, offsetAlignment = 256): PlanLimits {
  return {
    bindingsPerGroup: 6,
    maxBindingBytes: 128 << 20,
    offsetAlignment,
    workgroupSize: 64,
    maxWorkgroups,
    minElementsPerWorkgroup: 1 << 14,
  };
}

/** `shapes` laid out in one new buffer from `start` bytes, each view `gap` bytes after the last. */
function layout(shapes: Array<[number, number] | number>, start: number, gap: number, elementBytes: 2 | 4 = 4) {
  let at = start;
  const entries = shapes.map((s) => {
    const length = typeof s === 'number' ? s : s[0] * s[1];
    const entry = { offsetBytes: at, length, elementBytes, shape: typeof s === 'number' ? undefined : s };
    at += elementBytes * length + gap;
    return entry;
  });
  const buffer = fakeBuffer(Math.ceil(at / 16) * 16 + 64);
  return entries.map((e): ResolvedView => ({ buffer, ...e }));
}

function plan(grads: ResolvedView[], weights: ResolvedView[], limits: PlanLimits): AgcRowPlan | null {
  const { ranges, count } = unitSegments(grads);
  return planAgcRows(planSegments(grads, ranges, count, limits), ranges, weights, limits);
}

/** Checks every row against the units: gradient and weight bytes, and the lanes' order (the first wrong row, named). */
function expectRowsCoverUnits(rows: AgcRowPlan, grads: ResolvedView[], weights: ResolvedView[]): void {
  const { ranges } = unitSegments(grads);
  const words = rows.table;
  const [lanes, laneBase] = words;
  expect(lanes).toBe(rows.lanes);
  const rowCount = laneBase;
  expect(rowCount).toBe(ranges.length);
  const [gradWindow, weightWindow] = rows.windows;
  expect(gradWindow.buffer).not.toBe(weightWindow.buffer);
  expect(weightWindow.offsetBytes + weightWindow.sizeBytes).toBeLessThanOrEqual(weightWindow.buffer.size);
  const seen = new Uint8Array(ranges.length);
  const wrong: string[] = [];
  for (let r = 0; r < rowCount && wrong.length === 0; r++) {
    const [gradOffset, weightOffset, count, unit] = words.subarray(HEADER_WORDS + 4 * r, HEADER_WORDS + 4 * r + 4);
    const { view, start, end } = ranges[unit];
    const checks: Array<[string, boolean]> = [
      ['unit seen once', seen[unit] === 0],
      ['whole row', 4 * count === end - start],
      ['gradient bytes', gradWindow.offsetBytes + 16 * gradOffset === grads[view].offsetBytes + 4 * start],
      ['weight bytes', weightWindow.offsetBytes + 16 * weightOffset === weights[view].offsetBytes + 4 * start],
      ['inside the gradient window', 16 * (gradOffset + count) <= gradWindow.sizeBytes],
      ['inside the weight window', 16 * (weightOffset + count) <= weightWindow.sizeBytes],
    ];
    seen[unit] = 1;
    for (const [what, ok] of checks) if (!ok) wrong.push(`row ${r} (unit ${unit}): ${what}`);
  }
  expect(wrong).toEqual([]);
  const firsts = words.subarray(HEADER_WORDS + 4 * laneBase, HEADER_WORDS + 4 * laneBase + lanes + 1);
  expect(firsts[0]).toBe(0);
  expect(firsts[lanes]).toBe(rowCount);
  expect(firsts.every((f, l) => l === 0 || f >= firsts[l - 1])).toBe(true);
}

test("the benchmark's transformer takes the one-pass plan at caps of 1 to 16 workgroups; at 256 its rows are shared by lanes", async () => {
  const { transformerShapes } = await import('../../demo/bench/cases');
  const shapes = transformerShapes().map((t) => t.shape ?? t.length);
  const grads = layout(shapes, 0, 256);
  const weights = layout(shapes, 512, 256);
  for (const cap of [1, 2, 4, 16]) {
    const rows = plan(grads, weights, limitsWith(cap));
    expect(rows, `cap ${cap}`).not.toBeNull();
    expectRowsCoverUnits(rows!, grads, weights);
    // Neighbouring lanes sweep rows of one length: SwiftShader's groups of 4 lanes waited 1.47x
    // (cap 2) with each lane's rows in plan order; warps of 32 wait a little at tensor edges.
    expect(lockstepCost(rowSteps(rows!), 4), `cap ${cap}`).toBeLessThan(1.02);
    expect(lockstepCost(rowSteps(rows!), 32), `cap ${cap}`).toBeLessThan(1.1);
  }
  // A wide GPU's cap spreads each 640-float row over lanes: the general passes, as before.
  expect(plan(grads, weights, limitsWith(256))).toBeNull();
});

test('500 seeded layouts: every plan made covers the units exactly; a unit that is not whole vec4s declines it', () => {
  let planned = 0;
  for (let seed = 1; seed <= 500; seed++) {
    const random = seededRandom(seed);
    const int = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));
    const shapes = Array.from({ length: int(1, 12) }, (): [number, number] | number =>
      random() < 0.7 ? [int(1, 40), 4 * int(1, 40) + (random() < 0.2 ? int(1, 3) : 0)] : 4 * int(1, 300),
    );
    const grads = layout(shapes, 16 * int(0, 8), 16 * int(0, 3) + (random() < 0.1 ? 4 : 0));
    const weights = layout(shapes, 16 * int(0, 8) + (random() < 0.1 ? 8 : 0), 16 * int(0, 3));
    const limits = limitsWith(random() < 0.5 ? 1 : int(2, 64), [32, 256][int(0, 1)]);
    const rows = plan(grads, weights, limits);
    const wholeVec4s = (views: ResolvedView[]) =>
      unitSegments(views).ranges.every(
        (u) => (views[u.view].offsetBytes / 4 + u.start) % 4 === 0 && (u.end - u.start) % 4 === 0,
      );
    if (!wholeVec4s(grads) || !wholeVec4s(weights)) {
      expect(rows, `seed ${seed}`).toBeNull();
      continue;
    }
    if (!rows) continue; // a unit shared by lanes: the general passes
    planned++;
    expectRowsCoverUnits(rows, grads, weights);
  }
  expect(planned).toBeGreaterThan(50);
});

test('declines f16 gradients, weights in the gradients’ buffer, and weights in two buffers', () => {
  const shapes: Array<[number, number]> = [
    [8, 16],
    [4, 4],
  ];
  const grads = layout(shapes, 0, 16);
  const weights = layout(shapes, 0, 16);
  const limits = limitsWith(2);
  expect(plan(grads, weights, limits)).not.toBeNull();
  expect(plan(layout(shapes, 0, 16, 2), weights, limits)).toBeNull();
  const shared = fakeBuffer(1 << 16);
  const inShared = (views: ResolvedView[], from: number) =>
    views.map((v) => ({ ...v, buffer: shared, offsetBytes: v.offsetBytes + from }));
  expect(plan(inShared(grads, 0), inShared(weights, 4096), limits)).toBeNull();
  expect(plan(inShared(grads, 0), weights, limits)).not.toBeNull();
  const split = [weights[0], layout([shapes[1]], 0, 16)[0]];
  expect(plan(grads, split, limits)).toBeNull();
});
