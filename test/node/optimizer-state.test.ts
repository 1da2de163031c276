// Optimizer.setState on the CPU backend (the GPU's is exercised through gradclip/tfjs's
// fusedOptimizer in the browser): a checkpoint from state() makes a fresh optimizer continue as the
// original, and a malformed one is refused before anything changes.
import { describe, expect, test } from 'vitest';
import { createClipper, createOptimizer } from 'gradclip';
import { thrown } from '../shared/thrown';

describe('Optimizer.setState', () => {
  test('a fresh optimizer given the state steps as the original', async () => {
    const cpu = await createClipper({ backend: 'cpu' });
    const g = new Float32Array([0.5, -1, 2]);
    const make = () => {
      const w = new Float32Array([1, 2, 3]);
      const optimizer = createOptimizer(cpu, {
        params: cpu.gradients([w]),
        grads: cpu.gradients([g]),
        kind: 'adam',
        lr: 0.1,
        clip: { maxNorm: 1 },
      });
      return { w, optimizer };
    };
    const a = make();
    for (let i = 0; i < 3; i++) a.optimizer.step();
    const b = make();
    b.w.set(a.w);
    b.optimizer.setState(await a.optimizer.state());
    a.optimizer.step();
    b.optimizer.step();
    expect(Array.from(b.w)).toEqual(Array.from(a.w));
    expect((await b.optimizer.state()).step).toBe(4);
  });

  test('a state of the wrong shape is refused and changes nothing', async () => {
    const cpu = await createClipper({ backend: 'cpu' });
    const optimizer = createOptimizer(cpu, {
      params: cpu.gradients([new Float32Array(3)]),
      grads: cpu.gradients([new Float32Array(3)]),
      kind: 'sgd',
      lr: 0.1,
    });
    expect(
      thrown(() => optimizer.setState({ step: 1, first: [new Float32Array(2)], second: [new Float32Array(3)] }))
        .message,
    ).toContain('state.first[0] must have 3 elements');
    expect(thrown(() => optimizer.setState({ step: -1, first: [], second: [] })).message).toContain('state.step');
    expect((await optimizer.state()).step).toBe(0);
  });
});
