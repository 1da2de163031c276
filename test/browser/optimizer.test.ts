// The fused clip + optimizer step on real WebGPU against the float64 reference (PyTorch's
// formulas): 100 steps of SGD (momentum, dampening, nesterov, weight decay), Adam and AdamW with
// clipping by norm, by value or none; a NaN step skipped with parameters and state bit-identical.
import { beforeAll, describe, expect, test } from 'vitest';
import { createClipper, createOptimizer, type Clipper, type GradView, type OptimizerOptions } from '../../src/index';
import { OptimizerReference } from '../../src/reference/index';
import { bits, randomGradient, seededRandom } from '../shared/random';
import { readBack, sharedDevice, upload, withErrorScopes } from './gpu';

let device: GPUDevice;
let gpu: Clipper;
/** One workgroup per dispatch: its lanes loop over quads of several views. */
let gpuOneWorkgroup: Clipper;
beforeAll(async () => {
  device = await sharedDevice();
  gpu = await createClipper({ device, maxWorkgroups: 16 });
  gpuOneWorkgroup = await createClipper({ device, maxWorkgroups: 1 });
});

const LENGTHS = [1, 7, 300, 4099];

/** Gradients in one buffer at odd offsets; parameters in a second buffer, or beside the gradients in the same one. */
function layout(shared: boolean) {
  const offsets: number[] = [];
  let at = 3;
  for (const n of LENGTHS) {
    offsets.push(at);
    at += n + 5;
  }
  const paramBase = shared ? at + 9 : 1;
  const size = shared ? paramBase + at : at;
  const gradBuffer = device.createBuffer({
    size: size * 4,
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC,
  });
  const paramBuffer = shared
    ? gradBuffer
    : device.createBuffer({
        size: (at + 2) * 4,
        usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC,
      });
  const gradViews: GradView[] = LENGTHS.map((length, i) => ({ buffer: gradBuffer, offset: offsets[i] * 4, length }));
  const paramViews: GradView[] = LENGTHS.map((length, i) => ({
    buffer: paramBuffer,
    offset: (paramBase + offsets[i]) * 4,
    length,
  }));
  return {
    gradBuffer,
    paramBuffer,
    gradViews,
    paramViews,
    paramOffset: (i: number) => paramBase + offsets[i],
    gradOffset: (i: number) => offsets[i],
  };
}

type Settings = Omit<OptimizerOptions, 'params' | 'grads'>;

const CASES: Array<[string, Settings]> = [
  ['SGD', { kind: 'sgd', lr: 0.05 }],
  [
    'SGD momentum, dampening, weight decay, clip by norm',
    { kind: 'sgd', lr: 0.05, momentum: 0.9, dampening: 0.1, weightDecay: 1e-2, clip: { maxNorm: 3 } },
  ],
  ['SGD nesterov, clip by value', { kind: 'sgd', lr: 0.02, momentum: 0.8, nesterov: true, clip: { value: 0.5 } }],
  [
    'Adam, L2 decay, clip by norm p = ∞',
    { kind: 'adam', lr: 1e-2, weightDecay: 1e-3, clip: { maxNorm: 0.7, normType: Infinity } },
  ],
  ['AdamW, clip by norm', { kind: 'adamw', lr: 1e-2, betas: [0.8, 0.99], eps: 1e-6, clip: { maxNorm: 5 } }],
];

