// One training run of a demo: TF.js computes each step's gradients (tf.variableGrads), they are
// copied on the GPU into a fixed arena, an adaptive rule (AutoClip or ZClip) may clip them, and
// gradclip's fused optimizer updates TF.js's own variables in place. Nothing is read back per
// step: a NormMonitor reads the run's loss, norm and threshold once every `readEvery` steps.
// The MLP demo (demo/train) and the transformer demo (demo/gpt) both train through this class.
import type * as TF from '@tensorflow/tfjs-core';
import {
  createAutoClip,
  createGradientArena,
  createOptimizer,
  createZClip,
  gradientsFromTfjs,
  submitTfjsWork,
  tfjsTensorBuffer,
  type AutoClip,
  type AutoClipOptions,
  type Clipper,
  type GradView,
  type NormHandle,
  type Optimizer,
  type OptimizerOptions,
  type ZClip,
  type ZClipOptions,
} from 'gradclip';
import { NormMonitor, type GpuScalar, type StepRecord } from './monitor';

export type AdaptiveSetting = { kind: 'autoclip'; options: AutoClipOptions } | { kind: 'zclip'; options: ZClipOptions };

export interface FusedRunOptions {
  /** Names the run's GPU objects. */
  label: string;
  /** TF.js variables the run trains; their buffers must stay put (gradclip writes them in place). */
  variables: TF.Variable[];
  /** The fused optimizer's settings (its clip included), without the sets. */
  optimizer: Omit<OptimizerOptions, 'params' | 'grads'>;
  /** An adaptive clip before the optimizer's step. */
  adaptive?: AdaptiveSetting;
  /** Steps between readbacks of the monitor. */
  readEvery: number;
}

export class FusedRun {
  readonly records: StepRecord[] = [];
  readonly monitor: NormMonitor;
  private readonly variables: TF.Variable[];
  private readonly arena: { buffer: GPUBuffer; views: GradView[] };
  private readonly optimizer: Optimizer;
  private readonly adaptive: AutoClip | ZClip | null;

  constructor(
    private readonly tf: typeof TF,
    private readonly device: GPUDevice,
    clipper: Clipper,
    private readonly options: FusedRunOptions,
  ) {
    this.variables = options.variables;
    // The parameter set is built once over the variables' own buffers. Gradients are new tensors
    // every step: the optimizer binds a fixed arena they are copied into.
    const params = gradientsFromTfjs(clipper, this.variables);
    this.arena = createGradientArena(
      device,
      this.variables.map((v) => v.size),
    );
    const grads = clipper.gradients(this.arena.views);
    this.optimizer = createOptimizer(clipper, { ...options.optimizer, params, grads });
    const adaptive = options.adaptive;
    this.adaptive = !adaptive
      ? null
      : adaptive.kind === 'autoclip'
        ? createAutoClip(clipper, grads, adaptive.options)
        : createZClip(clipper, grads, adaptive.options);
    this.monitor = new NormMonitor(device, options.readEvery, `${options.label} monitor`);
  }

  /**
   * One training step on `loss` (a function of the variables) at learning rate `lr` (default the
   * optimizer's); the monitor's records when it read them back on this step.
   */
  async step(step: number, loss: () => TF.Scalar, lr?: number): Promise<StepRecord[]> {
    const { tf, device } = this;
    const { value, grads } = tf.variableGrads(loss, this.variables);
    // Buffers first (one TF.js computed on the CPU is uploaded by TF.js's own encoder), then submit.
    const sources = this.variables.map((v) => tfjsTensorBuffer(grads[v.name], tf.backend()));
    const lossBuffer = tfjsTensorBuffer(value, tf.backend());
    submitTfjsWork(tf.backend());
    const encoder = device.createCommandEncoder({ label: `${this.options.label} step` });
    this.variables.forEach((v, i) => {
      const view = this.arena.views[i] as { offset: number };
      encoder.copyBufferToBuffer(sources[i], 0, this.arena.buffer, view.offset, v.size * 4);
    });
    let handle: NormHandle;
    let threshold: GpuScalar | undefined;
    const stepOptions = lr === undefined ? { encoder } : { encoder, lr };
    if (this.adaptive) {
      const clipped = this.adaptive.step({ encoder });
      handle = clipped;
      threshold = { buffer: clipped.buffer!, offset: clipped.thresholdOffset };
      this.optimizer.step(stepOptions);
    } else {
      handle = this.optimizer.step(stepOptions);
    }
    const full = this.monitor.record(encoder, step, { buffer: lossBuffer, offset: 0 }, handle, threshold);
    device.queue.submit([encoder.finish()]);
    tf.dispose([value, ...Object.values(grads)]);
    return full ? this.flush() : [];
  }

  /** Reads back what the monitor holds (the records of the steps since the last read). */
  async flush(): Promise<StepRecord[]> {
    const records = await this.monitor.read();
    this.records.push(...records);
    return records;
  }

  /** Releases the run's GPU state (not the variables, which belong to the model). */
  destroy(): void {
    this.optimizer.destroy();
    this.adaptive?.destroy();
    this.monitor.destroy();
    this.arena.buffer.destroy();
  }
}
