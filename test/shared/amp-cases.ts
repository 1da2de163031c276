// The GradScaler's cases, ported from PyTorch's and Keras 3's own tests, on any backend: each case
// takes a `Tensors` backend (GPU buffers or Float32Arrays with sentinels around the views) and
// throws an Error naming what differed. Plain TypeScript with no test-runner import:
// test/node/amp.test.ts runs the CPU backend's, test/browser/amp.test.ts both backends'.
//
// Sources of the expected values: PyTorch test/test_cuda.py and test/test_torch.py
// (test_grad_scaling_update_scale, test_grad_scaling_unscale, _run_scaling_case and its clipping,
// separate-unscale and multiple-optimizer users, test_grad_scaling_state_dict,
// test_grad_scale_will_not_overflow) and keras/src/optimizers/loss_scale_optimizer_test.py.
import {
  createGradientArena,
  createGradScaler,
  createOptimizer,
  type Clipper,
  type GradScaler,
  type OptimizerOptions,
} from 'gradclip';
import { OptimizerReference } from 'gradclip/reference';
import { readBytes } from './read-bytes';
import { expectClose, expectEqual, expectGradclipError, fail, GPU_GRAD_USAGE, type Tensors } from './tensors';

const filled = (n: number, value: number) => new Float32Array(n).fill(value);

/** PyTorch test_grad_scaling_update_scale: growth 2, backoff 0.25, interval 2, from 4. */
export async function updateScaleSequence(t: Tensors): Promise<void> {
  const scaler = createGradScaler(t.clipper, { initScale: 4, growthFactor: 2, backoffFactor: 0.25, growthInterval: 2 });
  const finite = t.make([filled(3, 1)]);
  const infinite = t.make([Float32Array.of(1, Infinity, 1)]);
  const expected: Array<[boolean, number, number]> = [
    [false, 1, 4],
    [false, 0, 8],
    [true, 0, 2],
  ];
  for (const [inf, tracker, scale] of expected) {
    scaler.unscale((inf ? infinite : finite).set);
    expectEqual(await scaler.readFoundInf(), inf, 'found-inf before update');
    scaler.update();
    const state = await scaler.state();
    expectEqual(state.growthTracker, tracker, 'growth tracker');
    expectEqual(state.scale, scale, 'scale');
    expectEqual(await scaler.readFoundInf(), false, 'found-inf after update');
  }
  scaler.destroy();
}

/**
 * PyTorch test_grad_scaling_unscale: 4.0s unscaled by 0.25 (scale 4) are ones, found-inf clear;
 * a NaN or +Inf anywhere (a -Inf too) sets found-inf, in any view of the set; a set with an
 * empty view and awkward lengths; sentinels outside the views untouched.
 */
export async function unscaleCases(t: Tensors): Promise<void> {
  const lengths = [400, 5, 1, 0, 37];
  for (const inject of [null, Infinity, Number.NaN, -Infinity]) {
    for (const view of [0, 1, 4]) {
      if (inject === null && view > 0) continue;
      const values = lengths.map((n) => filled(n, 4));
      if (inject !== null) values[view][2 % values[view].length] = inject;
      const stored = t.make(values);
      const scaler = createGradScaler(t.clipper, { initScale: 4 });
      scaler.unscale(stored.set);
      const what = `unscale with ${inject} in view ${view}`;
      expectEqual(await scaler.readFoundInf(), inject !== null, `${what}: found-inf`);
      const after = await stored.read();
      after.forEach((a, v) =>
        a.forEach((x, i) => {
          const expected = values[v][i] * 0.25; // PyTorch multiplies every element, non-finite ones too
          if (!Object.is(x, expected)) fail(`${what}: view ${v}[${i}] ${x}, expected ${expected}`);
        }),
      );
      if (!(await stored.sentinelsKept())) fail(`${what}: an element outside the views changed`);
      scaler.destroy();
    }
  }
}

