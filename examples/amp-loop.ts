// The mixed-precision guide's loop (docs/guide/amp.md): a GradScaler, the fused AdamW with the
// scaler, and update(), each step recorded into one encoder and nothing read back. The `amp`
// regions, joined, are the guide's block (test/node/readme-examples.test.ts keeps them equal);
// test/browser/examples.test.ts runs it. Around them, a stand-in backward pass: a kernel that
// writes known gradients times the scale it reads from `scaler.scale` on the GPU, with an
// overflow (+Inf) at step OVERFLOW_STEP.
// #region amp
import { createClipper, createGradScaler, createOptimizer } from 'gradclip';
// #endregion amp
import { readBytes } from '../test/shared/read-bytes';

/** The stand-in gradients' element count, and the one step whose scaled gradients overflow. */
export const LENGTH = 257;
export const OVERFLOW_STEP = 3;

/** The unscaled gradients the stand-in backward writes (times the scale) at every step. */
export function knownGradient(): Float32Array<ArrayBuffer> {
  return Float32Array.from({ length: LENGTH }, (_, k) => (((k * 7) % 17) - 8) / 4);
}

const BACKWARD = `
@group(0) @binding(0) var<storage, read> known: array<f32>;
@group(0) @binding(1) var<storage, read> scale: f32;
@group(0) @binding(2) var<storage, read_write> grads: array<f32>;
@group(0) @binding(3) var<uniform> flags: vec4<u32>; // x: 1 to overflow; y: 0 (+Inf is made at run time)
@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) id: vec3<u32>) {
  if (id.x >= arrayLength(&grads)) { return; }
  let overflow = id.x == 0u && flags.x == 1u;
  grads[id.x] = known[id.x] * scale * select(1.0, bitcast<f32>(0x7f800000u + flags.y), overflow);
}`;

/** Runs the guide's loop for `steps` steps; resolves with the parameters, the scale and the steps the optimizer took. */
export async function run(device: GPUDevice, { steps = 8 } = {}) {
  const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC;
  const gradBuffer = device.createBuffer({ size: 4 * LENGTH, usage });
  const paramBuffer = device.createBuffer({ size: 4 * LENGTH, usage });
  const known = device.createBuffer({ size: 4 * LENGTH, usage });
  device.queue.writeBuffer(known, 0, knownGradient());
  // #region amp
  const clipper = await createClipper({ device });
  const grads = clipper.gradients([gradBuffer]); // f16 or f32 gradients; f16 needs shader-f16
  const params = clipper.gradients([paramBuffer]); // f32 master weights
  // #endregion amp
  const pipeline = device.createComputePipeline({
    layout: 'auto',
    compute: { module: device.createShaderModule({ code: BACKWARD }), entryPoint: 'main' },
  });
  const flags = device.createBuffer({ size: 16, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  let groups: GPUBindGroup | null = null;
  let calls = 0;
  const forwardAndBackward = (encoder: GPUCommandEncoder, scale: { buffer: GPUBuffer; offset: number } | null) => {
    // The overflow step's first gradient is +Inf (the flag is written before the encoder is submitted).
    device.queue.writeBuffer(flags, 0, Uint32Array.of(calls++ === OVERFLOW_STEP ? 1 : 0, 0, 0, 0));
    groups ??= device.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries: [
        { binding: 0, resource: { buffer: known } },
        { binding: 1, resource: { buffer: scale!.buffer, offset: scale!.offset, size: 4 } },
        { binding: 2, resource: { buffer: gradBuffer } },
        { binding: 3, resource: { buffer: flags } },
      ],
    });
    const pass = encoder.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, groups);
    pass.dispatchWorkgroups(Math.ceil(LENGTH / 64));
    pass.end();
  };
  // #region amp
  const scaler = createGradScaler(clipper); // initScale 2 ** 16, growthFactor 2, backoffFactor 0.5, growthInterval 2000
  const optimizer = createOptimizer(clipper, { params, grads, kind: 'adamw', lr: 3e-4, clip: { maxNorm: 1 }, scaler });

  for (let step = 0; step < steps; step++) {
    const encoder = device.createCommandEncoder();
    forwardAndBackward(encoder, scaler.scale); // your kernels: gradients of loss × scale
    optimizer.step({ encoder }); // unscales inside the update; skips the whole step on NaN / ±Inf
    scaler.update({ encoder }); // backs off or grows, on the GPU
    device.queue.submit([encoder.finish()]);
  }
  // #endregion amp
  const result = {
    params: new Float32Array(await readBytes(device, paramBuffer)),
    scale: await scaler.getScale(),
    stepsTaken: (await optimizer.state()).step,
  };
  clipper.destroy();
  for (const b of [gradBuffer, paramBuffer, known, flags]) b.destroy();
  return result;
}
