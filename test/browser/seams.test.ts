// The seams matrix (test/shared/seams.ts) in Chromium: every NormHandle producer × every consumer,
// on WebGPU (SwiftShader here) with gradclip submitting its own work and inside the caller's
// encoder beside the caller's own copies, and on the CPU backend in the browser. Each cell runs in
// its own validation and out-of-memory scopes besides the setup file's; small sets and
// `maxWorkgroups: 4` keep the whole file short on SwiftShader.
import { describe, expect, test } from 'vitest';
import { AXES, CONSUMERS, PRODUCERS, cpuSeams, gpuSeams, seamsMatrix } from '../shared/seams';
import { sharedDevice } from './gpu';

for (const backend of [gpuSeams(sharedDevice, 4), cpuSeams()]) {
  describe(`seams on the ${backend.name} backend (browser)`, () => {
    const matrix = seamsMatrix(backend);

    // Cells that cannot apply are listed with their reason (matrix.notApplicable), not registered as skipped tests.
    test('every producer × consumer × axis is a cell or says why it is not applicable', () => {
      expect(matrix.size).toBe(PRODUCERS.length * CONSUMERS.length * AXES.length);
      expect(matrix.cells.length + matrix.notApplicable.length).toBe(matrix.size);
      for (const { reason } of matrix.notApplicable) expect(reason.length).toBeGreaterThan(20);
    });

    // Loops, not test.each: each's $name interpolation cuts names at 40 characters.
    for (const cell of matrix.cells) test(cell.name, () => cell.run());
  });
}
