// The DP-SGD demo's training on the GPU: one MLP per run (demo/dp/mlp.wgsl computes its per-example
// gradients and its test accuracy), all from the same weights on the same Poisson batches, each
// stepped by gradclip's private optimizer (DP-SGD: clip each example, sum, add Gaussian noise,
// divide, SGD update) at its own noise multiplier. Each step uploads the batch with
// queue.writeBuffer and records every run's gradient pass, optimizer step and, every `evalEvery`
// steps, evaluation into one command buffer. Evaluations and clip counts stay on the GPU and are
// read back once every `readEvery` steps; buffers, pipelines and bind groups are built once.
import { createGradientArena, createOptimizer, type Clipper, type GradView, type Optimizer } from 'gradclip';
import { whileNudging } from '../../src/gpu/nudge';
import { PARAM_LENGTHS, type Examples } from './data';
import mlpWgsl from './mlp.wgsl?raw';
import { DP_MODEL, type DpRun, type DpSettings } from './settings';

const { STORAGE, UNIFORM, COPY_SRC, COPY_DST, MAP_READ } = GPUBufferUsage;
/** mlp.wgsl's @workgroup_size. */
const WORKGROUP_SIZE = 64;
/** Stats' header before the per-evaluation counts: clipped, seen, largestNorm, padding (u32 each). */
const STATS_HEADER_BYTES = 16;

/** The model's shape as WGSL constants, from DP_MODEL (one source for both languages). */
const SHAPE_WGSL = Object.entries({ INPUTS: DP_MODEL.inputs, HIDDEN: DP_MODEL.hidden, CLASSES: DP_MODEL.classes })
  .map(([name, value]) => `const ${name}: u32 = ${value}u;`)
  .join('\n');

/** mlp.wgsl's bindings, in order: one explicit layout serves both entry points. */
const BINDING_TYPES: GPUBufferBindingType[] = [
  'uniform', // batch
  'uniform', // run
  'read-only-storage', // batchInputs
  'read-only-storage', // batchLabels
  'read-only-storage', // testInputs
  'read-only-storage', // testLabels
  'read-only-storage', // params
  'storage', // grads
  'storage', // stats
];

/** The byte offsets of an arena's views (each `{ buffer, offset, length }`). */
function offsetsOf(views: readonly GradView[]): number[] {
  return views.map((v) => {
    if (!('offset' in v)) throw new Error('an arena view without an offset');
    return v.offset;
  });
}

/** What one run trains with. */
export interface DpRunPlan {
  run: DpRun;
  noiseMultiplier: number;
  maxNorm: number;
  /** The noise's Philox key. */
  seed: number;
}

/** A run's clip counts and evaluations, as read back. */
export interface DpRunStats {
  clipped: number;
  seen: number;
  largestNorm: number;
  /** Test examples classified right, per evaluation row. */
  correct: Uint32Array;
}

/** The buffers every run's bind group shares. */
interface Shared {
  layout: GPUBindGroupLayout;
  batch: GPUBuffer;
  batchInputs: GPUBuffer;
  batchLabels: GPUBuffer;
  testInputs: GPUBuffer;
  testLabels: GPUBuffer;
}

/** One run's GPU resources: parameters, per-example gradients, its private optimizer, its stats. */
class RunResources {
  readonly params: GPUBuffer;
  readonly grads: GPUBuffer;
  readonly stats: GPUBuffer;
  readonly optimizer: Optimizer;
  readonly bindGroup: GPUBindGroup;
  private readonly info: GPUBuffer;

