// Strict options (issue: misspelled options were silently ignored) and the typed errors that
// replaced raw TypeErrors, on the CPU backend and on the fake device: every options object of
// every public function rejects a key it does not know, naming it and the closest known key,
// before anything changes.
import { describe, expect, test } from 'vitest';
import { thrown } from '../shared/thrown';
import {
  GradclipError,
  createAutoClip,
  createClipper,
  createGradientArena,
  createOptimizer,
  createZClip,
  type Clipper,
  type GradSet,
} from 'gradclip';
import { closestKey } from '../../src/core/options';
import { createFakeDevice, fakeBuffer } from '../shared/fake-device';

async function rejected(promise: Promise<unknown>): Promise<GradclipError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(GradclipError);
  return error as GradclipError;
}

function expectUnknownKey(error: GradclipError, key: string, hint: string | null): void {
  expect(error.code).toBe('invalid-argument');
  expect(error.message).toContain(key);
  if (hint) expect(error.message).toContain(`did you mean '${hint}'`);
}

describe('closestKey', () => {
  test.each([
    ['error_if_nonfinite', 'errorIfNonfinite'],
    ['norm_type', 'normType'],
    ['forcecpu', 'forceCpu'],
    ['z_threshold', 'zThreshold'],
    ['maxWorkgroup', 'maxWorkgroups'],
    ['weight_decay', 'weightDecay'],
  ])('%s → %s', (key, expected) => {
    const known = ['errorIfNonfinite', 'normType', 'forceCpu', 'zThreshold', 'maxWorkgroups', 'weightDecay', 'encoder'];
    expect(closestKey(key, known)).toBe(expected);
  });

  test('no suggestion for a key unlike any known one', () => {
    expect(closestKey('foreach', ['normType', 'encoder'])).toBeUndefined();
  });
});

/** One call per options object of the public API, each given `bad` merged into valid options. */
function optionCalls(clipper: Clipper, set: GradSet, params: GradSet): Array<[string, (bad: object) => unknown]> {
  return [
    ['clipGradNorm', (bad) => clipper.clipGradNorm(set, 1, { ...bad })],
    ['getTotalNorm', (bad) => clipper.getTotalNorm(set, { ...bad })],
    ['clipGradsWithNorm', (bad) => clipper.clipGradsWithNorm(set, 1, 2, { ...bad })],
    ['clipGradValue', (bad) => clipper.clipGradValue(set, 1, { ...bad })],
    ['clipGradValue range', (bad) => clipper.clipGradValue(set, { min: -1, max: 1, ...bad })],
    ['perTensorNorms', (bad) => clipper.perTensorNorms(set, { ...bad })],
    ['clipByNorm', (bad) => clipper.clipByNorm(set, 1, { ...bad })],
    ['clipPerExample', (bad) => clipper.clipPerExample(set, { batchSize: 1, maxNorm: 1, ...bad })],
    ['adaptiveGradClip', (bad) => clipper.adaptiveGradClip(set, params, { ...bad })],
    ['createAutoClip', (bad) => createAutoClip(clipper, set, { ...bad })],
    ['createZClip', (bad) => createZClip(clipper, set, { ...bad })],
    ['AutoClip step', (bad) => createAutoClip(clipper, set).step({ ...bad })],
    ['ZClip step', (bad) => createZClip(clipper, set).step({ ...bad })],
    ['createOptimizer', (bad) => createOptimizer(clipper, { params, grads: set, kind: 'sgd', lr: 0.1, ...bad })],
    [
      'createOptimizer clip',
      (bad) => createOptimizer(clipper, { params, grads: set, kind: 'sgd', lr: 0.1, clip: { maxNorm: 1, ...bad } }),
    ],
    [
      'optimizer step',
      (bad) => createOptimizer(clipper, { params, grads: set, kind: 'sgd', lr: 0.1 }).step({ ...bad }),
    ],
  ];
}

