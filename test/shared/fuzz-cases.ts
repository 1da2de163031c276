// Seeded random clipping cases shared by the CPU fuzz (Node) and the GPU fuzz (browser): views at
// odd offsets in shared arenas and in buffers of their own, 1-300 views of 1-100 000 floats,
// p in {1, 2, 3, ∞}, magnitudes 1e-30 … 1e30, injected NaN / ±Inf, thresholds above and below
// the norm, clip by value. A case is plain data, so a failing one can be shrunk and printed.
import { seededRandom } from './random';

export interface FuzzBuffer {
  /** Floats in the buffer (views plus gaps and tails, which must keep their bits). */
  size: number;
  views: Array<{ offset: number; length: number }>;
}

export interface FuzzCase {
  seed: number;
  buffers: FuzzBuffer[];
  /** Every element is (uniform in [-1, 1)) · scale, from the case's own value seed. */
  scale: number;
  valueSeed: number;
  /** Injected values: [view index, element, value]. */
  specials: Array<[number, number, number]>;
  p: number;
  operation: 'clip-norm' | 'clip-value';
  /** maxNorm = factor · the true norm (1 when the norm is not finite); the value bound = factor · |first element| or 1. */
  factor: number;
}

/** Filled between views, to see that nothing outside a view is written. */
export const SENTINEL = -7.654321e29;

/**
 * The case for `seed`, with at most `maxElements` floats in its views: most views short, a few
 * long, as a model's biases and weight matrices are.
 */
export function fuzzCase(seed: number, maxElements: number): FuzzCase {
  const random = seededRandom(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));
  const viewCount = random() < 0.7 ? int(1, 30) : int(31, 300);
  const lengths = Array.from({ length: viewCount }, () => {
    const r = random();
    return r < 0.6 ? int(1, 64) : r < 0.9 ? int(65, 4096) : int(4097, 100_000);
  });
  // Keep within the budget by shortening the longest views.
  let total = lengths.reduce((n, l) => n + l, 0);
  while (total > maxElements) {
    const longest = lengths.indexOf(Math.max(...lengths));
    const cut = Math.min(lengths[longest] - 1, total - maxElements);
    lengths[longest] -= Math.max(1, cut);
    total = lengths.reduce((n, l) => n + l, 0);
    if (lengths.every((l) => l === 1)) break;
  }
  // Views in arenas of up to 40 views at odd offsets, or in buffers of their own.
  const buffers: FuzzBuffer[] = [];
  for (let i = 0; i < lengths.length; ) {
    const count = random() < 0.5 ? 1 : int(2, 40);
    const views: FuzzBuffer['views'] = [];
    let at = int(0, 5);
    for (const length of lengths.slice(i, i + count)) {
      views.push({ offset: at, length });
      at += length + int(0, 3);
    }
    buffers.push({ size: at + int(0, 3), views });
    i += count;
  }
  const n = lengths.length;
  const specials: FuzzCase['specials'] = [];
  const special = random();
  if (special < 0.08) specials.push([int(0, n - 1), 0, NaN]);
  else if (special < 0.16) specials.push([int(0, n - 1), 0, random() < 0.5 ? Infinity : -Infinity]);
  return {
    seed,
    buffers,
    scale: 10 ** int(-30, 30) * (random() < 0.5 ? 1 : 1e-3),
    valueSeed: int(1, 2 ** 30),
    specials,
    p: [1, 2, 3, Infinity][int(0, 3)],
    operation: random() < 0.2 ? 'clip-value' : 'clip-norm',
    factor: random() < 0.5 ? 0.3 : 3,
  };
}

/** Each buffer's contents (sentinels outside the views) and the views' arrays, in view order. */
export function fuzzContents(c: FuzzCase): { contents: Float32Array<ArrayBuffer>[]; grads: Float32Array[] } {
  const random = seededRandom(c.valueSeed);
  const contents = c.buffers.map((b) => new Float32Array(b.size).fill(SENTINEL));
  const grads: Float32Array[] = [];
  c.buffers.forEach((b, i) => {
    for (const v of b.views) {
      const g = contents[i].subarray(v.offset, v.offset + v.length);
      for (let k = 0; k < g.length; k++) g[k] = (random() * 2 - 1) * c.scale;
      grads.push(g);
    }
  });
  for (const [view, element, value] of c.specials)
    if (grads[view] && element < grads[view].length) grads[view][element] = value;
  return { contents, grads };
}

export function elementCount(c: FuzzCase): number {
  return c.buffers.reduce((n, b) => n + b.views.reduce((m, v) => m + v.length, 0), 0);
}

/** Smaller cases to try when `c` fails: a buffer or a view fewer, views halved. */
function smaller(c: FuzzCase): FuzzCase[] {
  const out: FuzzCase[] = [];
  const viewCount = c.buffers.reduce((n, b) => n + b.views.length, 0);
  // Specials follow their view through removals (or go when it goes).
  const withoutView = (index: number): FuzzCase['specials'] =>
    c.specials.filter(([v]) => v !== index).map(([v, e, x]) => [v > index ? v - 1 : v, e, x]);
  let first = 0;
  c.buffers.forEach((b, i) => {
    if (c.buffers.length > 1) {
      let specials = c.specials;
      for (let k = b.views.length - 1; k >= 0; k--)
        specials = specials.filter(([v]) => v !== first + k).map(([v, e, x]) => [v > first + k ? v - 1 : v, e, x]);
      out.push({ ...c, buffers: c.buffers.filter((_, j) => j !== i), specials });
    }
    first += b.views.length;
  });
  let index = 0;
  c.buffers.forEach((b, i) => {
    b.views.forEach((v, k) => {
      if (viewCount > 1 && b.views.length > 1) {
        const views = b.views.filter((_, j) => j !== k);
        out.push({
          ...c,
          buffers: c.buffers.map((o, j) => (j === i ? { ...o, views } : o)),
          specials: withoutView(index),
        });
      }
      if (v.length > 1) {
        const half = Math.ceil(v.length / 2);
        const views = b.views.map((o, j) => (j === k ? { ...o, length: half } : o));
        out.push({ ...c, buffers: c.buffers.map((o, j) => (j === i ? { ...o, views } : o)) });
      }
      index++;
    });
  });
  return out;
}

/**
 * Shrinks a failing case: repeatedly takes the first smaller case that still fails (`fails`
 * returns a message, or null when the case passes), up to `budget` tries.
 */
export async function shrink(
  c: FuzzCase,
  fails: (c: FuzzCase) => Promise<string | null>,
  budget = 200,
): Promise<{ case: FuzzCase; message: string }> {
  let current = c;
  let message = (await fails(c)) ?? 'passed when replayed';
  let tries = 0;
  for (let progress = true; progress && tries < budget; ) {
    progress = false;
    for (const candidate of smaller(current)) {
      if (++tries > budget) break;
      const m = await fails(candidate);
      if (m) {
        current = candidate;
        message = m;
        progress = true;
        break;
      }
    }
  }
  return { case: current, message };
}

/** A case as one line of JSON (NaN and ±Inf spelled out). */
export function describeCase(c: FuzzCase): string {
  return JSON.stringify(c, (_, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v));
}
