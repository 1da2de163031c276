// The benchmark's gradient sets: named presets with real layer shapes, and sweeps.

export interface Tensor {
  name: string;
  length: number;
  /** [rows, cols] of a weight matrix (AGC clips it row by row); none for vectors. */
  shape?: [number, number];
  /**
   * Gradients that are mostly zero, as real ones often are: all zeros, or (a matrix) zero rows
   * but every `everyRow`-th, as an embedding table whose other tokens were absent from the
   * batch. Default: dense.
   */
  zeros?: 'all' | { everyRow: number };
}

export interface CaseShape {
  /** Stable id, e.g. "transformer" or "size-1048576". */
  id: string;
  /** What the row shows in tables and charts. */
  label: string;
  tensors: Tensor[];
  /** Which chart the case belongs to. */
  series: 'preset' | 'size' | 'count';
}

export const PRESETS = [
  'mlp',
  'transformer',
  'many-small',
  'zero-grads',
  'sparse-embedding',
  'odd-lengths',
  'odd-one-view',
] as const;
export type Preset = (typeof PRESETS)[number];

/** A small seeded PRNG (mulberry32): the benchmark's data and shapes are the same every run. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An MLP 1024 → 2048 → 1024 → 10: a few large tensors (~4.2 M floats). */
export function mlpShapes(): Tensor[] {
  const dims = [1024, 2048, 1024, 10];
  const tensors: Tensor[] = [];
  for (let l = 0; l + 1 < dims.length; l++) {
    tensors.push(
      { name: `fc${l}.weight`, length: dims[l] * dims[l + 1] },
      { name: `fc${l}.bias`, length: dims[l + 1] },
    );
  }
  return tensors;
}

/** A GPT-style transformer, 12 layers of width 160, vocabulary 2048, context 256: 148 tensors, ~4.1 M floats. */
export function transformerShapes(layers = 12, width = 160, vocabulary = 2048, context = 256): Tensor[] {
  const matrix = (name: string, rows: number, cols: number): Tensor => ({
    name,
    length: rows * cols,
    shape: [rows, cols],
  });
  const tensors: Tensor[] = [matrix('wte', vocabulary, width), matrix('wpe', context, width)];
  for (let l = 0; l < layers; l++) {
    const h = `h.${l}`;
    tensors.push(
      { name: `${h}.ln_1.weight`, length: width },
      { name: `${h}.ln_1.bias`, length: width },
      matrix(`${h}.attn.c_attn.weight`, 3 * width, width),
      { name: `${h}.attn.c_attn.bias`, length: 3 * width },
      matrix(`${h}.attn.c_proj.weight`, width, width),
      { name: `${h}.attn.c_proj.bias`, length: width },
      { name: `${h}.ln_2.weight`, length: width },
      { name: `${h}.ln_2.bias`, length: width },
      matrix(`${h}.mlp.c_fc.weight`, 4 * width, width),
      { name: `${h}.mlp.c_fc.bias`, length: 4 * width },
      matrix(`${h}.mlp.c_proj.weight`, width, 4 * width),
      { name: `${h}.mlp.c_proj.bias`, length: width },
    );
  }
  tensors.push({ name: 'ln_f.weight', length: width }, { name: 'ln_f.bias', length: width });
  return tensors;
}

/** `count` tensors of 64–4 096 floats (seeded). */
export function manySmallShapes(count = 1000, seed = 1000): Tensor[] {
  const random = seeded(seed);
  return Array.from({ length: count }, (_, i) => ({
    name: `t${i}`,
    length: 64 + Math.floor(random() * (4096 - 64 + 1)),
  }));
}

/** `count` tensors of 1–255 floats (seeded): biases, norms' scales, odd vocabularies; ~1.28 M floats. */
export function oddLengthShapes(count = 10_000, seed = 255): Tensor[] {
  const random = seeded(seed);
  return Array.from({ length: count }, (_, i) => ({ name: `odd${i}`, length: 1 + Math.floor(random() * 255) }));
}