describe.each(['cpu', 'fake GPU'] as const)('every options object is strict (%s)', (backend) => {
  async function setup(): Promise<{ clipper: Clipper; set: GradSet; params: GradSet; snapshot: () => number[] }> {
    if (backend === 'cpu') {
      const clipper = await createClipper({ backend: 'cpu' });
      const g = new Float32Array([3, 4, 0, 12]);
      const w = new Float32Array([1, 1, 1, 1]);
      return { clipper, set: clipper.gradients([g]), params: clipper.gradients([w]), snapshot: () => Array.from(g) };
    }
    const fake = createFakeDevice();
    const clipper = await createClipper({ device: fake.device, maxWorkgroups: 4 });
    const set = clipper.gradients([{ buffer: fakeBuffer(64), offset: 0, length: 4 }]);
    const params = clipper.gradients([{ buffer: fakeBuffer(64), offset: 0, length: 4 }]);
    const recorded = () => [fake.counts.submit, fake.counts.computePasses, fake.counts.dispatches];
    return { clipper, set, params, snapshot: recorded };
  }

  test('an unknown key throws, naming it and the closest known key, before anything changes', async () => {
    const { clipper, set, params, snapshot } = await setup();
    for (const [name, call] of optionCalls(clipper, set, params)) {
      const before = snapshot();
      const error = thrown(() => call({ not_an_option: 1 }));
      expect(error.message, name).toContain('not_an_option');
      expect(snapshot(), name).toEqual(before);
    }
  });

  test("PyTorch's snake_case spellings point to gradclip's names", async () => {
    const { clipper, set, snapshot } = await setup();
    const before = snapshot();
    expectUnknownKey(
      thrown(() => clipper.clipGradNorm(set, 1, { error_if_nonfinite: true } as object)),
      'error_if_nonfinite',
      'errorIfNonfinite',
    );
    expectUnknownKey(
      thrown(() => clipper.clipGradNorm(set, 1, { norm_type: 1 } as object)),
      'norm_type',
      'normType',
    );
    expectUnknownKey(
      thrown(() => createZClip(clipper, set, { z_threshold: -1 } as object)),
      'z_threshold',
      'zThreshold',
    );
    expect(snapshot()).toEqual(before);
  });

  test('null and undefined options mean none', async () => {
    const { clipper, set } = await setup();
    expect(() => clipper.getTotalNorm(set, null)).not.toThrow();
    expect(() => clipper.clipGradNorm(set, 100, null)).not.toThrow();
    expect(() => clipper.clipGradNorm(set, 100, undefined)).not.toThrow();
    expect(() => clipper.clipGradValue(set, 100, null)).not.toThrow();
    expect(() => clipper.perTensorNorms(set, null)).not.toThrow();
    expect(() => createAutoClip(clipper, set, null).step(null)).not.toThrow();
  });

  test("normType 'inf' is the max norm", async () => {
    const { clipper, set } = await setup();
    expect(() => clipper.getTotalNorm(set, { normType: 'inf' })).not.toThrow();
    expect(thrown(() => clipper.getTotalNorm(set, { normType: 'infinity' as 'inf' })).message).toContain("'inf'");
    if (backend === 'cpu') expect(await clipper.getTotalNorm(set, { normType: 'inf' }).read()).toBe(12);
  });

  test('options that are not objects are typed errors', async () => {
    const { clipper, set } = await setup();
    expect(thrown(() => clipper.clipGradNorm(set, 1, 5 as unknown as object)).message).toContain('options');
    expect(thrown(() => clipper.clipGradNorm(set, 1, [] as object)).message).toContain('array');
  });
});

describe('createClipper', () => {
  test('forcecpu (misspelled) is rejected rather than ignored', async () => {
    expectUnknownKey(await rejected(createClipper({ forcecpu: true } as object)), 'forcecpu', 'forceCpu');
  });

  test("backend: 'webgpu' rejects with 'unsupported' and says why; 'auto' falls back and says why", async () => {
    const error = await rejected(createClipper({ backend: 'webgpu' }));
    expect(error.code).toBe('unsupported');
    expect(error.message).toContain('navigator.gpu');
    const auto = await createClipper();
    expect(auto.backend).toBe('cpu');
    expect(auto.fallbackReason).toContain('navigator.gpu');
    const cpu = await createClipper({ backend: 'cpu' });
    expect(cpu.fallbackReason).toBeNull();
    expect((await createClipper({ forceCpu: true })).fallbackReason).toBeNull();
  });

  test("backend: 'webgpu' carries the adapter's failure as the error's cause", async () => {
    const failure = new Error('adapter exploded');
    const navigatorBefore = Object.getOwnPropertyDescriptor(globalThis, 'navigator');
    Object.defineProperty(globalThis, 'navigator', {
      configurable: true,
      value: { gpu: { requestAdapter: () => Promise.reject(failure) } },
    });
    try {
      const error = await rejected(createClipper({ backend: 'webgpu' }));
      expect(error.code).toBe('unsupported');
      expect(error.message).toContain('adapter exploded');
      expect(error.cause).toBe(failure);
      const auto = await createClipper({ backend: 'auto' });
      expect(auto.fallbackReason).toContain('adapter exploded');
    } finally {
      if (navigatorBefore) Object.defineProperty(globalThis, 'navigator', navigatorBefore);
      else delete (globalThis as { navigator?: unknown }).navigator;
    }
  });

  test('bad backends, devices and contradictions are typed errors', async () => {
    expect((await rejected(createClipper({ backend: 'gpu' as 'webgpu' }))).message).toContain('backend');
    expect((await rejected(createClipper({ device: {} as GPUDevice }))).message).toContain(
      'options.device must be a GPUDevice',
    );
    expect((await rejected(createClipper({ device: null as unknown as GPUDevice }))).message).toContain('GPUDevice');
    expect((await rejected(createClipper({ forceCpu: true, backend: 'webgpu' }))).message).toContain('contradicts');
    const fake = createFakeDevice();
    expect((await rejected(createClipper({ backend: 'cpu', device: fake.device }))).message).toContain('CPU backend');
  });
});

describe('raw TypeErrors became GradclipErrors', () => {
  test('createGradientArena(null, …) and unknown arena options', () => {
    expect(thrown(() => createGradientArena(null as unknown as GPUDevice, [4])).message).toContain(
      'device must be a GPUDevice',
    );
    const fake = createFakeDevice();
    expectUnknownKey(
      thrown(() => createGradientArena(fake.device, [4], { type: 'f16' } as object)),
      'type',
      'dtype',
    );
    expect(fake.counts.createBuffer).toBe(0);
  });

  test('clipGradNorm(set, 1, null) on the fake GPU records nothing odd and works', async () => {
    const fake = createFakeDevice();
    const clipper = await createClipper({ device: fake.device, maxWorkgroups: 4 });
    const set = clipper.gradients([fakeBuffer(64)]);
    expect(() => clipper.clipGradNorm(set, 1, null)).not.toThrow();
  });
});
