// The AMP demo's training: three copies of a small MLP (demo/amp/mlp.wgsl computes its forward and
// backward passes) trained side by side on the same batches from the same weights with gradclip's
// fused Adam: gradients stored as f32, as f16, and as f16 scaled by a GradScaler. Parameters and
// Adam's moments are f32 in every run (master weights). Each step records every run's passes, the
// optimizer steps and the scaler's update into one command buffer; a history of loss, flushed
// fraction and scale stays on the GPU and is read back once every `readEvery` steps.
import { createGradScaler, createOptimizer, type Clipper, type GradScaler, type Optimizer } from 'gradclip';
import { whileNudging } from '../../src/gpu/nudge';
import { SeededRandom } from '../train/model';
import mlpWgsl from './mlp.wgsl?raw';
import type { AmpRecord, AmpRun, AmpSettings } from './settings';

const INPUTS = 16;
const HIDDEN = 32;
const PARAMS = 577;
const STORAGE = 0x0080;
const COPY_SRC = 0x0004;
const COPY_DST = 0x0008;
const UNIFORM = 0x0040;
/** Bytes between two steps' settings records (the uniform offset alignment). */
const SETTINGS_STRIDE = 256;

/** Inputs ~ N(0, 1) and a teacher MLP of the same shape as the student: the targets. */
function dataSet(settings: AmpSettings): { inputs: Float32Array<ArrayBuffer>; targets: Float32Array<ArrayBuffer> } {
  const random = new SeededRandom(settings.seed + 1000);
  const teacher = initialParams(settings.seed + 7, 1);
  const inputs = Float32Array.from({ length: settings.examples * INPUTS }, () => random.normal());
  const targets = new Float32Array(settings.examples);
  for (let e = 0; e < settings.examples; e++) {
    let y = teacher[576];
    for (let j = 0; j < HIDDEN; j++) {
      let a = teacher[512 + j];
      for (let k = 0; k < INPUTS; k++) a += teacher[j * INPUTS + k] * inputs[e * INPUTS + k];
      y += teacher[544 + j] * Math.tanh(a);
    }
    targets[e] = y;
  }
  return { inputs, targets };
}

/** Glorot-style weights, zero biases (the teacher's weights `gain` times larger). */
function initialParams(seed: number, gain: number): Float32Array<ArrayBuffer> {
  const random = new SeededRandom(seed);
  const p = new Float32Array(PARAMS);
  for (let i = 0; i < 512; i++) p[i] = gain * random.normal() * Math.sqrt(1 / INPUTS);
  for (let j = 0; j < HIDDEN; j++) p[544 + j] = gain * random.normal() * Math.sqrt(1 / HIDDEN);
  return p;
}

/** One run's GPU resources: parameters, gradients of its storage type, optimizer, scaler, history. */
class RunResources {
  readonly params: GPUBuffer;
  readonly grads: GPUBuffer;
  readonly stats: GPUBuffer;
  readonly optimizer: Optimizer;
  readonly scaler: GradScaler | null;
  readonly bindGroup: GPUBindGroup;
  readonly pipelines: { forward: GPUComputePipeline; backward: GPUComputePipeline; record: GPUComputePipeline };
  private readonly one: GPUBuffer | null;

