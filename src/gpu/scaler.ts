// The WebGPU GradScaler: the scale, its f32 reciprocal, the growth tracker and the found-inf flag
// in one small GPU buffer (ScalerState, shaders/amp/scaler.wgsl) that the unscale pass, the scaled
// finalize, the optimizer's decision pass and the update pass read and write in recording order.
// What must be checked on the host (a set unscaled twice, an update with nothing checked) is
// tracked here per update() generation.
import type { GradScaler, GradScalerConfig, GradScalerState, GpuValue } from '../core/amp-types';
import { SCALER_BYTES, SCALER_FOUND_INF_OFFSET, SCALER_SCALE_OFFSET } from '../core/abi';
import { GradclipError } from '../core/errors';
import { OPTION_KEYS, readOptions } from '../core/options';
import type { EncoderOption, GradSet } from '../core/types';
import { BufferUsage } from '../core/webgpu-constants';
import { ScalerChecks } from '../plan/scaler-checks';
import { checkGradScalerState } from '../plan/validate-amp';
import type { GpuContext } from './context';
import type { GpuGradSet } from './set';

/** A float64's 53-bit significand as (hi, lo) words and its exponent: the factor is (hi · 2^32 + lo) · 2^exponent. */
function significandOf(factor: number): [hi: number, lo: number, exponent: number] {
  const words = new Uint32Array(new Float64Array([factor]).buffer);
  const biased = (words[1] >>> 20) & 0x7ff;
  return [(words[1] & 0xfffff) | 0x100000, words[0], biased - 1075];
}

/** The ScalerState bytes for a scale, a tracker and the factors (found-inf clear). */
function stateBytes(scale: number, tracker: number, config: Omit<GradScalerState, 'scale' | 'growthTracker'>) {
  const bytes = new ArrayBuffer(SCALER_BYTES);
  const floats = new Float32Array(bytes);
  const words = new Uint32Array(bytes);
  const ints = new Int32Array(bytes);
  floats[0] = scale;
  // PyTorch's inv_scale: scale.double().reciprocal().float(); the GPU keeps it by the same rounding.
  floats[1] = Math.fround(1 / Math.fround(scale));
  words[2] = tracker;
  words[3] = 0;
  words[4] = config.growthInterval;
  const [gh, gl, ge] = significandOf(config.growthFactor);
  const [bh, bl, be] = significandOf(config.backoffFactor);
  ints[5] = ge;
  words[6] = gh;
  words[7] = gl;
  ints[8] = be;
  words[9] = bh;
  words[10] = bl;
  return bytes;
}

export class GpuGradScaler implements GradScaler {
  readonly enabled: boolean;
  readonly buffer: GPUBuffer;
  /** Group(1) of the scaled finalize, the optimizer's decision and the unscale pass; group(0) of the update. */
  readonly bindGroup: GPUBindGroup;
  destroyed = false;
  private config: GradScalerConfig;
  private readonly checks = new ScalerChecks<GpuGradSet>();

  constructor(
    private readonly ctx: GpuContext,
    config: GradScalerConfig,
  ) {
    this.config = config;
    this.enabled = config.enabled;
    const { device } = ctx;
    this.buffer = device.createBuffer({
      label: 'gradclip GradScaler state',
      size: SCALER_BYTES,
      usage: BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST,
      mappedAtCreation: true,
    });
    new Uint8Array(this.buffer.getMappedRange()).set(
      new Uint8Array(stateBytes(config.enabled ? config.initScale : 1, 0, config)),
    );
    this.buffer.unmap();
    this.bindGroup = device.createBindGroup({
      label: 'gradclip GradScaler group',
      layout: ctx.kernels.scalerLayout,
      entries: [{ binding: 0, resource: { buffer: this.buffer } }],
    });
  }

  get scale(): GpuValue {
    return { buffer: this.buffer, offset: SCALER_SCALE_OFFSET };
  }

