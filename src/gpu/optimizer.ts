// The GPU resources of one fused optimizer (see shaders/optimizer/*.wgsl), made once at
// createOptimizer from its plan (plan/optimizer-plan.ts): the per-dispatch tables and windows,
// the first and second moment buffers, the step state and a ring of settings records (one per
// distinct lr).
import { planOptimizer } from '../plan/optimizer-plan';
import { BufferUsage } from '../core/webgpu-constants';
import { packTables, windowEntries } from './segments';
import type { GpuGradSet } from './set';
import { OPTIMIZER, RESULT_BYTES } from '../core/abi';
import type { Kernels, OptimizerVariant } from '../kernels/registry';
import type { OptimizerSettings } from '../core/optimizer-types';
import { ParamsRing } from './params-ring';

/** Bytes of OptimizerSettings and OptimizerStep (shaders/optimizer_common.wgsl). */
const SETTINGS_BYTES = 64;
const STEP_BYTES = 48;
const KINDS = { sgd: OPTIMIZER.OPT_SGD, adam: OPTIMIZER.OPT_ADAM, adamw: OPTIMIZER.OPT_ADAMW } as const;

function clipKindOf(clip: OptimizerSettings['clip']): number {
  return clip === null ? OPTIMIZER.CLIP_NONE : 'maxNorm' in clip ? OPTIMIZER.CLIP_NORM : OPTIMIZER.CLIP_VALUE;
}

export class GpuOptimizer {
  readonly first: GPUBuffer;
  readonly second: GPUBuffer;
  readonly stepState: GPUBuffer;
  /** Each view's element offset in `first` / `second`. */
  readonly stateOffsets: number[];
  /** Elements in `first` / `second` (each view padded to a multiple of four). */
  readonly stateElements: number;
  destroyed = false;
  private readonly settingsRing: ParamsRing;
  private readonly tables: GPUBuffer;
  /** Per update dispatch: its specialised pipeline (resolved once, here), bind group and lanes. */
  private readonly groups: Array<{ pipeline: GPUComputePipeline; bindGroup: GPUBindGroup; lanes: number }> = [];
  private readonly prepareBindGroup: GPUBindGroup;
  private readonly stateBindGroup: GPUBindGroup;
  private readonly variant: OptimizerVariant;

  constructor(
    private readonly kernels: Kernels,
    grads: GpuGradSet,
    params: GpuGradSet,
    unusedBinding: GPUBuffer,
    private readonly settings: OptimizerSettings,
    /** Workgroups per update dispatch at most (the clipper's cap): lanes loop over the quads. */
    private readonly maxWorkgroups: number,
    /** A GradScaler's optimizer: the update unscales by the decision pass's coefficient, the decision reads found-inf. */
    private readonly scaled: boolean,
  ) {
    const { device } = kernels;
    const alignment = device.limits.minStorageBufferOffsetAlignment;
    const plan = planOptimizer(grads.views, params.views, {
      offsetAlignment: alignment,
      maxBindingBytes: device.limits.maxStorageBufferBindingSize,
      windowsPerDispatch: kernels.optimizerBindings,
    });
    this.stateOffsets = plan.stateOffsets;
    this.variant = {
      kind: KINDS[settings.kind],
      clipKind: clipKindOf(settings.clip),
      momentum: settings.kind === 'sgd' && settings.momentum !== 0,
      nesterov: settings.kind === 'sgd' && settings.momentum !== 0 && settings.nesterov,
      scaled,
    };
    const total = plan.stateElements;
    const tables = packTables(
      device,
      'gradclip optimizer tables',
      plan.dispatches.map((d) => d.table),
    );
    this.tables = tables.buffer;

    this.stateElements = total;
    const stateBuffer = (label: string) =>
      device.createBuffer({
        label: `gradclip optimizer ${label}`,
        size: Math.max(16, total * 4),
        usage: BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST,
      });
    this.first = stateBuffer('first moments');
    this.second = stateBuffer('second moments');
    this.stepState = device.createBuffer({
      label: 'gradclip optimizer step state',
      size: STEP_BYTES,
      usage: BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST,
    });
    this.settingsRing = new ParamsRing(device, SETTINGS_BYTES, 'gradclip optimizer settings ring');

    plan.dispatches.forEach(({ windows, lanes, slots, halfSlots }, g) => {
      this.groups.push({
        pipeline: kernels.optimizerUpdate(this.variant, slots, halfSlots),
        lanes,
        bindGroup: device.createBindGroup({
          label: `gradclip optimizer data group ${g}`,
          layout: kernels.optimizerDataLayout,
          entries: [
            { binding: 0, resource: { buffer: this.tables, ...tables.ranges[g] } },
            ...windowEntries(
              kernels.optimizerBindings,
              windows.map((w) => ({ buffer: w.buffer, offset: w.offsetBytes, size: w.sizeBytes })),
              unusedBinding,
              alignment,
            ),
          ],
        }),
      });
    });
    this.prepareBindGroup = device.createBindGroup({
      label: 'gradclip optimizer prepare group',
      layout: kernels.optimizerPrepareLayout,
      entries: [
        { binding: 0, resource: { buffer: this.settingsRing.buffer, size: SETTINGS_BYTES } },
        { binding: 1, resource: { buffer: grads.results, size: RESULT_BYTES } },
        { binding: 2, resource: { buffer: this.stepState } },
      ],
    });
    this.stateBindGroup = device.createBindGroup({
      label: 'gradclip optimizer state group',
      layout: kernels.optimizerStateLayout,
      entries: [
        { binding: 0, resource: { buffer: this.settingsRing.buffer, size: SETTINGS_BYTES } },
        { binding: 1, resource: { buffer: this.stepState } },
        { binding: 2, resource: { buffer: this.first } },
        { binding: 3, resource: { buffer: this.second } },
      ],
    });
  }