  constructor(
    readonly run: AmpRun,
    device: GPUDevice,
    clipper: Clipper,
    shared: {
      inputs: GPUBuffer;
      targets: GPUBuffer;
      scratch: GPUBuffer;
      settings: GPUBuffer;
      initial: Float32Array<ArrayBuffer>;
    },
    settings: AmpSettings,
    steps: number,
  ) {
    const half = run !== 'f32';
    const buffer = (label: string, size: number, usage: number) =>
      device.createBuffer({ label: `amp demo ${run} ${label}`, size, usage });
    this.params = buffer('params', 4 * 580, STORAGE | COPY_DST | COPY_SRC);
    device.queue.writeBuffer(this.params, 0, shared.initial);
    this.grads = buffer('grads', (half ? 2 : 4) * 580, STORAGE | COPY_DST | COPY_SRC);
    this.stats = buffer('history', 16 + 16 * steps, STORAGE | COPY_SRC);
    this.scaler =
      run === 'f16-scaler'
        ? createGradScaler(clipper, { initScale: settings.initScale, growthInterval: settings.growthInterval })
        : null;
    this.optimizer = createOptimizer(clipper, {
      params: clipper.gradients([{ buffer: this.params, offset: 0, length: PARAMS }]),
      grads: clipper.gradients([{ buffer: this.grads, offset: 0, length: PARAMS, dtype: half ? 'f16' : 'f32' }]),
      kind: 'adam',
      lr: settings.lr,
      ...(this.scaler ? { scaler: this.scaler } : {}),
    });
    this.one = this.scaler ? null : buffer('unit scale', 4, STORAGE | COPY_DST);
    if (this.one) device.queue.writeBuffer(this.one, 0, Float32Array.of(1));
    const code = `${half ? 'enable f16;\n' : ''}${mlpWgsl.replaceAll('GRAD_T', half ? 'f16' : 'f32')}`;
    const module = device.createShaderModule({ label: `amp demo mlp ${half ? 'f16' : 'f32'}`, code });
    // One explicit layout for the three entry points (settings by dynamic offset: one record a step).
    const kinds: GPUBufferBindingType[] = [
      'uniform',
      ...Array(3).fill('read-only-storage'),
      'storage',
      'storage',
      'read-only-storage',
      'storage',
    ];
    const bindGroupLayout = device.createBindGroupLayout({
      label: 'amp demo layout',
      entries: kinds.map((type, binding) => ({
        binding,
        visibility: 0x4,
        buffer: { type, hasDynamicOffset: binding === 0 },
      })),
    });
    const layout = device.createPipelineLayout({
      label: 'amp demo pipeline layout',
      bindGroupLayouts: [bindGroupLayout],
    });
    const pipeline = (entryPoint: string) =>
      device.createComputePipeline({ label: `amp demo ${run} ${entryPoint}`, layout, compute: { module, entryPoint } });
    this.pipelines = { forward: pipeline('forward'), backward: pipeline('backward'), record: pipeline('record') };
    const scale = this.scaler?.scale ?? { buffer: this.one!, offset: 0 };
    const resources: GPUBindingResource[] = [
      { buffer: shared.settings, size: 16 },
      { buffer: shared.inputs },
      { buffer: shared.targets },
      { buffer: this.params },
      { buffer: shared.scratch },
      { buffer: this.grads },
      { buffer: scale.buffer, offset: scale.offset, size: 4 },
      { buffer: this.stats },
    ];
    this.bindGroup = device.createBindGroup({
      label: `amp demo ${run} group`,
      layout: bindGroupLayout,
      entries: resources.map((resource, binding) => ({ binding, resource })),
    });
  }

  /** The step's passes into `encoder`: forward, backward (gradients stored), history row, then the optimizer and the scaler. */
  record(encoder: GPUCommandEncoder, settingsOffset: number, batch: number): void {
    const pass = encoder.beginComputePass({ label: `amp demo ${this.run} step` });
    pass.setBindGroup(0, this.bindGroup, [settingsOffset]);
    pass.setPipeline(this.pipelines.forward);
    pass.dispatchWorkgroups(Math.ceil(batch / 64));
    pass.setPipeline(this.pipelines.backward);
    pass.dispatchWorkgroups(Math.ceil(PARAMS / 64));
    pass.setPipeline(this.pipelines.record);
    pass.dispatchWorkgroups(1);
    pass.end();
    this.optimizer.step({ encoder });
    this.scaler?.update({ encoder });
  }

  destroy(): void {
    this.optimizer.destroy();
    this.scaler?.destroy();
    for (const b of [this.params, this.grads, this.stats, this.one]) b?.destroy();
  }
}

/** Trains the runs side by side; `onRecords` gets each readback's new records. */
export class AmpTrainer {
  private readonly runs: RunResources[];
  private readonly shared: GPUBuffer[];
  private readonly settingsBuffer: GPUBuffer;
  private readonly staging: GPUBuffer;

