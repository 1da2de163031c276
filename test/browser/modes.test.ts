// The clipping modes beyond PyTorch's on real WebGPU (Chromium), each against the CPU backend
// (the float64 reference) on awkward layouts: 1 element, odd lengths and offsets, 100+ views in
// one arena, views in more buffers than one dispatch binds, rows of length 1, buffer sizes that
// are not multiples of 16, and sentinels around every view that must keep their bits.
import { beforeAll, describe, expect, test } from 'vitest';
import {
  createAutoClip,
  createClipper,
  createZClip,
  type Clipper,
  type GradSet,
  type GradView,
  type UnitShape,
  type ZClip,
} from '../../src/index';
import { perExampleReference } from '../../src/reference/index';
import { bits, randomGradient, relativeError, seededRandom } from '../shared/random';
import { readBack, sharedDevice, upload, withErrorScopes } from './gpu';

const SENTINEL = 1.2345e30;

let device: GPUDevice;
let gpu: Clipper;
let cpu: Clipper;
beforeAll(async () => {
  device = await sharedDevice();
  gpu = await createClipper({ device, maxWorkgroups: 64 });
  expect(gpu.backend).toBe('webgpu');
  cpu = await createClipper({ forceCpu: true });
});

interface ViewSpec {
  length: number;
  shape?: UnitShape;
}

/**
 * The same gradients twice: in GPU buffers (views at odd offsets, or with `vec4Aligned` at
 * 16-byte ones, `buffers` of them round robin, sentinels between) and as CPU Float32Arrays.
 */
function scenario(
  specs: ViewSpec[],
  seed: number,
  buffers = 1,
  scale = 1,
  edit?: (data: Float32Array[]) => void,
  clipper = gpu,
  vec4Aligned = false,
) {
  const random = seededRandom(seed);
  const data = specs.map((s) => randomGradient(s.length, random, scale * (0.1 + random())));
  edit?.(data);
  const placement: Array<{ buffer: number; offset: number }> = [];
  const sizes = new Array(buffers).fill(0);
  specs.forEach((s, i) => {
    const b = i % buffers;
    const after = sizes[b] + 1 + Math.floor(random() * 3);
    const offset = vec4Aligned ? Math.ceil(after / 4) * 4 : after;
    placement.push({ buffer: b, offset });
    sizes[b] = offset + s.length;
  });
  const contents = sizes.map((n) => new Float32Array(n + 1 + (n % 3)).fill(SENTINEL));
  data.forEach((d, i) => contents[placement[i].buffer].set(d, placement[i].offset));
  const gpuBuffers = contents.map((c) => upload(device, c));
  const gpuViews: GradView[] = specs.map((s, i) => ({
    buffer: gpuBuffers[placement[i].buffer],
    offset: placement[i].offset * 4,
    length: s.length,
    shape: s.shape,
  }));
  const cpuArrays = data.map((d) => d.slice());
  const cpuViews: GradView[] = specs.map((s, i) => ({ data: cpuArrays[i], shape: s.shape }));
  return {
    gpuSet: clipper.gradients(gpuViews),
    cpuSet: cpu.gradients(cpuViews),
    cpuArrays,
    /** Every view equals the CPU result within `tolerance`; every sentinel keeps its bits. */
    async expectMatch(tolerance = 2e-6) {
      const actual = await Promise.all(gpuBuffers.map((b) => readBack(device, b)));
      const touched = contents.map((c) => new Uint8Array(c.length));
      specs.forEach((s, i) => {
        const { buffer, offset } = placement[i];
        for (let k = 0; k < s.length; k++) {
          touched[buffer][offset + k] = 1;
          const a = actual[buffer][offset + k];
          const e = cpuArrays[i][k];
          if (Number.isNaN(e)) expect(a, `view ${i} element ${k}`).toBeNaN();
          else if (Math.abs(a - e) > tolerance * Math.abs(e) + 1e-37) expect(a, `view ${i} element ${k}`).toBe(e);
        }
      });
      actual.forEach((a, b) => {
        const outside = (x: Float32Array) => bits(x).filter((_, k) => !touched[b][k]);
        expect(outside(a)).toEqual(outside(contents[b]));
      });
    },
  };
}

