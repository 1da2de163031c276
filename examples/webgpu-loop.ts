// README "Quick start": the raw WebGPU training loop, run as written by test/browser/examples.test.ts.
// The two `loop` regions, joined, are the README's code block (test/node/readme-examples.test.ts
// keeps them equal). Around them, stand-ins for what the README leaves to the reader: a model's
// parameter sizes, a backward pass that writes known gradients and an optimizer step that reads
// the clipped ones.
// #region loop
import { createClipper, createGradientArena } from 'gradclip';
// #endregion loop
import type { GradView } from 'gradclip';

/** The stand-in model: its parameter tensors' element counts (awkward on purpose). */
export const model = { parameterSizes: [300, 7, 1000, 1, 33] };

/** The stand-in backward pass scales its gradients by these in turn: no clip, a clip, a large clip. */
export const GRADIENT_SCALES = [0.01, 1, 300];

/** The gradients the stand-in backward pass writes at `step` (float32, one array per tensor). */
export function knownGradients(step: number): Float32Array<ArrayBuffer>[] {
  const scale = GRADIENT_SCALES[step % GRADIENT_SCALES.length];
  return model.parameterSizes.map((length, tensor) =>
    Float32Array.from({ length }, (_, k) => (scale * (((k * 7 + tensor * 13) % 17) - 8)) / 8),
  );
}

/** What `run` read: the norms the loop logged (steps 0, 100, 200, …) and the last step's clipped gradients. */
export interface WebGPULoopResult {
  norms: number[];
  lastClipped: Float32Array[];
}

/** Runs the README's loop on `device` for `steps` steps; destroys what it made. */
export async function run(device: GPUDevice, { steps = 300 } = {}): Promise<WebGPULoopResult> {
  const norms: number[] = [];
  // The README prints each norm it reads; here they are kept for the caller.
  const console = { log: (_label: string, norm: number) => norms.push(norm) };
  const gradientSource = standInBackward(device);
  const optimizer = standInOptimizer(device);
  const backward = gradientSource.record;
  const optimizerStep = optimizer.record;
  // #region loop

  const clipper = await createClipper({ device }); // or createClipper() to request one
  // Pack a model's gradients into one buffer (fewest dispatches), or pass your own buffers.
  const { buffer, views } = createGradientArena(device, model.parameterSizes);
  const grads = clipper.gradients(views); // validated and planned once

  for (let step = 0; step < steps; step++) {
    const encoder = device.createCommandEncoder();
    backward(encoder, buffer); // your kernels write the gradients
    const norm = clipper.clipGradNorm(grads, 1.0, { encoder });
    optimizerStep(encoder, buffer); // reads the clipped gradients
    device.queue.submit([encoder.finish()]);
    if (step % 100 === 0) console.log('grad norm', await norm.read()); // the only readback
  }
  // #endregion loop
  const lastClipped = await optimizer.read(views);
  clipper.destroy();
  buffer.destroy();
  gradientSource.destroy();
  optimizer.destroy();
  return { norms, lastClipped };
}

/** A stand-in backward pass: copies the step's known gradients (uploaded once, one arena per scale) into the arena. */
function standInBackward(device: GPUDevice) {
  const sources = GRADIENT_SCALES.map((_, variant) => {
    const source = createGradientArena(device, model.parameterSizes);
    knownGradients(variant).forEach((values, i) =>
      device.queue.writeBuffer(source.buffer, offsetOf(source.views[i]), values),
    );
    return source.buffer;
  });
  let calls = 0;
  return {
    record(encoder: GPUCommandEncoder, buffer: GPUBuffer): void {
      encoder.copyBufferToBuffer(sources[calls++ % sources.length], 0, buffer, 0, buffer.size);
    },
    destroy: () => sources.forEach((s) => s.destroy()),
  };
}

/** A stand-in optimizer step: copies the clipped gradients it would apply, for `read` to return. */
function standInOptimizer(device: GPUDevice) {
  let applied: GPUBuffer | null = null;
  return {
    record(encoder: GPUCommandEncoder, buffer: GPUBuffer): void {
      // A real optimizer holds its state from the start; the stand-in sizes its copy on the first step.
      applied ??= device.createBuffer({
        label: 'example applied gradients',
        size: buffer.size,
        usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.MAP_READ,
      });
      encoder.copyBufferToBuffer(buffer, 0, applied, 0, buffer.size);
    },
    async read(views: GradView[]): Promise<Float32Array[]> {
      if (!applied) return [];
      await applied.mapAsync(GPUMapMode.READ);
      const floats = new Float32Array(applied.getMappedRange().slice(0));
      applied.unmap();
      return views.map((view) =>
        floats.slice(offsetOf(view) / 4, offsetOf(view) / 4 + (view as { length: number }).length),
      );
    },
    destroy: () => applied?.destroy(),
  };
}

/** A createGradientArena view's byte offset (its views are `{ buffer, offset, length }`). */
function offsetOf(view: GradView): number {
  return (view as { offset: number }).offset;
}