/** Keras 3's LossScaleOptimizer tests through the fused SGD: finite and infinite steps, down- and upscaling. */
export async function kerasCases(t: Tensors): Promise<void> {
  // test_finite_step: SGD lr 0.5 on [1, 2, 3, 4], gradients [1, 6, 7, 2] · 2^15 scaled → [0.5, -1, -0.5, 3].
  const run = async (grads: number[], initScale: number) => {
    const params = t.make([Float32Array.of(1, 2, 3, 4)]);
    const g = t.make([Float32Array.from(grads, (x) => x * initScale)]);
    const scaler = createGradScaler(t.clipper, { initScale, growthInterval: 2000 });
    const optimizer = createOptimizer(t.clipper, { params: params.set, grads: g.set, kind: 'sgd', lr: 0.5, scaler });
    optimizer.step();
    scaler.update();
    const result = Array.from((await params.read())[0]);
    optimizer.destroy();
    return { result, scaler };
  };
  const finite = await run([1, 6, 7, 2], 2 ** 15);
  expectClose(finite.result, [0.5, -1, -0.5, 3], 1e-4, 1e-4, 'Keras test_finite_step');
  expectEqual(await finite.scaler.getScale(), 2 ** 15, 'scale after a finite step');
  const infinite = await run([Infinity, Infinity, Infinity, Infinity], 2 ** 15);
  expectClose(infinite.result, [1, 2, 3, 4], 0, 0, 'Keras test_infinite_step: parameters untouched');
  expectEqual(await infinite.scaler.getScale(), 2 ** 14, 'scale after an infinite step');

  // test_downscaling: from 400, four infinite steps → 25.
  const down = createGradScaler(t.clipper, { initScale: 400 });
  const bad = t.make([Float32Array.of(Infinity)]);
  for (let i = 0; i < 4; i++) {
    down.unscale(bad.set);
    down.update();
  }
  expectEqual(await down.getScale(), 25, 'Keras test_downscaling');
  // test_upscaling: from 2, growth every 2 steps, eight finite steps → 32.
  const up = createGradScaler(t.clipper, { initScale: 2, growthInterval: 2 });
  const good = t.make([Float32Array.of(1, 6, 7, 2)]);
  for (let i = 0; i < 8; i++) {
    up.unscale(good.set);
    good.write([Float32Array.of(1, 6, 7, 2)]);
    up.update();
  }
  expectEqual(await up.getScale(), 32, 'Keras test_upscaling');
}

/** The scaling case's model: four views of a small two-layer net's parameters. */
const MODEL_LENGTHS = [64, 8, 64, 8];

function seeded(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
}

/** Per iteration, the gradients of each view (what backward would write unscaled). */
function scalingGradients(iterations: number, seed: number): Float32Array[][] {
  const random = seeded(seed);
  return Array.from({ length: iterations }, () => MODEL_LENGTHS.map((n) => Float32Array.from({ length: n }, random)));
}

type Flavour = 'fused' | 'clipping' | 'clipping-separate-unscale';

/**
 * PyTorch's _run_scaling_case on the fused SGD: a control run on unscaled gradients that skips
 * iteration 2, and a scaled run (init 128, growth 2 every step) whose gradients are scaled by the
 * scaler's scale (read back, as the loss multiply would) with +Inf injected into view 2 at
 * iteration 2; parameters equal within rtol 1e-5 / atol 1e-7, scale 128 · 2³ · 0.5 = 512.
 *   fused: createOptimizer(…, { scaler }).
 *   clipping: clipGradNorm(…, 0.2, { scaler }) then an optimizer without one (its own NaN skip).
 *   clipping-separate-unscale: scaler.unscale, clipGradNorm(…, 0.2), then createOptimizer(…, { scaler }),
 *     which must not unscale again.
 */
export async function scalingCase(t: Tensors, flavour: Flavour): Promise<void> {
  const iterations = 4;
  const skipIteration = 2;
  const grads = scalingGradients(iterations, 11);
  const initial = MODEL_LENGTHS.map((n, v) => Float32Array.from({ length: n }, seeded(100 + v)));
  const clip = flavour !== 'fused';
  const settings: Omit<OptimizerOptions, 'params' | 'grads'> = { kind: 'sgd', lr: 0.5, momentum: 0.9 };

  // Control: unscaled gradients, clipped at 0.2 where the flavour clips, iteration 2 skipped.
  const controlParams = t.make(initial);
  const controlGrads = t.make(grads[0]);
  const control = createOptimizer(t.clipper, {
    params: controlParams.set,
    grads: controlGrads.set,
    ...settings,
    ...(clip ? { clip: { maxNorm: 0.2 } } : {}),
  });
  for (let i = 0; i < iterations; i++) {
    if (i === skipIteration) continue;
    controlGrads.write(grads[i]);
    control.step();
  }

  const scaler = createGradScaler(t.clipper, { initScale: 128, growthFactor: 2, growthInterval: 1 });
  const params = t.make(initial);
  const scaled = t.make(grads[0]);
  const optimizer = createOptimizer(t.clipper, {
    params: params.set,
    grads: scaled.set,
    ...settings,
    ...(flavour === 'clipping' ? {} : { scaler }),
  });
  for (let i = 0; i < iterations; i++) {
    const scale = await scaler.getScale();
    const values = grads[i].map((g) => Float32Array.from(g, (x) => x * scale));
    if (i === skipIteration) values[2][5] = Infinity;
    scaled.write(values);
    if (flavour === 'clipping') t.clipper.clipGradNorm(scaled.set, 0.2, { scaler });
    if (flavour === 'clipping-separate-unscale') {
      scaler.unscale(scaled.set);
      t.clipper.clipGradNorm(scaled.set, 0.2, { onNonfinite: 'skip' });
    }
    optimizer.step();
    scaler.update();
  }
  expectEqual(await scaler.getScale(), 512, `${flavour}: final scale`);
  const [a, b] = [await params.read(), await controlParams.read()];
  a.forEach((p, v) => expectClose(Array.from(p), Array.from(b[v]), 1e-7, 1e-5, `${flavour}: parameters of view ${v}`));
  control.destroy();
  optimizer.destroy();
  scaler.destroy();
}