function expectNorms(actual: Float32Array, expected: Float32Array, tolerance = 1e-5) {
  expect(actual.length).toBe(expected.length);
  expected.forEach((e, i) =>
    expect(relativeError(actual[i], e), `norm ${i}: ${actual[i]} vs ${e}`).toBeLessThan(tolerance),
  );
}

const awkward: ViewSpec[] = [1, 3, 5, 257, 4097, 2, 64, 65, 1, 12345].map((length) => ({ length }));
const manyViews = (seed: number, count: number): ViewSpec[] => {
  const random = seededRandom(seed);
  return Array.from({ length: count }, () => ({ length: 1 + Math.floor(random() * 300) }));
};

describe('perTensorNorms and clipByNorm', () => {
  test.each([
    ['awkward lengths in one buffer', awkward, 1],
    ['150 views in one arena', manyViews(3, 150), 1],
    ['40 views in 13 buffers (several dispatch groups)', manyViews(4, 40), 13],
    ['one large view', [{ length: 1_000_003 }], 1],
  ])('%s', async (_, specs, buffers) => {
    await withErrorScopes(device, async () => {
      for (const p of [2, 1, Infinity, 3]) {
        const s = scenario(specs, 17 + p, buffers);
        const norms = gpu.perTensorNorms(s.gpuSet, { normType: p });
        const expected = cpu.perTensorNorms(s.cpuSet, { normType: p });
        expectNorms(await norms.read(), await expected.read());
        expect(relativeError(await norms.total.read(), await expected.total.read())).toBeLessThan(1e-5);
        await s.expectMatch(0); // nothing written
      }
      const s = scenario(specs, 99, buffers, 4);
      // A bound between two view norms near the median: some views clipped, some not.
      const before = [...(await cpu.perTensorNorms(s.cpuSet).read())].sort((a, b) => a - b);
      const k = Math.floor(before.length / 2);
      const maxNorm = before.length === 1 ? before[0] / 2 : (before[k - 1] + before[k]) / 2;
      const handle = gpu.clipByNorm(s.gpuSet, maxNorm);
      expectNorms(await handle.read(), await cpu.clipByNorm(s.cpuSet, maxNorm).read());
      await s.expectMatch();
    });
  });

  test('with one workgroup: views of 2 000 to 40 000 floats share blocks of interleaved lanes', async () => {
    // With 64 lanes in all, each view gets fewer lanes than a block, so views share blocks of 8
    // lanes that each write a partial per view (planLanes).
    const oneWorkgroup = await createClipper({ device, maxWorkgroups: 1 });
    const random = seededRandom(8);
    const specs = Array.from({ length: 40 }, () => ({ length: 2000 + Math.floor(random() * 38_000) }));
    await withErrorScopes(device, async () => {
      const s = scenario(specs, 5, 1, 1, undefined, oneWorkgroup);
      const norms = oneWorkgroup.perTensorNorms(s.gpuSet);
      expectNorms(await norms.read(), await cpu.perTensorNorms(s.cpuSet).read());
      const sorted = [...(await cpu.perTensorNorms(s.cpuSet).read())].sort((a, b) => a - b);
      const maxNorm = (sorted[19] + sorted[20]) / 2;
      expectNorms(
        await oneWorkgroup.clipByNorm(s.gpuSet, maxNorm).read(),
        await cpu.clipByNorm(s.cpuSet, maxNorm).read(),
      );
      await s.expectMatch();
      // Per-example segments at one workgroup: 4 examples of each view, half of them clipped.
      const examples = specs.map((v) => ({ length: 4 * Math.ceil(v.length / 4) }));
      const batch = scenario(examples, 6, 1, 1, undefined, oneWorkgroup);
      const exampleNorms = [...perExampleReference(batch.cpuArrays, 4, 1).norms].sort((a, b) => a - b);
      const bound = (exampleNorms[1] + exampleNorms[2]) / 2;
      const expected = perExampleReference(batch.cpuArrays, 4, bound);
      const { sum, numClipped } = oneWorkgroup.clipPerExample(batch.gpuSet, { batchSize: 4, maxNorm: bound });
      expect(await numClipped.read()).toBe(2);
      expect(expected.numClipped).toBe(2);
      const expectedNorm = Math.sqrt(expected.sums.reduce((t, a) => t + a.reduce((u, v) => u + v * v, 0), 0));
      expect(relativeError(await oneWorkgroup.getTotalNorm(sum).read(), expectedNorm)).toBeLessThan(1e-5);
    });
    oneWorkgroup.destroy();
  });

  test('NaN and Inf propagate within their own view only', async () => {
    await withErrorScopes(device, async () => {
      const s = scenario([{ length: 5 }, { length: 7 }, { length: 9 }], 5, 1, 1, (data) => {
        data[0][2] = NaN;
        data[1][6] = -Infinity;
      });
      const norms = gpu.clipByNorm(s.gpuSet, 0.1);
      expectNorms(await norms.read(), await cpu.clipByNorm(s.cpuSet, 0.1).read());
      expect(await norms.total.readFoundInf()).toBe(true);
      expect(s.cpuArrays[2].every(Number.isFinite)).toBe(true);
      await s.expectMatch();
    });
  });
});

