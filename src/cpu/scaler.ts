// The CPU GradScaler: PyTorch's rule on host numbers, with the GPU backend's contract. The scale is
// an f32 (Math.fround), the unscale factor f32(1 / scale) as PyTorch's
// `scale.double().reciprocal().float()`, and a grown or backed-off scale f32(scale · factor) as C++
// rounds float · double to a float; unscaled values are stored rounded to their array's type.
import type { GradScaler, GradScalerConfig, GradScalerState } from '../core/amp-types';
import { GradclipError } from '../core/errors';
import { OPTION_KEYS, readOptions } from '../core/options';
import type { EncoderOption, GradSet } from '../core/types';
import { ScalerChecks } from '../plan/scaler-checks';
import { checkGradScalerState } from '../plan/validate-amp';
import type { GradArray } from '../plan/views';
import { checkNoEncoder, type CpuGradSet, type CpuSets } from './set';

export class CpuGradScaler implements GradScaler {
  /** No GPU values on the CPU backend. */
  readonly scale = null;
  readonly foundInf = null;
  readonly enabled: boolean;
  destroyed = false;
  private config: GradScalerConfig;
  private current: number;
  private tracker = 0;
  private found = false;
  private readonly checks = new ScalerChecks<CpuGradSet>();

  constructor(
    private readonly sets: CpuSets & { readonly destroyed: boolean },
    config: GradScalerConfig,
  ) {
    this.config = config;
    this.enabled = config.enabled;
    this.current = config.enabled ? Math.fround(config.initScale) : 1;
  }

  /** f32(1 / scale): the unscale factor. */
  get inverse(): number {
    return Math.fround(1 / this.current);
  }

  /** Whether this scaler belongs to `owner` (the CPU clipper that made it). */
  ownedBy(owner: CpuSets): boolean {
    return this.sets === owner;
  }

  checkAlive(): void {
    if (this.sets.destroyed) throw new GradclipError('destroyed', 'this clipper was destroyed');
    if (this.destroyed) throw new GradclipError('destroyed', 'this GradScaler was destroyed');
  }

  unscaledSinceUpdate(set: CpuGradSet): boolean {
    return this.checks.unscaledSinceUpdate(set);
  }

  /** Notes a scaled call on `set` (see ScalerChecks.note). */
  noteCheck(set: CpuGradSet, unscales: boolean, what: string): void {
    this.checks.note(set, unscales, what);
  }

  /** Sets found-inf (a scaled call saw a NaN or ±Inf). */
  noteNonfinite(): void {
    this.found = true;
  }

  /** Whether found-inf is set (the CPU optimizer's skip). */
  get foundNonfinite(): boolean {
    return this.found;
  }

  unscale(set: GradSet, optionsIn?: EncoderOption | null): void {
    const options = readOptions(optionsIn, OPTION_KEYS.encoder, 'options');
    const cpuSet = this.sets.setOf(set);
    this.checkAlive();
    checkNoEncoder(options);
    if (!this.enabled) return;
    this.noteCheck(cpuSet, true, 'unscale');
    const inverse = this.inverse;
    for (const array of cpuSet.arrays as GradArray[]) {
      for (let i = 0; i < array.length; i++) {
        if (!Number.isFinite(array[i])) this.found = true;
        array[i] = array[i] * inverse;
      }
    }
  }

  update(optionsIn?: { encoder?: GPUCommandEncoder } | null): void {
    const options = readOptions(optionsIn, OPTION_KEYS.scalerUpdate, 'options');
    this.checkAlive();
    checkNoEncoder(options);
    if (!this.enabled) return;
    this.checks.requireCheck();
    const { growthFactor, backoffFactor, growthInterval } = this.config;
    if (this.found) {
      this.current = Math.fround(this.current * backoffFactor);
      this.tracker = 0;
    } else if (this.tracker + 1 === growthInterval) {
      const grown = Math.fround(this.current * growthFactor);
      if (Number.isFinite(grown)) this.current = grown;
      this.tracker = 0;
    } else {
      this.tracker++;
    }
    this.found = false;
    this.checks.reset();
  }

  async getScale(): Promise<number> {
    this.checkAlive();
    return this.current;
  }

  async readFoundInf(): Promise<boolean> {
    this.checkAlive();
    return this.found;
  }

  async state(): Promise<GradScalerState> {
    this.checkAlive();
    const { growthFactor, backoffFactor, growthInterval } = this.config;
    return { scale: this.current, growthFactor, backoffFactor, growthInterval, growthTracker: this.tracker };
  }

  loadState(value: GradScalerState): void {
    this.checkAlive();
    const state = checkGradScalerState(value);
    this.config = { ...this.config, ...state, initScale: state.scale };
    if (!this.enabled) return;
    this.current = Math.fround(state.scale);
    this.tracker = state.growthTracker;
    this.found = false;
    this.checks.reset();
  }

  destroy(): void {
    this.destroyed = true;
  }
}

/** `value` as `owner`'s GradScaler, or a GradclipError naming the option. */
export function cpuScalerOf(owner: CpuSets, value: unknown, name = 'options.scaler'): CpuGradScaler {
  if (!(value instanceof CpuGradScaler) || !value.ownedBy(owner)) {
    throw new GradclipError('invalid-argument', `${name} must be a GradScaler from createGradScaler(this clipper)`);
  }
  value.checkAlive();
  return value;
}
