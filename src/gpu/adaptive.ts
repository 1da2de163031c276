// The GPU state of one AutoClip or ZClip (see shaders/adaptive_threshold.wgsl): a header with the
// rule's settings and statistics, then its norms (AutoClip's history ring, ZClip's warm-up), made
// once and updated by the step's kernel only.
import type { AdaptiveRule } from '../core/adaptive-types';
import { BufferUsage } from '../core/webgpu-constants';
import type { GpuGradSet } from './set';
import { ADAPTIVE_RULES, PARAMS_BYTES, RESULT_BYTES, ZCLIP_MODES } from '../core/abi';
import type { Kernels } from '../kernels/registry';

/** Bytes of AdaptiveState's header (12 words, before `values`). */
const HEADER_BYTES = 48;

export class GpuAdaptiveState {
  readonly buffer: GPUBuffer;
  readonly headerBytes = HEADER_BYTES;
  destroyed = false;
  private readonly bindGroup: GPUBindGroup;
  private readonly ruleIndex: number;

  constructor(
    private readonly kernels: Kernels,
    set: GpuGradSet,
    paramsBuffer: GPUBuffer,
    rule: AdaptiveRule,
  ) {
    const { device } = kernels;
    const capacity = rule.kind === 'autoclip' ? rule.config.history : rule.config.warmupSteps;
    this.ruleIndex = rule.kind === 'autoclip' ? ADAPTIVE_RULES.ADAPTIVE_AUTOCLIP : ADAPTIVE_RULES.ADAPTIVE_ZCLIP;
    this.buffer = device.createBuffer({
      label: `gradclip ${rule.kind} state`,
      size: HEADER_BYTES + 4 * capacity,
      usage: BufferUsage.STORAGE | BufferUsage.COPY_SRC,
      mappedAtCreation: true,
    });
    const mapped = this.buffer.getMappedRange();
    const words = new Uint32Array(mapped, 0, HEADER_BYTES / 4);
    const floats = new Float32Array(mapped, 0, HEADER_BYTES / 4);
    words.set([
      0,
      0,
      capacity,
      rule.kind === 'zclip' && rule.config.mode === 'adaptive' ? ZCLIP_MODES.ZCLIP_ADAPTIVE : ZCLIP_MODES.ZCLIP_ZSCORE,
    ]);
    floats.set([Infinity, NaN, NaN], 4);
    if (rule.kind === 'autoclip') {
      floats[7] = rule.config.percentile;
    } else {
      floats.set([rule.config.alpha, 1 - rule.config.alpha, rule.config.zThreshold], 8);
    }
    this.buffer.unmap();
    this.bindGroup = device.createBindGroup({
      label: `gradclip ${rule.kind} group`,
      layout: kernels.adaptiveLayout,
      entries: [
        { binding: 0, resource: { buffer: paramsBuffer, size: PARAMS_BYTES } },
        { binding: 1, resource: { buffer: set.partials } },
        { binding: 2, resource: { buffer: set.results, size: RESULT_BYTES } },
        { binding: 3, resource: { buffer: set.dispatchArgs } },
        { binding: 4, resource: { buffer: this.buffer } },
      ],
    });
  }

  /** Records the step's second pass: norm, rule update and decision into the result slot. */
  record(pass: GPUComputePassEncoder, paramsOffset: number, resultOffset: number): void {
    pass.setPipeline(this.kernels.adaptive(this.ruleIndex));
    pass.setBindGroup(0, this.bindGroup, [paramsOffset, resultOffset]);
    pass.dispatchWorkgroups(1);
  }

  /** The header read back as floats: the latest threshold and ZClip's statistics. */
  decode(header: Float32Array): { threshold: number; mean: number; std: number } {
    return { threshold: header[4], mean: header[5], std: Math.sqrt(header[6]) };
  }

  destroy(): void {
    this.destroyed = true;
    this.buffer.destroy();
  }
}