/** PyTorch test_grad_scaling_state_dict: s1.loadState(s0.state()) takes s0's scale, factors, interval and tracker. */
export async function stateCases(t: Tensors): Promise<void> {
  const s0 = createGradScaler(t.clipper, { initScale: 3, growthFactor: 4, backoffFactor: 0.5, growthInterval: 2 });
  const s1 = createGradScaler(t.clipper, { initScale: 6, growthFactor: 7, backoffFactor: 0.8, growthInterval: 1 });
  const stored = t.make([filled(4, 1)]);
  s1.unscale(stored.set);
  s1.update(); // s1 grows once: its tracker and scale move away from s0's
  s1.loadState(await s0.state());
  const state = await s1.state();
  const expected = { scale: 3, growthFactor: 4, backoffFactor: 0.5, growthInterval: 2, growthTracker: 0 };
  for (const [key, value] of Object.entries(expected))
    expectEqual(state[key as keyof typeof state], value, `state.${key} after loadState`);
  // The loaded rule runs: two finite steps grow 3 by 4.
  for (let i = 0; i < 2; i++) {
    s1.unscale(stored.set);
    s1.update();
  }
  expectEqual(await s1.getScale(), 12, 'scale after two loaded steps');
  expectGradclipError(
    () => s1.loadState({ ...state, growthTracker: 2 }),
    'invalid-argument',
    /growthTracker/,
    'a tracker past the interval',
  );
}

/** PyTorch test_grad_scale_will_not_overflow: a growth past f32's range leaves the scale (1e38) as it was. */
export async function willNotOverflow(t: Tensors): Promise<void> {
  const scaler = createGradScaler(t.clipper, { initScale: 1e38, growthFactor: 2 ** 4, growthInterval: 1 });
  const stored = t.make([Float32Array.of(1e-30, -2e-30)]);
  scaler.unscale(stored.set);
  scaler.update();
  const state = await scaler.state();
  expectEqual(state.scale, Math.fround(1e38), 'scale');
  expectEqual(state.growthTracker, 0, 'tracker');
  const values = await stored.read();
  expectEqual(
    values[0][0],
    Math.fround(Math.fround(1e-30) * Math.fround(1 / Math.fround(1e38))),
    'an unscaled tiny value',
  );
}

/**
 * Growth and backoff factors that are not f32 values, and scales all over f32's range: each
 * update equals PyTorch's f32(f64(scale) · factor), each unscale factor f32(1 / scale) (a 1.0
 * unscaled), exactly.
 */
export async function exactArithmetic(t: Tensors): Promise<void> {
  const random = seeded(7);
  const one = t.make([Float32Array.of(1)]);
  for (const [growthFactor, backoffFactor] of [
    [1.1, 0.3],
    [3, 0.999],
    [1 + 2 ** -40, 0.1],
  ]) {
    const scaler = createGradScaler(t.clipper, { initScale: 1, growthFactor, backoffFactor, growthInterval: 1 });
    for (let k = 0; k < 12; k++) {
      const start = Math.fround(2 ** ((random() + 0.5) * 200 - 100) * (1.5 + random()));
      scaler.loadState({ scale: start, growthFactor, backoffFactor, growthInterval: 1, growthTracker: 0 });
      one.write([Float32Array.of(k % 3 === 0 ? Infinity : 1)]);
      scaler.unscale(one.set);
      const unscaled = (await one.read())[0][0];
      if (k % 3 !== 0) expectEqual(unscaled, Math.fround(1 / start), `f32(1 / ${start})`);
      scaler.update();
      const expected = Math.fround(start * (k % 3 === 0 ? backoffFactor : growthFactor));
      expectEqual(await scaler.getScale(), expected, `${start} · ${k % 3 === 0 ? backoffFactor : growthFactor}`);
    }
    scaler.destroy();
  }
}