describe('adaptiveGradClip (AGC)', () => {
  test.each([
    [
      'rows of many lengths',
      [
        { length: 21, shape: [3, 7] },
        { length: 7, shape: [7, 1] },
        { length: 1, shape: [1, 1] },
        { length: 300 },
        { length: 4096, shape: [64, 64] },
      ],
    ],
    ['rows of length 1 and a flat view', [{ length: 5, shape: [5, 1] }, { length: 13 }]],
    [
      '120 small matrices in one arena',
      Array.from(
        { length: 120 },
        (_, i): ViewSpec => ({ length: ((i % 5) + 1) * ((i % 3) + 1), shape: [(i % 5) + 1, (i % 3) + 1] }),
      ),
    ],
  ] as Array<[string, ViewSpec[]]>)('%s', async (_, specs) => {
    await withErrorScopes(device, async () => {
      const grads = scenario(specs, 31);
      const params = scenario(specs, 32, 2, 30); // param norms ~30× the gradients': some units clipped at 0.01, some not
      for (const clipping of [0.01, 0.05]) {
        const total = gpu.adaptiveGradClip(grads.gpuSet, params.gpuSet, { clipping });
        const expected = cpu.adaptiveGradClip(grads.cpuSet, params.cpuSet, { clipping });
        expect(relativeError(await total.read(), await expected.read())).toBeLessThan(1e-5);
        await grads.expectMatch(1e-5);
        await params.expectMatch(0);
      }
    });
  });
});

/** The labels of the pipelines `run` records into an encoder, which is then submitted. */
function recordedPipelines(run: (encoder: GPUCommandEncoder) => void): string[] {
  const labels: string[] = [];
  const encoder = device.createCommandEncoder();
  const forward = <T extends object>(target: T, hook: (key: string | symbol) => unknown) =>
    new Proxy(target, {
      get: (t, key) => {
        const hooked = hook(key);
        if (hooked) return hooked;
        const value = Reflect.get(t, key, t);
        return typeof value === 'function' ? value.bind(t) : value;
      },
    });
  const spy = forward(encoder, (key) =>
    key === 'beginComputePass'
      ? (descriptor?: GPUComputePassDescriptor) => {
          const pass = encoder.beginComputePass(descriptor);
          return forward(pass, (k) =>
            k === 'setPipeline'
              ? (pipeline: GPUComputePipeline) => {
                  labels.push(pipeline.label);
                  pass.setPipeline(pipeline);
                }
              : undefined,
          );
        }
      : undefined,
  );
  run(spy);
  device.queue.submit([encoder.finish()]);
  return labels;
}