  get foundInf(): GpuValue {
    return { buffer: this.buffer, offset: SCALER_FOUND_INF_OFFSET };
  }

  /** Whether this scaler belongs to the clipper of `ctx`. */
  ownedBy(ctx: GpuContext): boolean {
    return this.ctx === ctx;
  }

  /** Throws unless the clipper and the scaler can be used. */
  checkAlive(): void {
    this.ctx.checkAlive();
    if (this.destroyed) throw new GradclipError('destroyed', 'this GradScaler was destroyed');
  }

  /** Whether `set` was unscaled (by unscale or a scaled clip) since the last update(). */
  unscaledSinceUpdate(set: GpuGradSet): boolean {
    return this.checks.unscaledSinceUpdate(set);
  }

  /** Notes a scaled call on `set` (see ScalerChecks.note). */
  noteCheck(set: GpuGradSet, unscales: boolean, what: string): void {
    this.checks.note(set, unscales, what);
  }

  unscale(set: GradSet, optionsIn?: EncoderOption | null): void {
    const options = readOptions(optionsIn, OPTION_KEYS.encoder, 'options');
    const gpuSet = this.ctx.checkUsable(set);
    this.checkAlive();
    if (!this.enabled) return;
    this.noteCheck(gpuSet, true, 'unscale');
    const { kernels } = this.ctx;
    this.ctx.record(options, 'GradScaler unscale', [gpuSet], (pass) => {
      pass.setBindGroup(1, this.bindGroup);
      gpuSet.plan.groups.forEach((group, g) => {
        pass.setPipeline(kernels.unscale(group));
        pass.setBindGroup(0, gpuSet.dataBindGroups[g]);
        pass.dispatchWorkgroups(group.workgroupRanges.length);
      });
    });
  }

  update(optionsIn?: { encoder?: GPUCommandEncoder } | null): void {
    const options = readOptions(optionsIn, OPTION_KEYS.scalerUpdate, 'options');
    this.checkAlive();
    if (!this.enabled) return;
    this.checks.requireCheck();
    this.ctx.record(options, 'GradScaler update', [], (pass) => {
      pass.setPipeline(this.ctx.kernels.scalerUpdate());
      pass.setBindGroup(0, this.bindGroup);
      pass.dispatchWorkgroups(1);
    });
    this.checks.reset();
  }

  async getScale(): Promise<number> {
    return (await this.read()).scale;
  }

  async readFoundInf(): Promise<boolean> {
    return (await this.read()).foundInf;
  }

  async state(): Promise<GradScalerState> {
    const { scale, growthTracker } = await this.read();
    const { growthFactor, backoffFactor, growthInterval } = this.config;
    return { scale, growthFactor, backoffFactor, growthInterval, growthTracker };
  }

  loadState(value: GradScalerState): void {
    this.checkAlive();
    const state = checkGradScalerState(value);
    this.config = { ...this.config, ...state, initScale: state.scale };
    if (!this.enabled) return;
    this.ctx.device.queue.writeBuffer(this.buffer, 0, stateBytes(state.scale, state.growthTracker, state));
    this.checks.reset();
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.buffer.destroy();
    this.ctx.owned.delete(this);
  }

  private async read(): Promise<{ scale: number; growthTracker: number; foundInf: boolean }> {
    this.checkAlive();
    const values = await this.ctx.readBuffer(this.buffer, 16);
    const words = new Uint32Array(values.buffer, values.byteOffset, 4);
    return { scale: values[0], growthTracker: words[2], foundInf: words[3] !== 0 };
  }
}

/** `value` as this context's GradScaler, or a GradclipError naming the option. */
export function scalerOf(ctx: GpuContext, value: unknown, name = 'options.scaler'): GpuGradScaler {
  if (!(value instanceof GpuGradScaler) || !value.ownedBy(ctx)) {
    throw new GradclipError('invalid-argument', `${name} must be a GradScaler from createGradScaler(this clipper)`);
  }
  value.checkAlive();
  return value;
}
