// The bind-group layouts of every kernel family, declared as a table: each entry lists its
// bindings in order as one letter per binding (u: uniform with a dynamic offset, r: read-only
// storage, R: read-only storage with a dynamic offset, s: storage, S: storage with a dynamic
// offset). The WGSL of each kernel declares the same bindings in the same order; the comment on
// each entry names them.
import { ShaderStage } from '../core/webgpu-constants';

type BindingKind = 'u' | 'r' | 'R' | 's' | 'S';

/** How many gradient windows a dispatch can bind, for the device's storage-buffer limit. */
export interface BindingCounts {
  /** Gradient windows per dispatch of the data kernels. */
  bindings: number;
  /** Read-only views per dispatch of per_example_sum. */
  sumBindings: number;
  /** Read-write windows per dispatch of optimizer_update. */
  optimizerBindings: number;
}

/** Storage bindings each data kernel needs besides its gradient windows (plan + partials or result). */
export const RESERVED_STORAGE_BINDINGS = 2;

export function bindingCounts(limits: GPUSupportedLimits): BindingCounts {
  const bindings = limits.maxStorageBuffersPerShaderStage - RESERVED_STORAGE_BINDINGS;
  return { bindings, sumBindings: bindings - 1, optimizerBindings: limits.maxStorageBuffersPerShaderStage - 4 };
}

/** Binding index of a dispatch's first window in the data, per-example and optimizer layouts (binding 0 is its table). */
export const FIRST_WINDOW_BINDING = 1;

/**
 * Every layout's named bindings in binding order, and the windows that follow them (data layouts).
 * A binding's index reaches WGSL as the const `<PREFIX>_<NAME>` (layoutBindingConstants), so no
 * shader writes a binding number itself.
 */
const LAYOUTS = {
  /** group(0) of the partials and elementwise kernels: plan table + gradient windows. */
  dataLayout: { prefix: 'DATA', bindings: [['TABLE', 'r']], windows: ['s', 'bindings'] },
  /** group(1) of the partials kernels: params + partials. */
  partialsLayout: {
    prefix: 'PARTIALS',
    bindings: [
      ['PARAMS', 'u'],
      ['PARTIALS', 's'],
    ],
  },
  /** norm_finalize: params + partials + result slot + dispatch args. */
  finalizeLayout: {
    prefix: 'FINALIZE',
    bindings: [
      ['PARAMS', 'u'],
      ['PARTIALS', 'r'],
      ['RESULT', 'S'],
      ['DISPATCH', 's'],
    ],
  },
  /** group(1) of the elementwise kernel: params + result slot. */
  elementwiseLayout: {
    prefix: 'ELEMENTWISE',
    bindings: [
      ['PARAMS', 'u'],
      ['RESULT', 'R'],
    ],
  },
  /** segment_finalize: params + partials + segments + segmentNorms + paramNorms. */
  segmentFinalizeLayout: {
    prefix: 'SEGMENT_FINALIZE',
    bindings: [
      ['PARAMS', 'u'],
      ['PARTIALS', 'r'],
      ['SEGMENTS', 'r'],
      ['SEGMENT_NORMS', 's'],
      ['PARAM_NORMS', 'r'],
    ],
  },
  /** segment_summary: params + partials + segments + segmentNorms + result slot. */
  segmentSummaryLayout: {
    prefix: 'SEGMENT_SUMMARY',
    bindings: [
      ['PARAMS', 'u'],
      ['PARTIALS', 'r'],
      ['SEGMENTS', 'r'],
      ['SEGMENT_NORMS', 'r'],
      ['RESULT', 'S'],
    ],
  },
  /** group(1) of segment_scale: segmentNorms. */
  segmentScaleLayout: { prefix: 'SEGMENT_SCALE', bindings: [['SEGMENT_NORMS', 'r']] },
  /** group(0) of per_example_sum: table + views. */
  sumDataLayout: { prefix: 'SUM_DATA', bindings: [['TABLE', 'r']], windows: ['r', 'sumBindings'] },
  /** group(1) of per_example_sum: params + segmentNorms + sums. */
  sumOutputLayout: {
    prefix: 'SUM_OUTPUT',
    bindings: [
      ['PARAMS', 'u'],
      ['SEGMENT_NORMS', 'r'],
      ['SUMS', 's'],
    ],
  },
  /** adaptive_threshold: the finalize bindings + the rule's state. */
  adaptiveLayout: {
    prefix: 'ADAPTIVE',
    bindings: [
      ['PARAMS', 'u'],
      ['PARTIALS', 'r'],
      ['RESULT', 'S'],
      ['DISPATCH', 's'],
      ['STATE', 's'],
    ],
  },
  /** optimizer_prepare: settings + result slot + step state. */
  optimizerPrepareLayout: {
    prefix: 'OPTIMIZER_PREPARE',
    bindings: [
      ['SETTINGS', 'u'],
      ['RESULT', 'R'],
      ['STEP', 's'],
    ],
  },
  /** group(0) of optimizer_update: table + read-write windows. */
  optimizerDataLayout: { prefix: 'OPTIMIZER_DATA', bindings: [['TABLE', 'r']], windows: ['s', 'optimizerBindings'] },
  /** group(1) of optimizer_update: settings + step state + first + second moments. */
  optimizerStateLayout: {
    prefix: 'OPTIMIZER_STATE',
    bindings: [
      ['SETTINGS', 'u'],
      ['STEP', 'r'],
      ['FIRST', 's'],
      ['SECOND', 's'],
    ],
  },
  /** A GradScaler's state: group(1) of norm_finalize, optimizer_prepare and unscale, group(0) of scaler_update. */
  scalerLayout: { prefix: 'SCALER', bindings: [['STATE', 's']] },
} satisfies Record<
  string,
  { prefix: string; bindings: [string, BindingKind][]; windows?: [BindingKind, keyof BindingCounts] }