/** A scaled clip equals unscale then clipGradNorm within 1e-6, writes nothing on found-inf, and reads the unscaled norm. */
export async function scaledClip(t: Tensors): Promise<void> {
  const random = seeded(3);
  const values = [300, 7, 1, 4099].map((n) => Float32Array.from({ length: n }, () => random() * 2048));
  for (const maxNorm of [1, 1e9]) {
    const fused = t.make(values);
    const separate = t.make(values);
    const [a, b] = [createGradScaler(t.clipper, { initScale: 1024 }), createGradScaler(t.clipper, { initScale: 1024 })];
    const norm = await t.clipper.clipGradNorm(fused.set, maxNorm, { scaler: a }).read();
    b.unscale(separate.set);
    const reference = await t.clipper.clipGradNorm(separate.set, maxNorm).read();
    expectClose([norm], [reference], 0, 1e-6, `maxNorm ${maxNorm}: the unscaled norm`);
    const [x, y] = [await fused.read(), await separate.read()];
    x.forEach((v, i) => expectClose(Array.from(v), Array.from(y[i]), 1e-30, 1e-6, `maxNorm ${maxNorm}: view ${i}`));
    if (!(await fused.sentinelsKept())) fail('a scaled clip wrote outside its views');
  }
  // found-inf: nothing written, the flag set on the handle and on the scaler.
  const poisoned = values.map((v) => v.slice());
  poisoned[3][17] = Number.NaN;
  const stored = t.make(poisoned);
  const scaler = createGradScaler(t.clipper);
  const handle = t.clipper.clipGradNorm(stored.set, 1, { scaler });
  expectEqual(Number.isNaN(await handle.read()), true, 'a NaN gradient: NaN norm');
  expectEqual(await handle.readFoundInf(), true, 'handle found-inf');
  expectEqual(await scaler.readFoundInf(), true, 'scaler found-inf');
  const after = await stored.read();
  after.forEach((v, i) =>
    v.forEach((x, k) => expectEqual(Object.is(x, poisoned[i][k]), true, `view ${i}[${k}] unchanged`)),
  );
}

/** The calls PyTorch refuses, and bad options: GradclipError before anything is recorded. */
export async function scalerErrors(t: Tensors): Promise<void> {
  const values = [Float32Array.of(8, 16)];
  const stored = t.make(values);
  const scaler = createGradScaler(t.clipper, { initScale: 8 });
  expectGradclipError(() => scaler.update(), 'invalid-argument', /No inf checks/, 'update with nothing checked');
  scaler.unscale(stored.set);
  expectGradclipError(() => scaler.unscale(stored.set), 'invalid-argument', /already unscaled/, 'a second unscale');
  expectGradclipError(
    () => t.clipper.clipGradNorm(stored.set, 1, { scaler }),
    'invalid-argument',
    /already unscaled/,
    'a scaled clip of an unscaled set',
  );
  expectEqual((await stored.read())[0][0], 1, 'unscaled once');
  scaler.update();
  scaler.unscale(stored.set); // a new iteration
  expectGradclipError(
    () => t.clipper.clipGradNorm(t.make(values).set, 1, { scaler, onNonfinite: 'propagate' }),
    'invalid-argument',
    /onNonfinite 'propagate' with a scaler/,
    'propagate with a scaler',
  );
  const foreign = createGradScaler(await t.other());
  expectGradclipError(
    () => t.clipper.clipGradNorm(stored.set, 1, { scaler: foreign }),
    'invalid-argument',
    /createGradScaler\(this clipper\)/,
    "another clipper's scaler",
  );
  const bad: Array<[object, RegExp]> = [
    [{ initScale: 0 }, /initScale must be a number in \(0, Infinity\)/],
    [{ initScale: 1e39 }, /initScale must be a positive finite f32/],
    [{ growthFactor: 1 }, /growthFactor must be a number in \(1, Infinity\)/],
    [{ backoffFactor: 1 }, /backoffFactor must be a number in \(0, 1\)/],
    [{ backoffFactor: 0 }, /backoffFactor must be a number in \(0, 1\)/],
    [{ growthInterval: 2.5 }, /growthInterval must be an integer/],
    [{ growthInterval: 0 }, /growthInterval must be an integer/],
    [{ enabled: 'yes' }, /options.enabled must be a boolean/],
    [{ init_scale: 2 }, /options.init_scale is not an option; did you mean 'initScale'/],
  ];
  for (const [options, pattern] of bad)
    expectGradclipError(
      () => createGradScaler(t.clipper, options as never),
      'invalid-argument',
      pattern,
      JSON.stringify(options),
    );
  scaler.destroy();
  expectGradclipError(() => scaler.update(), 'destroyed', /destroyed/, 'a destroyed scaler');
}