describe.each(CASES)('%s', (_, settings) => {
  test.each([false, true])(
    '100 steps match the float64 reference (parameters beside the gradients, one workgroup: %s)',
    async (shared) => {
      await withErrorScopes(device, async () => {
        const random = seededRandom(LENGTHS.length + (shared ? 1 : 0));
        const l = layout(shared);
        const params64 = LENGTHS.map((n) => Float64Array.from(randomGradient(n, random)));
        params64.forEach((p, i) => device.queue.writeBuffer(l.paramBuffer, l.paramOffset(i) * 4, Float32Array.from(p)));
        const clipper = shared ? gpuOneWorkgroup : gpu;
        const optimizer = createOptimizer(clipper, {
          params: clipper.gradients(l.paramViews),
          grads: clipper.gradients(l.gradViews),
          ...settings,
        });
        const reference = new OptimizerReference(
          {
            momentum: 0,
            dampening: 0,
            nesterov: false,
            betas: [0.9, 0.999],
            eps: 1e-8,
            weightDecay: settings.kind === 'adamw' ? 1e-2 : 0,
            ...settings,
            clip: settings.clip ? ({ normType: 2, ...settings.clip } as never) : null,
          },
          LENGTHS,
        );
        const handles = [];
        for (let step = 0; step < 100; step++) {
          // Gradients of varying size, so clipping by norm acts on some steps and not others.
          const grads = LENGTHS.map((n) => randomGradient(n, random, step % 3 === 0 ? 2 : 0.05));
          grads.forEach((g, i) => device.queue.writeBuffer(l.gradBuffer, l.gradOffset(i) * 4, g));
          const lr = step >= 50 ? settings.lr / 2 : undefined; // a schedule: halve the rate halfway
          handles.push(optimizer.step(lr === undefined ? {} : { lr }));
          reference.apply(params64, grads, lr ?? settings.lr);
        }
        const after = await readBack(device, l.paramBuffer);
        // Relative error per element, against the element or, for elements near zero, the view's RMS.
        let worst = 0;
        params64.forEach((p, i) => {
          const rms = Math.sqrt(p.reduce((s, v) => s + v * v, 0) / p.length);
          for (let k = 0; k < p.length; k++) {
            const error = Math.abs(after[l.paramOffset(i) + k] - p[k]) / Math.max(Math.abs(p[k]), rms);
            worst = Math.max(worst, error);
          }
        });
        expect(worst).toBeLessThan(1e-5);
        // Nothing outside the views was written (the buffers were created zeroed).
        const covered = new Set<number>();
        LENGTHS.forEach((n, i) => {
          for (let k = 0; k < n; k++) covered.add(l.paramOffset(i) + k);
          if (shared) for (let k = 0; k < n; k++) covered.add(l.gradOffset(i) + k);
        });
        after.forEach((value, index) => {
          if (!covered.has(index)) expect(value, `element ${index} outside the views`).toBe(0);
        });
        const state = await optimizer.state();
        expect(state.step).toBe(100);
        if (settings.kind !== 'sgd' || settings.momentum) {
          reference.first.forEach((m, i) => {
            const rms = Math.sqrt(m.reduce((s, v) => s + v * v, 0) / m.length);
            m.forEach((v, k) =>
              expect(Math.abs(state.first[i][k] - v), `first moment ${i}:${k}`).toBeLessThanOrEqual(
                1e-5 * Math.max(Math.abs(v), rms),
              ),
            );
          });
        }
        // The handle is the gradients' norm of its step.
        expect(await handles[99].read()).toBeGreaterThan(0);
        optimizer.destroy();
      });
    },
  );
});

test('a NaN gradient skips the step: parameters and state bit-identical, the step not counted, the flag set', async () => {
  await withErrorScopes(device, async () => {
    const l = layout(false);
    const random = seededRandom(9);
    LENGTHS.forEach((n, i) => device.queue.writeBuffer(l.paramBuffer, l.paramOffset(i) * 4, randomGradient(n, random)));
    const optimizer = createOptimizer(gpu, {
      params: gpu.gradients(l.paramViews),
      grads: gpu.gradients(l.gradViews),
      kind: 'adam',
      lr: 1e-2,
      clip: { maxNorm: 1 },
    });
    const grads = LENGTHS.map((n) => randomGradient(n, random));
    grads.forEach((g, i) => device.queue.writeBuffer(l.gradBuffer, l.gradOffset(i) * 4, g));
    optimizer.step();
    const paramsBefore = await readBack(device, l.paramBuffer);
    const stateBefore = await optimizer.state();
    grads[2][17] = NaN;
    grads[3][5] = Infinity;
    grads.forEach((g, i) => device.queue.writeBuffer(l.gradBuffer, l.gradOffset(i) * 4, g));
    const handle = optimizer.step();
    expect(await handle.readFoundInf()).toBe(true);
    expect(bits(await readBack(device, l.paramBuffer))).toEqual(bits(paramsBefore));
    const stateAfter = await optimizer.state();
    expect(stateAfter.step).toBe(1);
    stateAfter.first.forEach((m, i) => expect(bits(m)).toEqual(bits(stateBefore.first[i])));
    stateAfter.second.forEach((v, i) => expect(bits(v)).toEqual(bits(stateBefore.second[i])));
    // The next finite step goes on from step 2.
    grads[2][17] = 0;
    grads[3][5] = 0;
    grads.forEach((g, i) => device.queue.writeBuffer(l.gradBuffer, l.gradOffset(i) * 4, g));
    expect(await optimizer.step().readFoundInf()).toBe(false);
    expect((await optimizer.state()).step).toBe(2);
  });
});

