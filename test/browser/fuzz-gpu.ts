// Runs a fuzz case (test/shared/fuzz-cases.ts) on a GPU clipper: uploads each buffer with its
// sentinels, clips, reads everything back and compares with the float64 reference. Shared by the
// regular fuzz test (200 cases) and the stress suite (2 000).
import { expect } from 'vitest';
import type { Clipper } from 'gradclip';
import { describeCase, fuzzCase, fuzzContents, shrink, type FuzzCase } from '../shared/fuzz-cases';
import { compareOutcome, expectedFor } from '../shared/fuzz-check';
import { readBack, upload } from './gpu';

export async function runOnGpu(device: GPUDevice, clipper: Clipper, c: FuzzCase): Promise<string | null> {
  const expected = expectedFor(c);
  const { contents } = fuzzContents(c);
  const buffers = contents.map((a) => upload(device, a));
  try {
    const views = c.buffers.flatMap((b, i) =>
      b.views.map((v) => ({ buffer: buffers[i], offset: 4 * v.offset, length: v.length })),
    );
    const set = clipper.gradients(views);
    let norm: number | null = null;
    if (c.operation === 'clip-value') clipper.clipGradValue(set, expected.maxNorm);
    else norm = await clipper.clipGradNorm(set, expected.maxNorm, { normType: c.p }).read();
    const after = await Promise.all(
      buffers.map((b, i) => readBack(device, b).then((a) => a.subarray(0, contents[i].length))),
    );
    return compareOutcome(c, expected, norm, contents, after);
  } finally {
    for (const b of buffers) b.destroy();
  }
}

/** Runs seeds first..last; on a failure, shrinks it and fails the test with the seed and the shrunk case. */
export async function fuzzOnGpu(
  device: GPUDevice,
  clippers: Clipper[],
  first: number,
  last: number,
  maxElements: number,
): Promise<void> {
  for (let seed = first; seed <= last; seed++) {
    const c = fuzzCase(seed, maxElements);
    const clipper = clippers[seed % clippers.length];
    const failure = await runOnGpu(device, clipper, c);
    if (failure) {
      const shrunk = await shrink(c, (candidate) => runOnGpu(device, clipper, candidate), 60);
      expect.fail(
        `seed ${seed} (clipper ${seed % clippers.length}): ${failure}\nshrunk: ${shrunk.message}\n${describeCase(shrunk.case)}`,
      );
    }
  }
}
