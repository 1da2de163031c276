// The seams matrix (test/shared/seams.ts) on the CPU backend in Node: every NormHandle producer
// × every consumer, on Float32Array views with sentinels between. The caller-encoder axis is in
// the not-applicable list with its reason (the CPU backend rejects `encoder`); the browser file runs it on
// the GPU.
import { describe, expect, test } from 'vitest';
import { AXES, CONSUMERS, PRODUCERS, cpuSeams, seamsMatrix } from '../shared/seams';

describe('seams on the CPU backend (Node)', () => {
  const matrix = seamsMatrix(cpuSeams());

  // Cells that cannot apply are listed with their reason (matrix.notApplicable), not registered as skipped tests.
  test('every producer × consumer × axis is a cell or says why it is not applicable', () => {
    expect(matrix.size).toBe(PRODUCERS.length * CONSUMERS.length * AXES.length);
    expect(matrix.cells.length + matrix.notApplicable.length).toBe(matrix.size);
    for (const { reason } of matrix.notApplicable) expect(reason.length).toBeGreaterThan(20);
  });

  // Loops, not test.each: each's $name interpolation cuts names at 40 characters.
  for (const cell of matrix.cells) test(cell.name, () => cell.run());
});