>;

export type Layouts = { readonly [name in keyof typeof LAYOUTS]: GPUBindGroupLayout };

/** The binding index of every named binding, as WGSL consts: `FINALIZE_RESULT` → 2. */
export function layoutBindingConstants(): Record<string, number> {
  const constants: Record<string, number> = { FIRST_WINDOW_BINDING };
  for (const { prefix, bindings } of Object.values(LAYOUTS)) {
    bindings.forEach(([name], index) => {
      constants[`${prefix}_${name}`] = index;
    });
  }
  return constants;
}

const BINDING: Record<BindingKind, GPUBufferBindingLayout> = {
  u: { type: 'uniform', hasDynamicOffset: true },
  r: { type: 'read-only-storage', hasDynamicOffset: false },
  R: { type: 'read-only-storage', hasDynamicOffset: true },
  s: { type: 'storage', hasDynamicOffset: false },
  S: { type: 'storage', hasDynamicOffset: true },
};

/** Creates every layout of the table on `device`, labelled by name. */
export function createLayouts(device: GPUDevice, counts: BindingCounts): Layouts {
  const entries = Object.entries(LAYOUTS).map(([name, layout]) => {
    const kinds: BindingKind[] = layout.bindings.map(([, kind]) => kind);
    if ('windows' in layout) {
      const [kind, count] = layout.windows;
      kinds.push(...Array.from({ length: counts[count] }, () => kind));
    }
    return [
      name,
      device.createBindGroupLayout({
        label: `gradclip ${name.replace(/Layout$/, '').replace(/[A-Z]/g, (c) => ` ${c.toLowerCase()}`)} layout`,
        entries: kinds.map((kind, binding) => ({ binding, visibility: ShaderStage.COMPUTE, buffer: BINDING[kind] })),
      }),
    ];
  });
  return Object.fromEntries(entries) as Layouts;
}