describe('adaptiveGradClip in one pass (rows of whole vec4s)', () => {
  const specs: ViewSpec[] = [
    { length: 8 * 16, shape: [8, 16] },
    { length: 4, shape: [1, 4] },
    { length: 64 * 160, shape: [64, 160] },
    { length: 12 },
    { length: 3 * 4, shape: [3, 4] },
  ];

  test('NaN, Inf and all-zero weight rows, clipped and unclipped rows: as the CPU backend, in one pass', async () => {
    const clipper = await createClipper({ device, maxWorkgroups: 2 });
    await withErrorScopes(device, async () => {
      const grads = scenario(
        specs,
        61,
        1,
        1,
        (d) => {
          d[0][2 * 16 + 5] = NaN; // row 2 of view 0
          d[2][5 * 160 + 17] = Infinity; // row 5 of view 2
        },
        clipper,
        true,
      );
      // Weight norms ~30× the gradients': some rows clipped at 0.01, some not; row 7 of view 2 all
      // zeros, so its bound is clipping · eps.
      const params = scenario(specs, 62, 1, 30, (d) => d[2].fill(0, 7 * 160, 8 * 160), clipper, true);
      for (const clipping of [0.01, 0.05]) {
        let total: ReturnType<Clipper['adaptiveGradClip']> | undefined;
        const pipelines = recordedPipelines((encoder) => {
          total = clipper.adaptiveGradClip(grads.gpuSet, params.gpuSet, { clipping, encoder });
        });
        expect(pipelines.map((l) => l.replace('gradclip ', '').split(' ')[0])).toEqual(['agc_rows', 'segment_summary']);
        const expected = cpu.adaptiveGradClip(grads.cpuSet, params.cpuSet, { clipping });
        expect(await total!.read()).toBeNaN();
        expect(await expected.read()).toBeNaN();
        await grads.expectMatch(1e-5);
        await params.expectMatch(0);
      }
      // Without the NaN and Inf: the total norm too.
      const clean = scenario(specs, 63, 1, 1, undefined, clipper, true);
      const total = clipper.adaptiveGradClip(clean.gpuSet, params.gpuSet, { clipping: 0.01 });
      const expected = cpu.adaptiveGradClip(clean.cpuSet, params.cpuSet, { clipping: 0.01 });
      expect(relativeError(await total.read(), await expected.read())).toBeLessThan(1e-5);
      await clean.expectMatch(1e-5);
    });
    clipper.destroy();
  });

  test('odd offsets, or weights over two buffers: the general passes, with the same results', async () => {
    const clipper = await createClipper({ device, maxWorkgroups: 2 });
    await withErrorScopes(device, async () => {
      for (const [gradAligned, paramBuffers] of [
        [false, 1],
        [true, 2],
      ] as const) {
        const grads = scenario(specs, 71, 1, 1, undefined, clipper, gradAligned);
        const params = scenario(specs, 72, paramBuffers, 30, undefined, clipper, true);
        let total: ReturnType<Clipper['adaptiveGradClip']> | undefined;
        const pipelines = recordedPipelines((encoder) => {
          total = clipper.adaptiveGradClip(grads.gpuSet, params.gpuSet, { clipping: 0.01, encoder });
        });
        expect(pipelines.some((l) => l.includes('agc_rows'))).toBe(false);
        expect(pipelines.some((l) => l.includes('segment_scale'))).toBe(true);
        const expected = cpu.adaptiveGradClip(grads.cpuSet, params.cpuSet, { clipping: 0.01 });
        expect(relativeError(await total!.read(), await expected.read())).toBeLessThan(1e-5);
        await grads.expectMatch(1e-5);
      }
    });
    clipper.destroy();
  });
});