test('bad settings throw before anything is made; one buffer of both gradients and parameters must not overlap', async () => {
  const buffer = upload(device, new Float32Array(64));
  const grads = gpu.gradients([{ buffer, offset: 0, length: 16 }]);
  const params = gpu.gradients([{ buffer, offset: 64, length: 16 }]);
  const make = (extra: object) => () =>
    createOptimizer(gpu, { params, grads, kind: 'adam', lr: 1e-3, ...extra } as OptimizerOptions);
  expect(make({ kind: 'lamb' })).toThrow(/kind must be 'sgd', 'adam' or 'adamw'/);
  expect(make({ lr: -1 })).toThrow(/lr must be a number in \[0, Infinity\)/);
  expect(make({ betas: [0.9, 1] })).toThrow(/betas\[1\] must be a number in \[0, 1\)/);
  expect(make({ kind: 'sgd', nesterov: true })).toThrow(/nesterov needs momentum > 0/);
  expect(make({ clip: { maxNorm: -1 } })).toThrow(/clip.maxNorm must be a number >= 0/);
  expect(make({ clip: { norm: 1 } })).toThrow(/clip must be/);
  expect(make({ params: grads })).toThrow(/two different sets/);
  const overlapping = gpu.gradients([{ buffer, offset: 32, length: 16 }]);
  expect(make({ params: overlapping })).toThrow(/overlaps a parameter view/);
  const short = gpu.gradients([{ buffer, offset: 128, length: 8 }]);
  expect(make({ params: short })).toThrow(/grads views\[0\] has 16 elements but params views\[0\] has 8/);
  const optimizer = make({})();
  expect(() => optimizer.step({ lr: NaN })).toThrow(/lr/);
  optimizer.destroy();
  expect(() => optimizer.step()).toThrow(/destroyed/);
});

test('a buffer per view (dispatches that take each view’s slots from their table) updates bit for bit as an arena does', async () => {
  await withErrorScopes(device, async () => {
    const random = seededRandom(21);
    const params0 = LENGTHS.map((n) => randomGradient(n, random));
    const steps = Array.from({ length: 12 }, (_, s) => LENGTHS.map((n) => randomGradient(n, random, s % 2 ? 2 : 0.1)));
    const settings = { kind: 'adam', lr: 1e-2, weightDecay: 1e-3, clip: { value: 0.5 } } as const;
    const run = async (clipper: Clipper, perView: boolean) => {
      const buffers = (data: Float32Array[]) =>
        perView
          ? data.map((d) => upload(device, d))
          : [upload(device, new Float32Array(LENGTHS.reduce((a, b) => a + b)))];
      const gradBuffers = buffers(steps[0]);
      const paramBuffers = buffers(params0);
      const starts = LENGTHS.map((_, i) => (perView ? 0 : LENGTHS.slice(0, i).reduce((a, b) => a + b, 0)));
      const viewsIn = (list: GPUBuffer[]): GradView[] =>
        LENGTHS.map((length, i) => ({ buffer: list[perView ? i : 0], offset: starts[i] * 4, length }));
      params0.forEach((p, i) => device.queue.writeBuffer(paramBuffers[perView ? i : 0], starts[i] * 4, p));
      const optimizer = createOptimizer(clipper, {
        params: clipper.gradients(viewsIn(paramBuffers)),
        grads: clipper.gradients(viewsIn(gradBuffers)),
        ...settings,
      });
      for (const grads of steps) {
        grads.forEach((g, i) => device.queue.writeBuffer(gradBuffers[perView ? i : 0], starts[i] * 4, g));
        optimizer.step();
      }
      const after = await Promise.all(
        LENGTHS.map(async (length, i) =>
          (await readBack(device, paramBuffers[perView ? i : 0])).slice(starts[i], starts[i] + length),
        ),
      );
      optimizer.destroy();
      return after;
    };
    const arena = await run(gpu, false);
    expect(arena.some((p, i) => p.some((v, k) => v !== params0[i][k]))).toBe(true);
    expect((await run(gpuOneWorkgroup, true)).map(bits)).toEqual(arena.map(bits));
    expect((await run(gpu, true)).map(bits)).toEqual(arena.map(bits));
  });
});
