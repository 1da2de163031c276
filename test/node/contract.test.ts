// One contract on both backends (the CPU backend used to break what the GPU keeps): handles go
// stale after RESULT_SLOTS later norms of their set, read() gives the float32 norm, per-view
// norms are 8 bytes apart, a norm that overflows float32 counts as non-finite, destroyed sets
// throw, and wrong array types say what they got.
import { describe, expect, test } from 'vitest';
import { GradclipError, createClipper, createOptimizer, type GradView } from 'gradclip';
import { totalNormReference } from 'gradclip/reference';
import { RESULT_SLOTS } from '../../src/core/abi';

async function cpu() {
  return createClipper({ backend: 'cpu' });
}

describe('CPU handles keep the GPU contract', () => {
  test(`a handle is stale after ${RESULT_SLOTS} later norms of its set, never another call's value`, async () => {
    const clipper = await cpu();
    const g = new Float32Array([3, 4]);
    const set = clipper.gradients([g]);
    const first = clipper.getTotalNorm(set);
    for (let i = 0; i < RESULT_SLOTS - 1; i++) clipper.getTotalNorm(set);
    expect(await first.read()).toBe(5); // 255 later norms: still its own
    clipper.getTotalNorm(set);
    await expect(first.read()).rejects.toMatchObject({ code: 'stale-handle' });
    await expect(first.readFoundInf()).rejects.toMatchObject({ code: 'stale-handle' });
    expect(() => clipper.clipGradsWithNorm(set, 1, first)).toThrow(GradclipError);
  });

  test('every norm-claiming call counts, as on the GPU (clipGradsWithNorm included)', async () => {
    const clipper = await cpu();
    const set = clipper.gradients([new Float32Array([3, 4])]);
    const h = clipper.clipGradNorm(set, 10);
    for (let i = 0; i < RESULT_SLOTS; i++) clipper.clipGradsWithNorm(set, 10, 1);
    await expect(h.read()).rejects.toMatchObject({ code: 'stale-handle' });
  });

  test('per-view norms: stride 8 and stale after the next per-view call', async () => {
    const clipper = await cpu();
    const set = clipper.gradients([new Float32Array([3, 4]), new Float32Array([1])]);
    const norms = clipper.perTensorNorms(set);
    expect(norms.stride).toBe(8);
    expect(Array.from(await norms.read())).toEqual([5, 1]);
    clipper.clipByNorm(set, 100);
    await expect(norms.read()).rejects.toMatchObject({ code: 'stale-handle' });
  });

  test('read() gives the float32 norm, as the GPU does', async () => {
    const clipper = await cpu();
    const values = new Float32Array([0.1, 0.2, 0.3]);
    const norm = await clipper.getTotalNorm(clipper.gradients([values])).read();
    expect(norm).toBe(Math.fround(totalNormReference([values], 2)));
    expect(norm).toBe(Math.fround(norm));
  });

  test('a destroyed set: its handles reject and calls throw destroyed; other sets go on', async () => {
    const clipper = await cpu();
    const a = clipper.gradients([new Float32Array([3, 4])]);
    const b = clipper.gradients([new Float32Array([6, 8])]);
    const h = clipper.getTotalNorm(a);
    a.destroy();
    expect(a.destroyed).toBe(true);
    await expect(h.read()).rejects.toMatchObject({ code: 'destroyed' });
    expect(() => clipper.clipGradNorm(a, 1)).toThrow(expect.objectContaining({ code: 'destroyed' }));
    expect(await clipper.clipGradNorm(b, 100).read()).toBe(10);
  });
});

describe('a norm of finite elements that overflows float32', () => {
  // Two elements of 3e38: float64 says 4.24e38, past float32's 3.4e38. PyTorch (float32) sees +Inf.
  const values = () => new Float32Array([3e38, 3e38]);

  test('errorIfNonfinite rejects and changes nothing', async () => {
    const clipper = await cpu();
    const g = values();
    const handle = clipper.clipGradNorm(clipper.gradients([g]), 1, { errorIfNonfinite: true });
    await expect(handle.read()).rejects.toMatchObject({ code: 'nonfinite-norm' });
    expect(Array.from(g)).toEqual(Array.from(values()));
  });

  test("'skip' leaves the gradients and sets found-inf", async () => {
    const clipper = await cpu();
    const g = values();
    const handle = clipper.clipGradNorm(clipper.gradients([g]), 1, { onNonfinite: 'skip' });
    expect(await handle.read()).toBe(Infinity);
    expect(await handle.readFoundInf()).toBe(true);
    expect(Array.from(g)).toEqual(Array.from(values()));
  });

  test("'propagate' gives PyTorch's zeros (maxNorm / Inf), as the GPU does", async () => {
    const clipper = await cpu();
    const g = values();
    expect(await clipper.clipGradNorm(clipper.gradients([g]), 1).read()).toBe(Infinity);
    expect(Array.from(g)).toEqual([0, 0]);
  });

  test('the fused optimizer skips the step', async () => {
    const clipper = await cpu();
    const g = values();
    const w = new Float32Array([1, 2]);
    const optimizer = createOptimizer(clipper, {
      params: clipper.gradients([w]),
      grads: clipper.gradients([g]),
      kind: 'sgd',
      lr: 0.1,
    });
    expect(await optimizer.step().readFoundInf()).toBe(true);
    expect(Array.from(w)).toEqual([1, 2]);
    expect((await optimizer.state()).step).toBe(0);
  });
});

describe('wrong array types say what they got', () => {
  test.each([
    ['a Float64Array', new Float64Array(4)],
    ['an Int32Array', new Int32Array(4)],
    ['a Uint8Array', new Uint8Array(4)],
    ['an Array', [1, 2, 3]],
  ])('%s', async (name, array) => {
    const clipper = await cpu();
    let error: GradclipError | undefined;
    try {
      clipper.gradients([array as unknown as GradView]);
    } catch (e) {
      error = e as GradclipError;
    }
    expect(error).toBeInstanceOf(GradclipError);
    expect(error!.message).toContain(`views[0] is ${name};`);
    expect(error!.message).toContain('Float32Array.from(');
  });
});