describe('clipPerExample (DP-SGD)', () => {
  test.each([
    ['batch of 4, odd example lengths', [1, 3, 257, 64].map((n) => ({ length: 4 * n })), 4, 1],
    ['batch of 7 over 3 buffers', [5, 11, 2, 1000].map((n) => ({ length: 7 * n })), 7, 3],
    ['batch of 1', [{ length: 33 }], 1, 1],
    [
      'batch of 3 over 14 views (several sum dispatches)',
      Array.from({ length: 14 }, (_, i) => ({ length: 3 * (i * 7 + 1) })),
      3,
      2,
    ],
  ] as Array<[string, ViewSpec[], number, number]>)(
    '%s against the float64 reference',
    async (_, specs, batchSize, buffers) => {
      await withErrorScopes(device, async () => {
        const s = scenario(specs, 41 + batchSize, buffers);
        const reference = perExampleReference(s.cpuArrays, batchSize, 1);
        // A bound between two example norms near the median (not at one, where float32 rounding
        // decides): examples on both sides of it.
        const sorted = [...reference.norms].sort((a, b) => a - b);
        const k = Math.floor(batchSize / 2);
        const maxNorm = batchSize === 1 ? sorted[0] / 2 : (sorted[k - 1] + sorted[k]) / 2;
        const expected = perExampleReference(s.cpuArrays, batchSize, maxNorm);
        const { sum, numClipped } = gpu.clipPerExample(s.gpuSet, { batchSize, maxNorm });
        expect(await numClipped.read()).toBe(expected.numClipped);
        expect(await numClipped.readFoundInf()).toBe(false);
        for (let v = 0; v < specs.length; v++) {
          const view = sum[v] as { buffer: GPUBuffer; offset: number; length: number };
          expect(view.length).toBe(specs[v].length / batchSize);
          const all = await readBack(device, view.buffer);
          const got = all.subarray(view.offset / 4, view.offset / 4 + view.length);
          for (let j = 0; j < view.length; j++) {
            // Error bound of a float32 sum: relative to the sum of the terms' magnitudes.
            let magnitude = 0;
            for (let e = 0; e < batchSize; e++)
              magnitude += Math.abs(expected.multipliers[e] * s.cpuArrays[v][e * view.length + j]);
            expect(Math.abs(got[j] - expected.sums[v][j]), `view ${v} element ${j}`).toBeLessThanOrEqual(
              1e-6 * magnitude + 1e-30,
            );
          }
        }
        await s.expectMatch(0); // the inputs are left unchanged
        // The sums are also a set of the clipper (the same list on every call), ready to clip.
        expect(gpu.clipPerExample(s.gpuSet, { batchSize, maxNorm }).sum).toBe(sum);
        const sumNorm = await gpu.getTotalNorm(sum).read();
        expect(
          relativeError(sumNorm, Math.sqrt(expected.sums.reduce((t, a) => t + a.reduce((u, v) => u + v * v, 0), 0))),
        ).toBeLessThan(1e-5);
        // The CPU backend gives the same.
        const cpuResult = cpu.clipPerExample(s.cpuSet, { batchSize, maxNorm });
        expect(await cpuResult.numClipped.read()).toBe(expected.numClipped);
      });
    },
  );

  test('into a caller buffer at an offset; NaN examples set the flag', async () => {
    await withErrorScopes(device, async () => {
      const g = new Float32Array([3, 4, 0, 1, NaN, 0]);
      const set = gpu.gradients([upload(device, g)]);
      const out = device.createBuffer({ size: 512, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
      const { sum, numClipped } = gpu.clipPerExample(set, {
        batchSize: 3,
        maxNorm: 1,
        out: { buffer: out, byteOffset: 256 },
      });
      expect(sum[0]).toEqual({ buffer: out, offset: 256, length: 2 });
      expect(await numClipped.read()).toBe(1); // the NaN example's multiplier is 1, as Optax's
      expect(await numClipped.readFoundInf()).toBe(true);
      const result = (await readBack(device, out)).subarray(64, 66);
      expect(result[0]).toBeNaN();
      expect(() => gpu.clipPerExample(set, { batchSize: 3, maxNorm: 1, out: { buffer: out, byteOffset: 4 } })).toThrow(
        /byteOffset/,
      );
      expect(() => gpu.clipPerExample(set, { batchSize: 4, maxNorm: 1 })).toThrow(/batchSize 4 does not divide/);
    });
  });
});

/** Gradients with a given norm: a fixed random direction over two views, scaled. */
function directionOf(seed: number, lengths: number[]) {
  const random = seededRandom(seed);
  const parts = lengths.map((n) => randomGradient(n, random));
  const norm = Math.sqrt(parts.reduce((s, p) => s + p.reduce((t, v) => t + v * v, 0), 0));
  return (target: number) => parts.map((p) => p.map((v) => (v * target) / norm));
}

/** A norm sequence with drift, noise and spikes (a NaN step too when `withNaN`). */
function normSequence(steps: number, withNaN: boolean): number[] {
  const random = seededRandom(77);
  return Array.from({ length: steps }, (_, t) => {
    if (withNaN && t === 120) return NaN;
    const base = 2 + Math.sin(t / 20) + 0.3 * random();
    return t % 37 === 36 ? base * (5 + 10 * random()) : base;
  });
}

describe.each([
  ['AutoClip', (c: Clipper, s: GradSet) => createAutoClip(c, s, { percentile: 10, history: 50 })],
  [
    'AutoClip p90, history longer than the run',
    (c: Clipper, s: GradSet) => createAutoClip(c, s, { percentile: 90, history: 1000 }),
  ],
  ['ZClip', (c: Clipper, s: GradSet) => createZClip(c, s)],
  [
    'ZClip adaptive',
    (c: Clipper, s: GradSet) => createZClip(c, s, { mode: 'adaptive', alpha: 0.9, zThreshold: 2, warmupSteps: 10 }),
  ],
] as const)('%s', (_, make) => {
  test('220 steps with spikes match the CPU reference step for step, with no read back during the steps', async () => {
    await withErrorScopes(device, async () => {
      const lengths = [1001, 37];
      const grads = directionOf(5, lengths);
      const buffers = lengths.map((n) =>
        device.createBuffer({
          size: n * 4,
          usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC,
        }),
      );
      const gpuSet = gpu.gradients(buffers);
      const cpuArrays = lengths.map((n) => new Float32Array(n));
      const cpuSet = cpu.gradients(cpuArrays);
      const gpuRule = make(gpu, gpuSet);
      const cpuRule = make(cpu, cpuSet);
      const norms = normSequence(220, true);

      const originalMap = GPUBuffer.prototype.mapAsync;
      let maps = 0;
      GPUBuffer.prototype.mapAsync = function (...args) {
        maps++;
        return originalMap.apply(this, args);
      };
      const gpuHandles = [];
      const cpuHandles = [];
      try {
        for (const target of norms) {
          const g = grads(target);
          g.forEach((part, i) => {
            if (Number.isNaN(target)) part[0] = NaN;
            device.queue.writeBuffer(buffers[i], 0, part);
            cpuArrays[i].set(part);
          });
          gpuHandles.push(gpuRule.step({ onNonfinite: 'skip' }));
          cpuHandles.push(cpuRule.step({ onNonfinite: 'skip' }));
        }
      } finally {
        GPUBuffer.prototype.mapAsync = originalMap;
      }
      expect(maps).toBe(0);

      let clipped = 0;
      for (let t = 0; t < norms.length; t++) {
        const [norm, threshold, foundInf] = await Promise.all([
          gpuHandles[t].read(),
          gpuHandles[t].readThreshold(),
          gpuHandles[t].readFoundInf(),
        ]);
        expect(relativeError(norm, await cpuHandles[t].read()), `step ${t} norm`).toBeLessThan(1e-5);
        expect(
          relativeError(threshold, await cpuHandles[t].readThreshold()),
          `step ${t} threshold ${threshold}`,
        ).toBeLessThan(1e-5);
        expect(foundInf).toBe(Number.isNaN(norms[t]));
        if (threshold < norm) clipped++;
      }
      expect(clipped).toBeGreaterThan(0);
      // The handle's buffer holds the threshold at thresholdOffset (for monitors that copy it on the GPU).
      const last = gpuHandles[gpuHandles.length - 1];
      const slot = new Float32Array((await readBack(device, last.buffer!)).buffer, last.thresholdOffset, 1)[0];
      expect(slot).toBe(await last.readThreshold());
      expect(relativeError(await gpuRule.threshold(), await cpuRule.threshold())).toBeLessThan(1e-5);
      if ('stats' in gpuRule && 'stats' in cpuRule) {
        const [a, b] = [await (gpuRule as ZClip).stats(), await (cpuRule as ZClip).stats()];
        expect(relativeError(a.mean, b.mean)).toBeLessThan(1e-5);
        expect(relativeError(a.std, b.std)).toBeLessThan(1e-4);
      }
      // The last step's gradients, clipped on both backends.
      const clippedLast = await Promise.all(buffers.map((b) => readBack(device, b)));
      clippedLast.forEach((a, i) => a.forEach((v, k) => expect(relativeError(v, cpuArrays[i][k])).toBeLessThan(1e-5)));
    });
  });
});

test("a NaN step with onNonfinite 'skip' leaves every bit unchanged and sets the flag", async () => {
  await withErrorScopes(device, async () => {
    const g = new Float32Array([1, 2, NaN, 4, 5]);
    const buffer = upload(device, g);
    const set = gpu.gradients([buffer]);
    const auto = createAutoClip(gpu, set);
    const zclip = createZClip(gpu, set, { warmupSteps: 1 });
    for (const handle of [auto.step({ onNonfinite: 'skip' }), zclip.step({ onNonfinite: 'skip' })]) {
      expect(await handle.readFoundInf()).toBe(true);
      expect(await handle.read()).toBeNaN();
    }
    expect(bits(await readBack(device, buffer))).toEqual(bits(g));
    expect(await auto.threshold()).toBe(Infinity);
    expect(await zclip.stats()).toEqual({ mean: NaN, std: NaN });
  });
});

test('bad options throw before any GPU work; destroy releases the rule state', async () => {
  await withErrorScopes(device, async () => {
    const g = new Float32Array([1, 2, 3, 4, 5, 6]);
    const buffer = upload(device, g);
    const grads = gpu.gradients([{ buffer, offset: 0, length: 6, shape: [2, 3] }]);
    const flat = gpu.gradients([upload(device, new Float32Array(6))]);
    expect(() => gpu.adaptiveGradClip(grads, flat)).toThrow(/does not match params views\[0\]/);
    expect(() => gpu.adaptiveGradClip(grads, grads)).toThrow(/two different sets/);
    expect(() => gpu.clipPerExample(grads, { batchSize: 4, maxNorm: 1 })).toThrow(
      /batchSize 4 does not divide views\[0\]'s length 6/,
    );
    expect(() => gpu.clipByNorm(grads, -1)).toThrow(/maxNorm must be a number >= 0/);
    expect(() => gpu.perTensorNorms(grads, { normType: 0 })).toThrow(/normType/);
    expect(() => createAutoClip(gpu, grads, { percentile: 100.5 })).toThrow(
      /percentile must be a number in \[0, 100\]/,
    );
    expect(() => createZClip(gpu, grads, { alpha: 1 })).toThrow(/alpha must be a number in \(0, 1\)/);
    expect(() => gpu.gradients([{ buffer, offset: 0, length: 6, shape: [4, 2] }])).toThrow(
      /shape \[4, 2\] holds 8 elements/,
    );
    expect(bits(await readBack(device, buffer))).toEqual(bits(g));

    const auto = createAutoClip(gpu, grads);
    auto.step();
    auto.destroy();
    expect(() => auto.step()).toThrow(/destroyed/);
    await expect(auto.threshold()).rejects.toThrow(/destroyed/);
  });
});
