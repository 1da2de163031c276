// Seeded random layouts through the planner, f32 and f16 buffers mixed: every element of every
// view is covered exactly once, by a chunk or a boundary vec4, inside windows that respect every
// limit and sit in the slot order the shaders expect. A failure names its seed.
import { expect, test } from 'vitest';
import { planSet, type BindingWindow, type PlanLimits } from '../../src/plan/windows';
import type { ResolvedView } from '../../src/plan/views';
import { fakeBuffer } from '../shared/fake-device';
import { seededRandom } from '../shared/random';

function randomLayout(seed: number): { views: ResolvedView[]; limits: PlanLimits } {
  const random = seededRandom(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));
  const limits: PlanLimits = {
    bindingsPerGroup: int(1, 8),
    maxBindingBytes: [1024, 4096, 1 << 20][int(0, 2)] + 4 * int(0, 3),
    offsetAlignment: [32, 256][int(0, 1)],
    workgroupSize: [32, 64][int(0, 1)],
    maxWorkgroups: int(1, 64),
    minElementsPerWorkgroup: [64, 4096][int(0, 1)],
  };
  const views: ResolvedView[] = [];
  for (let b = int(1, 6); b > 0; b--) {
    const elementBytes: 2 | 4 = random() < 0.3 ? 2 : 4;
    let at = elementBytes * int(0, 70);
    const entries: Array<{ offsetBytes: number; length: number }> = [];
    for (let v = int(1, 12); v > 0; v--) {
      const length = random() < 0.1 ? 0 : int(1, random() < 0.2 ? 3000 : 40);
      entries.push({ offsetBytes: at, length });
      at += elementBytes * (length + int(0, 5));
    }
    // Storage binds whole words: an f16 buffer ends at or after the word holding its last half.
    const buffer = fakeBuffer(Math.ceil(at / 4) * 4 + 4 * int(0, 5));
    for (const e of entries) views.push({ buffer, ...e, elementBytes });
  }
  return { views, limits };
}

test('2 000 random layouts are covered exactly', () => {
  for (let seed = 1; seed <= 2000; seed++) {
    const { views, limits } = randomLayout(seed);
    const plan = planSet(views, limits);
    const buffers = [...new Set(views.map((v) => v.buffer))];
    // Coverage counted per 2-byte half-word: an f32 element is two, an f16 one.
    const counts = buffers.map((b) => new Uint8Array(b.size / 2));
    for (const group of plan.groups) {
      expect(group.windows.length, `seed ${seed}`).toBeLessThanOrEqual(limits.bindingsPerGroup);
      // Slot order f32 vec4, f16 vec4, f16 scalar, f32 scalar, as the layout says.
      const kinds = group.windows.map((w) => (w.scalar ? (w.half ? 2 : 3) : w.half ? 1 : 0));
      expect(kinds, `seed ${seed}`).toEqual(kinds.slice().sort());
      group.windows.forEach((w, slot) => {
        expect(!w.scalar, `seed ${seed}`).toBe(slot < group.vec4Slots);
        expect(w.half, `seed ${seed}`).toBe(slot >= group.halfSlots[0] && slot < group.halfSlots[1]);
      });
      for (const w of group.windows) {
        const ok =
          w.offsetBytes % limits.offsetAlignment === 0 &&
          w.sizeBytes % (w.scalar ? 4 : w.half ? 8 : 16) === 0 &&
          w.sizeBytes <= limits.maxBindingBytes &&
          w.offsetBytes + w.sizeBytes <= w.buffer.size;
        expect(ok, `seed ${seed}: window ${JSON.stringify({ ...w, buffer: w.buffer.size })}`).toBe(true);
      }
      const mark = (w: BindingWindow, element: number) => {
        const bytes = w.half ? 2 : 4;
        const at = (w.offsetBytes + bytes * element) / 2;
        for (let h = at; h < at + bytes / 2; h++) counts[buffers.indexOf(w.buffer)][h]++;
      };
      for (const c of group.chunks) {
        const w = group.windows[c.slot];
        const [first, end] = w.scalar ? [c.offset, c.offset + c.count] : [4 * c.offset, 4 * (c.offset + c.count)];
        for (let e = first; e < end; e++) mark(w, e);
      }
      for (const b of group.boundaries) {
        const w = group.windows[b.slot];
        for (let k = 0; k < 4; k++) if (b.mask & (1 << k)) mark(w, 4 * b.index + k);
      }
    }
    const wanted = buffers.map((b) => new Uint8Array(b.size / 2));
    for (const v of views)
      wanted[buffers.indexOf(v.buffer)].fill(1, v.offsetBytes / 2, (v.offsetBytes + v.length * v.elementBytes) / 2);
    counts.forEach((c, i) => {
      const bad = c.findIndex((n, h) => n !== wanted[i][h]);
      expect(bad, `seed ${seed}: buffer ${i} half-word ${bad} covered ${c[bad]} times`).toBe(-1);
    });
  }
});
