// gradclip/tfjs's clippedOptimizer in Node, on TF.js's CPU backend: Keras 3's rules for the three
// options (one at most, each > 0), Keras's formulas worked by hand, the wrapped optimizer's
// weights, and serialisation through TF.js's class registry.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { beforeAll, describe, expect, test } from 'vitest';
import { thrown } from '../shared/thrown';
import { ClippedOptimizer, clippedOptimizer } from 'gradclip/tfjs';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('options follow Keras 3', () => {
  test('at most one of clipnorm, clipvalue and globalClipnorm', () => {
    const error = thrown(() => clippedOptimizer(null, tf.train.sgd(0.1), { clipnorm: 1, globalClipnorm: 1 }));
    expect(error.message).toContain('only one of clipnorm, clipvalue and globalClipnorm');
    expect(error.message).toContain('clipnorm and globalClipnorm');
  });

  test.each([0, -1, Number.NaN, Number.POSITIVE_INFINITY])('a limit of %s is rejected', (limit) => {
    expect(thrown(() => clippedOptimizer(null, tf.train.sgd(0.1), { clipvalue: limit })).message).toContain(
      'clipvalue must be a finite number > 0',
    );
  });

  test("Keras's snake_case spelling points to the option", () => {
    expect(thrown(() => clippedOptimizer(null, tf.train.sgd(0.1), { global_clipnorm: 1 } as object)).message).toContain(
      "did you mean 'globalClipnorm'",
    );
  });

  test('the inner optimizer must be a TF.js optimizer', () => {
    expect(thrown(() => clippedOptimizer(null, {} as tf.Optimizer)).message).toContain(
      'inner must be a TF.js optimizer',
    );
  });
});

describe("Keras's formulas, by hand (w = [3, 4], loss Σ w², so g = [6, 8] and ‖g‖ = 10; SGD at lr 1)", () => {
  async function stepWith(options: object): Promise<number[]> {
    const w = tf.variable(tf.tensor1d([3, 4]));
    const optimizer = clippedOptimizer(null, tf.train.sgd(1), options);
    optimizer.minimize(() => tf.sum(tf.square(w)) as tf.Scalar, false, [w]);
    const values = Array.from(await w.data());
    w.dispose();
    optimizer.dispose();
    return values;
  }

  test('globalClipnorm 1: g · 1 / 10', async () => {
    const [a, b] = await stepWith({ globalClipnorm: 1 });
    expect(a).toBeCloseTo(3 - 0.6, 6);
    expect(b).toBeCloseTo(4 - 0.8, 6);
  });

  test('clipnorm 20 (above the norm): g unchanged', async () => {
    expect(await stepWith({ clipnorm: 20 })).toEqual([-3, -4]);
  });

  test('clipvalue 7: [6, 8] becomes [6, 7]', async () => {
    expect(await stepWith({ clipvalue: 7 })).toEqual([-3, -3]);
  });
});

test('getWeights and setWeights reach the wrapped optimizer (Adam moments)', async () => {
  const w = tf.variable(tf.tensor1d([1, 2]), true, 'w-weights');
  const optimizer = clippedOptimizer(null, tf.train.adam(0.1), { globalClipnorm: 1 });
  optimizer.minimize(() => tf.sum(tf.square(w)) as tf.Scalar, false, [w]);
  const weights = await optimizer.getWeights();
  expect(weights.length).toBeGreaterThan(1); // iterations and both moments
  const fresh = clippedOptimizer(null, tf.train.adam(0.1), { globalClipnorm: 1 });
  await fresh.setWeights(weights);
  expect((await fresh.getWeights()).map((x) => x.name)).toEqual(weights.map((x) => x.name));
});

test('getConfig and fromConfig round-trip through TF.js class registry', () => {
  const optimizer = clippedOptimizer(null, tf.train.adam(0.01, 0.8, 0.99), { clipnorm: 0.5 });
  const config = optimizer.getConfig();
  expect(config).toMatchObject({ clipnorm: 0.5, inner: { className: 'Adam' } });
  const [cls, fromConfig] = tf.serialization.SerializationMap.getMap().classNameMap[ClippedOptimizer.className];
  const restored = fromConfig(cls, config) as unknown as ClippedOptimizer;
  expect(restored).toBeInstanceOf(ClippedOptimizer);
  expect(restored.getConfig()).toEqual(config);
  expect(restored.clipper).toBeNull();
});