  constructor(
    readonly plan: DpRunPlan,
    device: GPUDevice,
    clipper: Clipper,
    shared: Shared,
    settings: DpSettings,
    initial: readonly Float32Array<ArrayBuffer>[],
    readonly statsBytes: number,
  ) {
    const label = (what: string) => `dp demo ${plan.run} ${what}`;
    const params = createGradientArena(device, [...PARAM_LENGTHS]);
    const grads = createGradientArena(
      device,
      PARAM_LENGTHS.map((n) => n * settings.capacity),
    );
    this.params = params.buffer;
    this.grads = grads.buffer;
    this.params.label = label('params');
    this.grads.label = label('per-example gradients');
    offsetsOf(params.views).forEach((offset, i) => device.queue.writeBuffer(this.params, offset, initial[i]));
    this.optimizer = createOptimizer(clipper, {
      params: clipper.gradients(params.views),
      grads: clipper.gradients(grads.views),
      kind: 'sgd',
      lr: settings.lr,
      privacy: {
        batchSize: settings.capacity,
        maxNorm: plan.maxNorm,
        noiseMultiplier: plan.noiseMultiplier,
        seed: plan.seed,
        // Opacus's convention: the noised sum over the expected batch, not over this batch's size.
        divisor: settings.expectedBatch,
      },
    });
    // Run { paramsAt: vec4<u32>, gradsAt: vec4<u32>, maxNorm: f32 }: element offsets from the arenas' views.
    const info = new ArrayBuffer(48);
    new Uint32Array(info, 0, 8).set([...offsetsOf(params.views), ...offsetsOf(grads.views)].map((bytes) => bytes / 4));
    new Float32Array(info, 32, 1)[0] = plan.maxNorm;
    this.info = device.createBuffer({ label: label('run settings'), size: info.byteLength, usage: UNIFORM | COPY_DST });
    device.queue.writeBuffer(this.info, 0, info);
    this.stats = device.createBuffer({ label: label('stats'), size: statsBytes, usage: STORAGE | COPY_SRC });
    const resources: GPUBindingResource[] = [
      { buffer: shared.batch },
      { buffer: this.info },
      { buffer: shared.batchInputs },
      { buffer: shared.batchLabels },
      { buffer: shared.testInputs },
      { buffer: shared.testLabels },
      { buffer: this.params },
      { buffer: this.grads },
      { buffer: this.stats },
    ];
    this.bindGroup = device.createBindGroup({
      label: label('bind group'),
      layout: shared.layout,
      entries: resources.map((resource, binding) => ({ binding, resource })),
    });
  }

  destroy(): void {
    this.optimizer.destroy();
    for (const b of [this.params, this.grads, this.info, this.stats]) b.destroy();
  }
}

/** Trains the runs side by side; the caller samples the batches, steps and reads back. */
export class DpTrainer {
  private readonly runs: RunResources[];
  private readonly shared: Shared;
  private readonly pipelines: { gradients: GPUComputePipeline; evaluate: GPUComputePipeline };
  private readonly staging: GPUBuffer;
  /** Batch { examples, evalRow }, padded to the uniform's 16 bytes; rewritten each step. */
  private readonly batchRecord = new Uint32Array(4);
  private readonly testWorkgroups: number;

  constructor(
    private readonly device: GPUDevice,
    clipper: Clipper,
    plans: readonly DpRunPlan[],
    private readonly settings: DpSettings,
    /** Evaluation rows the stats hold. */
    rows: number,
    test: Examples,
    initial: readonly Float32Array<ArrayBuffer>[],
  ) {
    const buffer = (label: string, size: number, usage: number) =>
      device.createBuffer({ label: `dp demo ${label}`, size, usage });
    const layout = device.createBindGroupLayout({
      label: 'dp demo layout',
      entries: BINDING_TYPES.map((type, binding) => ({
        binding,
        visibility: GPUShaderStage.COMPUTE,
        buffer: { type },
      })),
    });
    this.shared = {
      layout,
      batch: buffer('batch settings', this.batchRecord.byteLength, UNIFORM | COPY_DST),
      batchInputs: buffer('batch inputs', 4 * settings.capacity * DP_MODEL.inputs, STORAGE | COPY_DST),
      batchLabels: buffer('batch labels', 4 * settings.capacity, STORAGE | COPY_DST),
      testInputs: buffer('test inputs', test.inputs.byteLength, STORAGE | COPY_DST),
      testLabels: buffer('test labels', test.labels.byteLength, STORAGE | COPY_DST),
    };
    device.queue.writeBuffer(this.shared.testInputs, 0, test.inputs);
    device.queue.writeBuffer(this.shared.testLabels, 0, test.labels);
    this.testWorkgroups = Math.ceil(test.labels.length / WORKGROUP_SIZE);
    const module = device.createShaderModule({ label: 'dp demo mlp', code: `${SHAPE_WGSL}\n${mlpWgsl}` });
    const pipelineLayout = device.createPipelineLayout({
      label: 'dp demo pipeline layout',
      bindGroupLayouts: [layout],
    });
    const pipeline = (entryPoint: string) =>
      device.createComputePipeline({
        label: `dp demo ${entryPoint}`,
        layout: pipelineLayout,
        compute: { module, entryPoint },
      });
    this.pipelines = { gradients: pipeline('perExampleGradients'), evaluate: pipeline('evaluate') };
    const statsBytes = STATS_HEADER_BYTES + 4 * rows;
    this.runs = plans.map(
      (plan) => new RunResources(plan, device, clipper, this.shared, settings, initial, statsBytes),
    );
    this.staging = buffer('stats staging', statsBytes * plans.length, MAP_READ | COPY_DST);
  }

