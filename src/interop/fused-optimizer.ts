// gradclip's fused clip + SGD / Adam / AdamW (createOptimizer, PyTorch's formulas) as a TF.js
// optimizer for model.fit and custom loops. On TF.js's WebGPU backend on the clipper's device the
// step runs on the GPU: the variables' own buffers are updated in place (TF.js never reassigns a
// variable it does not write), and each step's gradients are copied on the GPU into a fixed arena
// that the optimizer binds, so a step allocates nothing and reads nothing back. Elsewhere the same
// step runs on gradclip's CPU backend (the float64 reference) over copies of the values.
import * as tf from '@tensorflow/tfjs-core';
import type { NamedTensor } from '@tensorflow/tfjs-core/dist/tensor_types';
import { createGradientArena } from '../api/arena';
import { GradclipError } from '../core/errors';
import { createOptimizer } from '../api/optimizer';
import type { Optimizer, OptimizerOptions } from '../core/optimizer-types';
import { OPTION_KEYS, readOptions } from '../core/options';
import type { Clipper, GradView } from '../core/types';
import { CpuClipper } from '../cpu/clipper';
import { checkOptimizerSettings } from '../plan/validate';
import { gradientsFromTfjs, submitTfjsWork, tfjsTensorBuffer } from './tfjs';

/** The fused optimizer's settings: createOptimizer's (PyTorch's SGD / Adam / AdamW) with one Keras-style clip. */
export type FusedOptimizerOptions = Omit<OptimizerOptions, 'params' | 'grads' | 'clip'> & {
  /** Clip by the global L2 norm first (PyTorch's clip_grad_norm_ semantics). */
  globalClipnorm?: number;
  /** Clamp every gradient element to [-clipvalue, clipvalue] first. */
  clipvalue?: number;
};

/** What one set of variables runs on: the GPU (variables in place, an arena for gradients) or the CPU backend. */
interface Engine {
  names: string[];
  step(grads: Map<string, tf.Tensor>): void;
  optimizer: Optimizer;
}

export class FusedOptimizer extends tf.Optimizer {
  static className = 'GradclipFusedOptimizer';
  private engine: Engine | null = null;
  private pendingState: NamedTensor[] | null = null;

  constructor(
    /** Runs the step on the GPU where TF.js runs on its device; null: gradclip's CPU backend. Settable (after loadLayersModel). */
    public clipper: Clipper | null,
    private readonly options: FusedOptimizerOptions,
  ) {
    super();
    readOptions(options, OPTION_KEYS.fusedOptimizer, 'options');
    if (options.globalClipnorm !== undefined && options.clipvalue !== undefined) {
      throw new GradclipError('invalid-argument', 'only one of globalClipnorm and clipvalue can be set');
    }
    checkOptimizerSettings(this.settings()); // bad settings throw now, not at the first step
  }

  applyGradients(variableGradients: tf.NamedTensorMap | NamedTensor[]): void {
    const named = Array.isArray(variableGradients)
      ? variableGradients
      : Object.entries(variableGradients).map(([name, tensor]) => ({ name, tensor }));
    const grads = new Map(named.map(({ name, tensor }) => [name, tensor]));
    if (!this.engine || this.engine.names.join('\n') !== named.map((n) => n.name).join('\n')) {
      this.engine?.optimizer.destroy();
      this.engine = this.build(named.map((n) => n.name));
    }
    if (this.pendingState) {
      this.engine.optimizer.setState(
        stateFromWeights(this.pendingState, this.engine.names, this.variables(this.engine.names)),
      );
      this.pendingState = null;
    }
    this.engine.step(grads);
    this.incrementIterations();
  }

  /** The step count and each variable's moments, as TF.js optimizers name them (`name/m`, `name/v`). */
  async getWeights(): Promise<NamedTensor[]> {
    if (!this.engine) return this.pendingState ?? [await this.saveIterations()];
    const state = await this.engine.optimizer.state();
    const variables = this.variables(this.engine.names);
    return [
      { name: 'iter', tensor: tf.scalar(state.step, 'int32') },
      ...this.engine.names.map((name, i) => ({
        name: `${name}/m`,
        tensor: tf.tensor(state.first[i], variables[i].shape),
      })),
      ...this.engine.names.map((name, i) => ({
        name: `${name}/v`,
        tensor: tf.tensor(state.second[i], variables[i].shape),
      })),
    ];
  }

  /** Restores getWeights()'s values; applied before the next step (the variables are known then). */
  async setWeights(weightValues: NamedTensor[]): Promise<void> {
    this.iterations_ = (await weightValues.find((w) => w.name === 'iter')?.tensor.data())?.[0] ?? 0;
    this.pendingState = weightValues;
  }

  getConfig(): tf.serialization.ConfigDict {
    return { ...this.options } as unknown as tf.serialization.ConfigDict;
  }

