// The GradScaler's ported PyTorch and Keras cases (test/shared/amp-cases.ts) on the CPU backend in
// Node; test/browser/amp.test.ts runs them on WebGPU too.
import { describe, test } from 'vitest';
import { createClipper } from '../../src/index';
import { AMP_CASES } from '../shared/amp-cases';
import { cpuTensors } from '../shared/tensors';

describe('GradScaler on the CPU backend (Node)', async () => {
  const clipper = await createClipper({ backend: 'cpu' });
  const tensors = cpuTensors(clipper, () => createClipper({ backend: 'cpu' }));
  for (const [name, run] of Object.entries(AMP_CASES)) test(name, () => run(tensors));
});
