// Seeded random layouts through the planner: every element of every view is covered exactly once,
// by a chunk or a boundary vec4, inside windows that respect every limit. A failure names its seed.
import { expect, test } from 'vitest';
import { planSet, type PlanLimits } from '../../src/plan';
import type { ResolvedView } from '../../src/views';
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
    let at = 4 * int(0, 70);
    const entries: Array<{ offsetBytes: number; length: number }> = [];
    for (let v = int(1, 12); v > 0; v--) {
      const length = random() < 0.1 ? 0 : int(1, random() < 0.2 ? 3000 : 40);
      entries.push({ offsetBytes: at, length });
      at += 4 * (length + int(0, 5));
    }
    const buffer = fakeBuffer(at + 4 * int(0, 5));
    for (const e of entries) views.push({ buffer, ...e });
  }
  return { views, limits };
}

test('2 000 random layouts are covered exactly', () => {
  for (let seed = 1; seed <= 2000; seed++) {
    const { views, limits } = randomLayout(seed);
    const plan = planSet(views, limits);
    const buffers = [...new Set(views.map((v) => v.buffer))];
    const counts = buffers.map((b) => new Uint8Array(b.size / 4));
    for (const group of plan.groups) {
      expect(group.windows.length, `seed ${seed}`).toBeLessThanOrEqual(limits.bindingsPerGroup);
      for (const w of group.windows) {
        const ok =
          w.offsetBytes % limits.offsetAlignment === 0 &&
          w.sizeBytes % (w.scalar ? 4 : 16) === 0 &&
          w.sizeBytes <= limits.maxBindingBytes &&
          w.offsetBytes + w.sizeBytes <= w.buffer.size;
        expect(ok, `seed ${seed}: window ${JSON.stringify({ ...w, buffer: w.buffer.size })}`).toBe(true);
      }
      const mark = (buffer: GPUBuffer, byte: number) => counts[buffers.indexOf(buffer)][byte / 4]++;
      for (const c of group.chunks) {
        const w = group.windows[c.slot];
        const [first, end] = w.scalar ? [c.offset, c.offset + c.count] : [4 * c.offset, 4 * (c.offset + c.count)];
        for (let e = first; e < end; e++) mark(w.buffer, w.offsetBytes + 4 * e);
      }
      for (const b of group.boundaries) {
        const w = group.windows[b.slot];
        for (let k = 0; k < 4; k++) if (b.mask & (1 << k)) mark(w.buffer, w.offsetBytes + 16 * b.index + 4 * k);
      }
    }
    const wanted = buffers.map((b) => new Uint8Array(b.size / 4));
    for (const v of views) wanted[buffers.indexOf(v.buffer)].fill(1, v.offsetBytes / 4, v.offsetBytes / 4 + v.length);
    counts.forEach((c, i) => {
      const bad = c.findIndex((n, e) => n !== wanted[i][e]);
      expect(bad, `seed ${seed}: buffer ${i} element ${bad} covered ${c[bad]} times`).toBe(-1);
    });
  }
});
