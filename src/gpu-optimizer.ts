// The GPU resources of one fused optimizer (see shaders/optimizer_*.wgsl): the windows over the
// buffers that hold the gradients and parameters, the per-view table, the first and second
// moment buffers, the step state and a ring of settings records (one per distinct lr), all made
// once at createOptimizer.
import { GradclipError } from './errors';
import { BufferUsage } from './gpu-constants';
import { packTables } from './gpu-segments';
import type { GpuGradSet } from './gpu-set';
import { RESULT_BYTES, type Kernels } from './kernels';
import type { OptimizerSettings } from './optimizer-reference';
import { ParamsRing } from './params-ring';

/** Bytes of OptimizerSettings and OptimizerStep (shaders/optimizer_common.wgsl). */
const SETTINGS_BYTES = 64;
const STEP_BYTES = 48;
const KINDS = { sgd: 0, adam: 1, adamw: 2 } as const;

interface Window {
  buffer: GPUBuffer;
  offsetBytes: number;
  sizeBytes: number;
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
  private readonly groups: Array<{ bindGroup: GPUBindGroup; lanes: number }> = [];
  private readonly prepareBindGroup: GPUBindGroup;
  private readonly stateBindGroup: GPUBindGroup;

  constructor(
    private readonly kernels: Kernels,
    grads: GpuGradSet,
    params: GpuGradSet,
    unusedBinding: GPUBuffer,
    private readonly settings: OptimizerSettings,
    /** Workgroups per update dispatch at most (the clipper's cap): lanes loop over the quads. */
    private readonly maxWorkgroups: number,
  ) {
    const { device } = kernels;
    const alignment = device.limits.minStorageBufferOffsetAlignment;
    const maxBinding = device.limits.maxStorageBufferBindingSize;
    const lengths = grads.views.map((v) => v.length);
    // Each view's state starts on a vec4 (optimizer_update.wgsl takes four elements a lane).
    const quads = lengths.map((l) => Math.ceil(l / 4));
    const total = 4 * quads.reduce((n, q) => n + q, 0);
    if (total * 4 > maxBinding) {
      throw new GradclipError('out-of-range', `the optimizer state needs ${total * 4} bytes per moment, above maxStorageBufferBindingSize (${maxBinding})`);
    }

    // One window per buffer over every gradient and parameter view in it (read-write, so a buffer
    // holding both is bound once and nothing aliases).
    const extent = new Map<GPUBuffer, { lo: number; hi: number }>();
    for (const v of [...grads.views, ...params.views]) {
      const e = extent.get(v.buffer) ?? { lo: v.offsetBytes, hi: v.offsetBytes + v.length * 4 };
      e.lo = Math.min(e.lo, v.offsetBytes);
      e.hi = Math.max(e.hi, v.offsetBytes + v.length * 4);
      extent.set(v.buffer, e);
    }
    const windows = new Map<GPUBuffer, Window>();
    for (const [buffer, { lo, hi }] of extent) {
      const offsetBytes = Math.floor(lo / alignment) * alignment;
      const sizeBytes = Math.max(4, hi - offsetBytes);
      if (sizeBytes > maxBinding) {
        throw new GradclipError('out-of-range', `the optimizer binds each buffer once: ${sizeBytes} bytes of "${buffer.label}" exceed maxStorageBufferBindingSize (${maxBinding})`);
      }
      windows.set(buffer, { buffer, offsetBytes, sizeBytes });
    }

    // Views packed into dispatches of at most `optimizerBindings` windows.
    this.stateOffsets = [];
    let at = 0;
    for (const q of quads) {
      this.stateOffsets.push(at);
      at += 4 * q;
    }
    const groupViews: number[][] = [];
    let current: number[] = [];
    let used = new Set<Window>();
    lengths.forEach((length, i) => {
      if (length === 0) return;
      const needed = [windows.get(grads.views[i].buffer)!, windows.get(params.views[i].buffer)!];
      const after = new Set([...used, ...needed]);
      if (after.size > kernels.optimizerBindings && current.length > 0) {
        groupViews.push(current);
        current = [];
        used = new Set(needed);
      } else {
        used = after;
      }
      current.push(i);
    });
    if (current.length) groupViews.push(current);

    const tableWords: Uint32Array[] = [];
    const groupWindows: Window[][] = [];
    for (const members of groupViews) {
      const slots: Window[] = [];
      const slotOf = (w: Window) => (slots.includes(w) ? slots.indexOf(w) : slots.push(w) - 1);
      const words = new Uint32Array(4 + 8 * members.length);
      let lanes = 0;
      members.forEach((i, k) => {
        const g = grads.views[i];
        const p = params.views[i];
        const gw = windows.get(g.buffer)!;
        const pw = windows.get(p.buffer)!;
        words.set([slotOf(gw), (g.offsetBytes - gw.offsetBytes) / 4, slotOf(pw), (p.offsetBytes - pw.offsetBytes) / 4], 4 + 4 * k);
        words.set([this.stateOffsets[i] / 4, lengths[i], lanes, 0], 4 + 4 * (members.length + k));
        lanes += quads[i];
      });
      words.set([members.length, lanes, 0, 0], 0);
      tableWords.push(words);
      groupWindows.push(slots);
    }
    const tables = packTables(device, 'gradclip optimizer tables', tableWords);
    this.tables = tables.buffer;

    this.stateElements = total;
    const stateBuffer = (label: string) =>
      device.createBuffer({ label: `gradclip optimizer ${label}`, size: Math.max(16, total * 4), usage: BufferUsage.STORAGE | BufferUsage.COPY_SRC });
    this.first = stateBuffer('first moments');
    this.second = stateBuffer('second moments');
    this.stepState = device.createBuffer({ label: 'gradclip optimizer step state', size: STEP_BYTES, usage: BufferUsage.STORAGE | BufferUsage.COPY_SRC });
    this.settingsRing = new ParamsRing(device, SETTINGS_BYTES, 'gradclip optimizer settings ring');

    groupViews.forEach((_, g) => {
      this.groups.push({
        lanes: tableWords[g][1],
        bindGroup: device.createBindGroup({
          label: `gradclip optimizer data group ${g}`,
          layout: kernels.optimizerDataLayout,
          entries: [
            { binding: 0, resource: { buffer: this.tables, ...tables.ranges[g] } },
            ...Array.from({ length: kernels.optimizerBindings }, (_, slot): GPUBindGroupEntry => {
              const w = groupWindows[g][slot];
              return {
                binding: slot + 1,
                resource: w ? { buffer: w.buffer, offset: w.offsetBytes, size: w.sizeBytes } : { buffer: unusedBinding, offset: slot * alignment, size: 16 },
              };
            }),
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
    words[1] = clip === null ? 0 : 'maxNorm' in clip ? 1 : 2;
    floats.set([lr, betas[0], betas[1], 1 - betas[0], 1 - betas[1], eps, weightDecay, momentum, 1 - dampening], 2);
    words[11] = nesterov ? 1 : 0;
    floats[12] = clip !== null && 'value' in clip ? clip.value : 0;
    return this.settingsRing.offsetForRecord(data, encoder);
  }

  /** Records the decision pass and the update passes (after the gradients' norm is in `resultOffset`). */
  record(pass: GPUComputePassEncoder, settingsOffset: number, resultOffset: number): void {
    const { kernels } = this;
    pass.setPipeline(kernels.optimizerPrepare());
    pass.setBindGroup(0, this.prepareBindGroup, [settingsOffset, resultOffset]);
    pass.dispatchWorkgroups(1);
    pass.setPipeline(kernels.optimizerUpdate());
    pass.setBindGroup(1, this.stateBindGroup, [settingsOffset]);
    for (const group of this.groups) {
      pass.setBindGroup(0, group.bindGroup);
      pass.dispatchWorkgroups(Math.max(1, Math.min(this.maxWorkgroups, Math.ceil(group.lanes / kernels.workgroupSize))));
    }
  }

  destroy(): void {
    this.destroyed = true;
    for (const b of [this.first, this.second, this.stepState, this.tables]) b.destroy();
    this.settingsRing.destroy();
  }
}