  constructor(
    private readonly device: GPUDevice,
    clipper: Clipper,
    runs: readonly AmpRun[],
    private readonly settings: AmpSettings,
    steps: number,
  ) {
    const data = dataSet(settings);
    const make = (label: string, values: Float32Array<ArrayBuffer>) => {
      const b = device.createBuffer({ label: `amp demo ${label}`, size: values.byteLength, usage: STORAGE | COPY_DST });
      device.queue.writeBuffer(b, 0, values);
      return b;
    };
    const inputs = make('inputs', data.inputs);
    const targets = make('targets', data.targets);
    const scratch = device.createBuffer({ label: 'amp demo scratch', size: 4 * 33 * settings.batch, usage: STORAGE });
    // Every step's settings record, written once: a step writes and allocates nothing.
    this.settingsBuffer = device.createBuffer({
      label: 'amp demo settings',
      size: SETTINGS_STRIDE * steps,
      usage: UNIFORM | COPY_DST,
    });
    const records = new ArrayBuffer(SETTINGS_STRIDE * steps);
    for (let s = 0; s < steps; s++) {
      const first = (s * settings.batch) % settings.examples;
      new Uint32Array(records, s * SETTINGS_STRIDE, 3).set([settings.batch, first, s]);
      new Float32Array(records, s * SETTINGS_STRIDE + 12, 1)[0] = settings.lossWeight;
    }
    device.queue.writeBuffer(this.settingsBuffer, 0, records);
    this.shared = [inputs, targets, scratch, this.settingsBuffer];
    const initial = initialParams(settings.seed, 0.5);
    this.runs = runs.map(
      (run) =>
        new RunResources(
          run,
          device,
          clipper,
          { inputs, targets, scratch, settings: this.settingsBuffer, initial },
          settings,
          steps,
        ),
    );
    this.staging = device.createBuffer({
      label: 'amp demo history staging',
      size: 16 * steps * runs.length,
      usage: 0x0001 | COPY_DST,
    });
  }

  /** Records and submits step `s` of every run (one command buffer). */
  step(s: number): void {
    const encoder = this.device.createCommandEncoder({ label: `amp demo step ${s}` });
    for (const run of this.runs) run.record(encoder, s * SETTINGS_STRIDE, this.settings.batch);
    this.device.queue.submit([encoder.finish()]);
  }

  /** Reads rows [from, to) of every run's history (one copy and one map for all runs). */
  async read(from: number, to: number): Promise<Map<AmpRun, AmpRecord[]>> {
    const rows = to - from;
    const encoder = this.device.createCommandEncoder({ label: 'amp demo history read' });
    this.runs.forEach((run, i) =>
      encoder.copyBufferToBuffer(run.stats, 16 + 16 * from, this.staging, 16 * rows * i, 16 * rows),
    );
    this.device.queue.submit([encoder.finish()]);
    // Firefox resolves a map at its next submit or a ~100 ms timer: nudged as gradclip's reads are.
    await whileNudging(this.device, this.staging.mapAsync(0x0001, 0, 16 * rows * this.runs.length));
    const values = new Float32Array(this.staging.getMappedRange(0, 16 * rows * this.runs.length).slice(0));
    this.staging.unmap();
    return new Map(
      this.runs.map((run, i) => [
        run.run,
        Array.from({ length: rows }, (_, r) => {
          const at = 4 * (rows * i + r);
          return { step: from + r, loss: values[at], flushed: values[at + 1], scale: values[at + 2] };
        }),
      ]),
    );
  }

  /** Steps each run's optimizer took (skipped ones not counted). */
  async stepsTaken(): Promise<Map<AmpRun, number>> {
    return new Map(await Promise.all(this.runs.map(async (r) => [r.run, (await r.optimizer.state()).step] as const)));
  }

  destroy(): void {
    for (const run of this.runs) run.destroy();
    for (const b of [...this.shared, this.staging]) b.destroy();
  }
}