  /**
   * Uploads the batch (the first `examples` rows of `inputs` and `labels`), then records and submits
   * one step of every run, and the evaluation into `evalRow` after it when given: one submit.
   */
  step(
    inputs: Float32Array<ArrayBuffer>,
    labels: Uint32Array<ArrayBuffer>,
    examples: number,
    evalRow: number | null,
  ): void {
    if (examples > 0) {
      this.device.queue.writeBuffer(this.shared.batchInputs, 0, inputs, 0, examples * DP_MODEL.inputs);
      this.device.queue.writeBuffer(this.shared.batchLabels, 0, labels, 0, examples);
    }
    this.writeBatch(examples, evalRow ?? 0);
    const encoder = this.device.createCommandEncoder({ label: 'dp demo step' });
    const pass = encoder.beginComputePass({ label: 'dp demo per-example gradients' });
    pass.setPipeline(this.pipelines.gradients);
    for (const run of this.runs) {
      pass.setBindGroup(0, run.bindGroup);
      pass.dispatchWorkgroups(Math.ceil(this.settings.capacity / WORKGROUP_SIZE));
    }
    pass.end();
    for (const run of this.runs) run.optimizer.step({ examples, encoder });
    if (evalRow !== null) this.recordEvaluation(encoder);
    this.device.queue.submit([encoder.finish()]);
  }

  /** Records and submits only an evaluation into `row` (of the initial weights, or where a stopped run ended). */
  evaluate(row: number): void {
    this.writeBatch(0, row);
    const encoder = this.device.createCommandEncoder({ label: 'dp demo evaluation' });
    this.recordEvaluation(encoder);
    this.device.queue.submit([encoder.finish()]);
  }

  /** Reads every run's stats (one copy each into one staging buffer, one map). */
  async read(): Promise<Map<DpRun, DpRunStats>> {
    const encoder = this.device.createCommandEncoder({ label: 'dp demo stats read' });
    this.runs.forEach((run, i) =>
      encoder.copyBufferToBuffer(run.stats, 0, this.staging, i * run.statsBytes, run.statsBytes),
    );
    this.device.queue.submit([encoder.finish()]);
    // Firefox resolves a map at its next submit or a ~100 ms timer: nudged as gradclip's reads are.
    await whileNudging(this.device, this.staging.mapAsync(GPUMapMode.READ));
    const words = new Uint32Array(this.staging.getMappedRange().slice(0));
    this.staging.unmap();
    return new Map(
      this.runs.map((run, i) => {
        const at = (i * run.statsBytes) / 4;
        const stats = words.subarray(at, at + run.statsBytes / 4);
        return [
          run.plan.run,
          {
            clipped: stats[0],
            seen: stats[1],
            largestNorm: new Float32Array(stats.buffer, stats.byteOffset + 8, 1)[0],
            correct: stats.slice(STATS_HEADER_BYTES / 4),
          },
        ];
      }),
    );
  }

  /** Steps each run's optimizer took (its state's count). */
  async stepsTaken(): Promise<Map<DpRun, number>> {
    return new Map(
      await Promise.all(this.runs.map(async (r) => [r.plan.run, (await r.optimizer.state()).step] as const)),
    );
  }

  destroy(): void {
    for (const run of this.runs) run.destroy();
    const { batch, batchInputs, batchLabels, testInputs, testLabels } = this.shared;
    for (const b of [batch, batchInputs, batchLabels, testInputs, testLabels, this.staging]) b.destroy();
  }

  private writeBatch(examples: number, evalRow: number): void {
    this.batchRecord.set([examples, evalRow]);
    this.device.queue.writeBuffer(this.shared.batch, 0, this.batchRecord);
  }

  private recordEvaluation(encoder: GPUCommandEncoder): void {
    const pass = encoder.beginComputePass({ label: 'dp demo evaluation' });
    pass.setPipeline(this.pipelines.evaluate);
    for (const run of this.runs) {
      pass.setBindGroup(0, run.bindGroup);
      pass.dispatchWorkgroups(this.testWorkgroups);
    }
    pass.end();
  }
}
