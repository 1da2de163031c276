// The CPU cost of building a set (clipper.gradients(views): validation, planning, bind groups) for
// a 150-view model, the work a training loop repeats every step when its gradients are new tensors
// (TF.js). The first build of a plan shape also makes the shape's GPU resources; later builds of
// the same shape reuse them (the set pool), so they allocate no buffer: the line counts that too.
import { createClipper, createGradientArena } from '../../src/index';
import { transformerShapes } from './cases';
import { summarize, type Summary } from './stats';

/** Views in the measured set: the transformer preset's 148 tensors and a classifier head's two. */
export const SET_BUILD_VIEWS = 150;

export interface SetBuildResult {
  views: number;
  /** Wall time of the first build, which also makes the shape's pooled GPU resources. */
  firstMs: number;
  /** Wall times of the later builds of the same shape (a new set each time). */
  laterMs: Summary;
  /** Buffers created by the later builds (0: the pool served them). */
  buffersCreatedLater: number;
}

/** Builds a 150-view set `builds` times (each a new set, dropped at once) and times each build. */
export async function measureSetBuild(device: GPUDevice, maxWorkgroups: number, builds = 50): Promise<SetBuildResult> {
  const lengths = [...transformerShapes().map((t) => t.length), 160 * 10, 10];
  const { buffer, views } = createGradientArena(device, lengths);
  const clipper = await createClipper({ device, maxWorkgroups });
  const own = device as unknown as { createBuffer?: GPUDevice['createBuffer'] };
  try {
    let start = performance.now();
    clipper.gradients(views);
    const firstMs = performance.now() - start;
    let created = 0;
    const createBuffer = device.createBuffer;
    own.createBuffer = (descriptor: GPUBufferDescriptor) => {
      created++;
      return createBuffer.call(device, descriptor);
    };
    const later: number[] = [];
    for (let i = 0; i < builds; i++) {
      start = performance.now();
      clipper.gradients(views);
      later.push(performance.now() - start);
    }
    return { views: lengths.length, firstMs, laterMs: summarize(later), buffersCreatedLater: created };
  } finally {
    delete own.createBuffer;
    clipper.destroy();
    buffer.destroy();
  }
}