/** enabled: false: scale 1, unscale and update do nothing, a scaled clip and optimizer step are the plain ones. */
export async function disabledScaler(t: Tensors): Promise<void> {
  const values = [Float32Array.of(3, 4)];
  const scaler = createGradScaler(t.clipper, { enabled: false, initScale: 1024 });
  expectEqual(await scaler.getScale(), 1, 'a disabled scale');
  const stored = t.make(values);
  scaler.unscale(stored.set);
  scaler.unscale(stored.set); // no error: nothing was unscaled
  scaler.update();
  expectClose(Array.from((await stored.read())[0]), [3, 4], 0, 0, 'unscale did nothing');
  expectEqual(await t.clipper.clipGradNorm(stored.set, 1, { scaler }).read(), 5, 'the plain norm');
  expectClose(Array.from((await stored.read())[0]), [0.6, 0.8], 0, 1e-6, 'the plain clip');
  expectEqual((await scaler.state()).scale, 1, 'state scale');
}

/**
 * Any number of scaled calls in one encoder behave as if each were submitted alone: two
 * iterations (unscale, clip, scaled optimizer step, update) recorded in one encoder equal the
 * same calls submitted one by one.
 */
export async function oneEncoder(t: Tensors): Promise<void> {
  const runOnce = async (together: boolean) => {
    const random = seeded(5);
    const initial = [Float32Array.from({ length: 33 }, random), Float32Array.from({ length: 6 }, random)];
    const grads = [
      Float32Array.from({ length: 33 }, () => random() * 64),
      Float32Array.from({ length: 6 }, () => random() * 64),
    ];
    const params = t.make(initial);
    const a = t.make(grads);
    const b = t.make(grads);
    const scaler = createGradScaler(t.clipper, { initScale: 64, growthInterval: 1 });
    const optimizer = createOptimizer(t.clipper, { params: params.set, grads: b.set, kind: 'adam', lr: 0.01, scaler });
    const session = together ? t.encoder() : null;
    const options = session?.options ?? {};
    for (let i = 0; i < 2; i++) {
      scaler.unscale(a.set, options);
      t.clipper.clipGradNorm(a.set, 0.5, options);
      optimizer.step(options);
      scaler.update(options);
    }
    session?.submit();
    const result = { scale: await scaler.getScale(), a: await a.read(), params: await params.read() };
    optimizer.destroy();
    scaler.destroy();
    return result;
  };
  const [alone, together] = [await runOnce(false), await runOnce(true)];
  expectEqual(together.scale, alone.scale, 'scale');
  expectEqual(alone.scale, 256, 'two growths');
  for (const key of ['a', 'params'] as const)
    together[key].forEach((v, i) => expectClose(Array.from(v), Array.from(alone[key][i]), 0, 0, `${key} view ${i}`));
}

const F16_LENGTHS = [1, 7, 300, 4099];

/**
 * f16 gradients (an f16 arena) updating f32 parameters and moments, 20 Adam steps clipped by
 * norm, with and without a GradScaler (init 1024, growth every 8 steps, +Inf at step 5: skipped):
 * the parameters equal the float64 reference on the same f16 values, unscaled, within 1e-5.
 */