  /** Byte offset of the settings record for this step's learning rate (written once per distinct lr). */
  settingsOffset(lr: number, encoder?: GPUCommandEncoder): number {
    const { kind, betas, eps, weightDecay, momentum, dampening, nesterov, clip } = this.settings;
    const data = new ArrayBuffer(SETTINGS_BYTES);
    const words = new Uint32Array(data);
    const floats = new Float32Array(data);
    words[0] = KINDS[kind];
    words[1] = clipKindOf(clip);
    floats.set([lr, betas[0], betas[1], 1 - betas[0], 1 - betas[1], eps, weightDecay, momentum, 1 - dampening], 2);
    words[11] = nesterov ? 1 : 0;
    floats[12] = clip !== null && 'value' in clip ? clip.value : 0;
    return this.settingsRing.offsetForRecord(data, encoder);
  }

  /**
   * Records the decision pass and the update passes (after the gradients' norm is in
   * `resultOffset`); `scaler`: the GradScaler's group (the context's no-scaler group without one).
   */
  record(pass: GPUComputePassEncoder, settingsOffset: number, resultOffset: number, scaler: GPUBindGroup): void {
    const { kernels } = this;
    pass.setPipeline(kernels.optimizerPrepare(this.scaled));
    pass.setBindGroup(0, this.prepareBindGroup, [settingsOffset, resultOffset]);
    pass.setBindGroup(1, scaler);
    pass.dispatchWorkgroups(1);
    pass.setBindGroup(1, this.stateBindGroup, [settingsOffset]);
    for (const group of this.groups) {
      pass.setPipeline(group.pipeline);
      pass.setBindGroup(0, group.bindGroup);
      pass.dispatchWorkgroups(
        Math.max(1, Math.min(this.maxWorkgroups, Math.ceil(group.lanes / kernels.workgroupSize))),
      );
    }
  }

  /**
   * Writes a checkpoint (queued before the next step): the step count, its bias corrections
   * 1 − beta^t worked out in float64, and the moments at each view's state offset.
   */
  setState(state: { step: number; first: ArrayLike<number>[]; second: ArrayLike<number>[] }): void {
    const { queue } = this.kernels.device;
    const [beta1, beta2] = this.settings.betas;
    const step = new ArrayBuffer(STEP_BYTES);
    new Uint32Array(step, 0, 3).set([state.step, 0, state.step === 0 ? 1 : 0]);
    new Float32Array(step, 32, 2).set([1 - beta1 ** state.step, 1 - beta2 ** state.step]);
    queue.writeBuffer(this.stepState, 0, step);
    state.first.forEach((m, i) => queue.writeBuffer(this.first, this.stateOffsets[i] * 4, Float32Array.from(m)));
    state.second.forEach((v, i) => queue.writeBuffer(this.second, this.stateOffsets[i] * 4, Float32Array.from(v)));
  }

  destroy(): void {
    this.destroyed = true;
    for (const b of [this.first, this.second, this.stepState, this.tables]) b.destroy();
    this.settingsRing.destroy();
  }
}