export function presetCase(preset: Preset): CaseShape {
  switch (preset) {
    case 'mlp':
      return { id: 'mlp', label: 'MLP (6 tensors)', tensors: mlpShapes(), series: 'preset' };
    case 'transformer':
      return { id: 'transformer', label: 'transformer (148 tensors)', tensors: transformerShapes(), series: 'preset' };
    case 'many-small':
      return { id: 'many-small', label: 'many small (1 000 tensors)', tensors: manySmallShapes(), series: 'preset' };
    // Odd-sized tensors, to be timed against one tensor of the same floats.
    case 'odd-lengths':
      return {
        id: 'odd-lengths',
        label: '10 000 tensors of 1–255 floats',
        tensors: oddLengthShapes(),
        series: 'preset',
      };
    case 'odd-one-view':
      return {
        id: 'odd-one-view',
        label: 'one tensor of the same floats',
        tensors: [{ name: 'all', length: oddLengthShapes().reduce((n, t) => n + t.length, 0) }],
        series: 'preset',
      };
    // The transformer's bytes with zero chunks, to be timed against the dense transformer.
    case 'zero-grads':
      return {
        id: 'zero-grads',
        label: 'transformer, all-zero gradients',
        tensors: transformerShapes().map((t) => ({ ...t, zeros: 'all' as const })),
        series: 'preset',
      };
    case 'sparse-embedding':
      return {
        id: 'sparse-embedding',
        label: 'transformer, embeddings zero but every 50th row',
        tensors: transformerShapes().map((t) => (EMBEDDINGS.includes(t.name) ? { ...t, zeros: { everyRow: 50 } } : t)),
        series: 'preset',
      };
  }
}

/** The transformer's embedding tables (token, position). */
const EMBEDDINGS = ['wte', 'wpe'];

/** The gradients of a case: uniform in [-1, 1) from `seed`, then the zeros each tensor asks for. */
export function gradientsFor(shape: CaseShape, seed: number): Float32Array<ArrayBuffer>[] {
  const random = seeded(seed);
  return shape.tensors.map((t) => {
    const g = new Float32Array(t.length);
    for (let i = 0; i < g.length; i++) g[i] = random() * 2 - 1;
    if (t.zeros === 'all') g.fill(0);
    else if (t.zeros) {
      const cols = t.shape?.[1] ?? t.length;
      for (let row = 0; row * cols < g.length; row++) {
        if (row % t.zeros.everyRow !== 0) g.fill(0, row * cols, (row + 1) * cols);
      }
    }
    return g;
  });
}

/** A case from a user's list of tensor lengths. */
export function customCase(lengths: readonly number[]): CaseShape {
  return {
    id: 'custom',
    label: `custom (${lengths.length} tensors)`,
    series: 'preset',
    tensors: lengths.map((length, i) => ({ name: `t${i}`, length })),
  };
}

/** Total-size sweep: 16 equal tensors per case. */
export function sizeSweep(sizes: readonly number[]): CaseShape[] {
  return sizes.map((total) => ({
    id: `size-${total}`,
    label: `${total.toLocaleString('en-US')} floats`,
    series: 'size',
    tensors: Array.from({ length: 16 }, (_, i) => ({ name: `t${i}`, length: Math.ceil(total / 16) })),
  }));
}

/** Tensor-count sweep at a fixed total of about `total` floats. */
export function countSweep(counts: readonly number[], total = 1 << 20): CaseShape[] {
  return counts.map((count) => ({
    id: `count-${count}`,
    label: `${count} tensors`,
    series: 'count',
    tensors: Array.from({ length: count }, (_, i) => ({ name: `t${i}`, length: Math.ceil(total / count) })),
  }));
}

export const DEFAULT_SIZES = [1 << 16, 1 << 18, 1 << 20, 1 << 22, 1 << 24, 1 << 25];
export const DEFAULT_COUNTS = [10, 100, 500, 2000];

export function elementCount(shape: CaseShape): number {
  return shape.tensors.reduce((n, t) => n + t.length, 0);
}
