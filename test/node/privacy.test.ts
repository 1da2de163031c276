// The private optimizer's cases (test/shared/privacy-cases.ts) on the CPU backend in Node;
// test/browser/privacy.test.ts runs them on WebGPU too.
import { describe, test } from 'vitest';
import { createClipper } from '../../src/index';
import { PRIVACY_CASES } from '../shared/privacy-cases';
import { cpuTensors } from '../shared/tensors';

describe('the private optimizer on the CPU backend (Node)', async () => {
  const clipper = await createClipper({ backend: 'cpu' });
  const tensors = cpuTensors(clipper, () => createClipper({ backend: 'cpu' }));
  for (const [name, run] of Object.entries(PRIVACY_CASES)) test(name, () => run(tensors));
});