export async function f16MasterWeights(device: GPUDevice, clipper: Clipper): Promise<void> {
  const arena = createGradientArena(device, F16_LENGTHS, { dtype: 'f16' });
  if (!device.features.has('shader-f16')) {
    expectGradclipError(
      () => clipper.gradients(arena.views),
      'unsupported',
      /needs the device feature 'shader-f16'/,
      'f16 without shader-f16',
    );
    arena.buffer.destroy();
    return;
  }
  const Float16 = (globalThis as unknown as { Float16Array: new (n: number | ArrayLike<number>) => Float32Array })
    .Float16Array;
  const random = seeded(21);
  for (const scaled of [false, true]) {
    const grads = clipper.gradients(arena.views);
    const initial = F16_LENGTHS.map((n) => Float32Array.from({ length: n }, random));
    const paramBuffer = device.createBuffer({ size: 4 * 4500, usage: GPU_GRAD_USAGE });
    let at = 0;
    const paramViews = F16_LENGTHS.map((n, v) => {
      const view = { buffer: paramBuffer, offset: at * 4, length: n };
      device.queue.writeBuffer(paramBuffer, at * 4, initial[v]);
      at += n + 1;
      return view;
    });
    const settings = { kind: 'adam' as const, lr: 0.01, clip: { maxNorm: 1 } };
    const scaler = scaled ? createGradScaler(clipper, { initScale: 1024, growthInterval: 8 }) : undefined;
    const optimizer = createOptimizer(clipper, { params: clipper.gradients(paramViews), grads, ...settings, scaler });
    const reference = new OptimizerReference(
      {
        ...settings,
        momentum: 0,
        dampening: 0,
        nesterov: false,
        betas: [0.9, 0.999],
        eps: 1e-8,
        weightDecay: 0,
        clip: { maxNorm: 1, normType: 2 },
      },
      F16_LENGTHS,
    );
    const expected = initial.map((a) => Float64Array.from(a));
    for (let step = 0; step < 20; step++) {
      const scale = scaler ? await scaler.getScale() : 1;
      const halves = F16_LENGTHS.map((n) => new Float16(Array.from({ length: n }, () => random() * 0.1 * scale)));
      if (step === 5) halves[2][9] = Infinity;
      halves.forEach((h, v) => {
        const padded = new Float16(Math.ceil(h.length / 2) * 2);
        padded.set(h);
        device.queue.writeBuffer(arena.buffer, (arena.views[v] as { offset: number }).offset, padded.buffer);
      });
      optimizer.step();
      scaler?.update();
      // The reference: the same f16 values, unscaled by f32(1 / scale) (a power of two here: exact).
      reference.apply(
        expected,
        halves.map((h) => Array.from(h, (x) => x / scale)),
      );
    }
    const all = new Float32Array(await readBytes(device, paramBuffer));
    paramViews.forEach((view, v) => {
      const actual = all.subarray(view.offset / 4, view.offset / 4 + view.length);
      expectClose(Array.from(actual), Array.from(expected[v]), 1e-7, 1e-5, `scaled ${scaled}: view ${v}`);
    });
    expectEqual((await optimizer.state()).step, 19, 'steps taken (step 5 skipped)');
    if (scaler) expectEqual(await scaler.getScale(), 1024, 'scale (backed off at step 5, grown at 13)');
    optimizer.destroy();
    paramBuffer.destroy();
  }
  arena.buffer.destroy();
}

/** Every case, by name, for a runner to register. */
export const AMP_CASES: Record<string, (t: Tensors) => Promise<void>> = {
  'PyTorch test_grad_scaling_update_scale: the update rule, step by step': updateScaleSequence,
  'PyTorch test_grad_scaling_unscale: 4 × 0.25, NaN / ±Inf in any view found': unscaleCases,
  "Keras 3's LossScaleOptimizer tests through the fused SGD": kerasCases,
  'PyTorch _run_scaling_case, the fused optimizer with a scaler': (t) => scalingCase(t, 'fused'),
  'PyTorch _run_scaling_case with clipping: a scaled clipGradNorm, then an optimizer without a scaler': (t) =>
    scalingCase(t, 'clipping'),
  'PyTorch _run_scaling_case, clipping after a separate unscale: the optimizer does not unscale again': (t) =>
    scalingCase(t, 'clipping-separate-unscale'),
  'PyTorch test_grad_scaling_state_dict: loadState(state())': stateCases,
  'PyTorch test_grad_scale_will_not_overflow: growth past f32 keeps the scale': willNotOverflow,
  'factors that are not f32 values and scales over f32’s range: exactly PyTorch’s rounding': exactArithmetic,
  'clipGradNorm with a scaler equals unscale then clipGradNorm; NaN writes nothing': scaledClip,
  'what PyTorch refuses, and bad options, are GradclipErrors': scalerErrors,
  'enabled: false behaves as without a scaler': disabledScaler,
  'scaled calls in one encoder equal the same calls submitted alone': oneEncoder,
};

export type { GradScaler };