  static fromConfig<T extends tf.serialization.Serializable>(
    cls: tf.serialization.SerializableConstructor<T>,
    config: tf.serialization.ConfigDict,
  ): T {
    const known = OPTION_KEYS.fusedOptimizer as readonly string[];
    const options = Object.fromEntries(
      Object.entries(config).filter(([key]) => known.includes(key)),
    ) as unknown as FusedOptimizerOptions;
    return new (cls as unknown as typeof FusedOptimizer)(null, options) as unknown as T;
  }

  dispose(): void {
    this.engine?.optimizer.destroy();
    this.engine = null;
    super.dispose();
  }

  private variables(names: string[]): tf.Variable[] {
    return names.map((name) => {
      const variable = tf.engine().registeredVariables[name];
      if (!variable) throw new GradclipError('invalid-argument', `no TF.js variable named ${name}`);
      return variable;
    });
  }

  private settings(): Omit<OptimizerOptions, 'params' | 'grads'> {
    const { globalClipnorm, clipvalue, ...rest } = this.options;
    const clip =
      globalClipnorm !== undefined
        ? { maxNorm: globalClipnorm }
        : clipvalue !== undefined
          ? { value: clipvalue }
          : undefined;
    return { ...rest, ...(clip && { clip }) };
  }

  private build(names: string[]): Engine {
    const variables = this.variables(names);
    const { clipper } = this;
    const onDevice =
      clipper?.backend === 'webgpu' &&
      tf.getBackend() === 'webgpu' &&
      (tf.backend() as unknown as { device?: GPUDevice }).device === clipper.device;
    return onDevice ? this.gpuEngine(clipper, names, variables) : this.cpuEngine(names, variables);
  }

  private gpuEngine(clipper: Clipper, names: string[], variables: tf.Variable[]): Engine {
    const device = clipper.device!;
    const params = gradientsFromTfjs(clipper, variables);
    const arena = createGradientArena(
      device,
      variables.map((v) => v.size),
    );
    const optimizer = createOptimizer(clipper, { params, grads: clipper.gradients(arena.views), ...this.settings() });
    const destroy = optimizer.destroy.bind(optimizer);
    optimizer.destroy = () => {
      destroy();
      arena.buffer.destroy();
    };
    return {
      names,
      optimizer,
      step: (grads) => {
        // Buffers first: a gradient TF.js computed on the CPU is uploaded by a copy in TF.js's own
        // encoder, which must be submitted before ours reads the buffer.
        const sources = names.map((name) => tfjsTensorBuffer(grads.get(name)!));
        submitTfjsWork();
        const encoder = device.createCommandEncoder({ label: 'gradclip fused optimizer step' });
        names.forEach((_, i) => {
          const view = arena.views[i] as { offset: number };
          encoder.copyBufferToBuffer(sources[i], 0, arena.buffer, view.offset, variables[i].size * 4);
        });
        optimizer.step({ encoder });
        device.queue.submit([encoder.finish()]);
      },
    };
  }

  private cpuEngine(names: string[], variables: tf.Variable[]): Engine {
    const cpu = new CpuClipper();
    const params = variables.map((v) => Float32Array.from(v.dataSync()));
    const gradArrays = variables.map((v) => new Float32Array(v.size));
    const optimizer = createOptimizer(cpu, {
      params: cpu.gradients(params as GradView[]),
      grads: cpu.gradients(gradArrays),
      ...this.settings(),
    });
    return {
      names,
      optimizer,
      step: (grads) => {
        names.forEach((name, i) => {
          params[i].set(variables[i].dataSync());
          gradArrays[i].set(grads.get(name)!.dataSync());
        });
        optimizer.step();
        tf.tidy(() => variables.forEach((v, i) => v.assign(tf.tensor(params[i], v.shape)))); // the temporaries go with the tidy
      },
    };
  }
}
tf.serialization.registerClass(FusedOptimizer);

/** A checkpoint for Optimizer.setState from getWeights()-style tensors. */
function stateFromWeights(weights: NamedTensor[], names: string[], variables: tf.Variable[]) {
  const find = (name: string) => weights.find((w) => w.name === name)?.tensor;
  const moment = (suffix: string) =>
    names.map((name, i) =>
      Float32Array.from(find(`${name}/${suffix}`)?.dataSync() ?? new Float32Array(variables[i].size)),
    );
  return { step: Number(find('iter')?.dataSync()[0] ?? 0), first: moment('m'), second: moment('v') };
}

/**
 * PyTorch's SGD, Adam or AdamW fused with global-norm or value clipping, as a TF.js optimizer:
 * on the GPU when TF.js runs on the clipper's device, else on gradclip's CPU backend.
 *
 * @example
 * model.compile({ optimizer: fusedOptimizer(clipper, { kind: 'adamw', lr: 3e-4, globalClipnorm: 1 }), loss: 'meanSquaredError' });
 */
export function fusedOptimizer(clipper: Clipper | null, options: FusedOptimizerOptions): FusedOptimizer {
  return new FusedOptimizer(clipper, options);
}
