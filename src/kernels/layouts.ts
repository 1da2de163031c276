// The bind-group layouts of every kernel family, declared as a table: each entry lists its
// bindings in order as one letter per binding (u: uniform with a dynamic offset, r: read-only
// storage, R: read-only storage with a dynamic offset, s: storage, S: storage with a dynamic
// offset). The WGSL of each kernel declares the same bindings in the same order; the comment on
// each entry names them.
import { ShaderStage } from '../gpu/constants';

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

const repeat = (kind: BindingKind, count: number): BindingKind[] => Array.from({ length: count }, () => kind);

/** Every layout's bindings, in binding order. */
function layoutTable(counts: BindingCounts) {
  return {
    /** group(0) of the partials and elementwise kernels: plan table + gradient windows. */
    dataLayout: ['r', ...repeat('s', counts.bindings)],
    /** group(1) of the partials kernel: params + partials. */
    partialsLayout: ['u', 's'],
    /** norm_finalize: params + partials + result slot + dispatch args. */
    finalizeLayout: ['u', 'r', 'S', 's'],
    /** group(1) of the elementwise kernel: params + result slot. */
    elementwiseLayout: ['u', 'R'],
    /** segment_finalize: params + partials + segments + segmentNorms + paramNorms. */
    segmentFinalizeLayout: ['u', 'r', 'r', 's', 'r'],
    /** segment_summary: params + partials + segments + segmentNorms + result slot. */
    segmentSummaryLayout: ['u', 'r', 'r', 'r', 'S'],
    /** group(1) of segment_scale: segmentNorms. */
    segmentScaleLayout: ['r'],
    /** group(0) of per_example_sum: table + views. */
    sumDataLayout: ['r', ...repeat('r', counts.sumBindings)],
    /** group(1) of per_example_sum: segmentNorms + sums. */
    sumOutputLayout: ['r', 's'],
    /** adaptive_threshold: the finalize bindings + the rule's state. */
    adaptiveLayout: ['u', 'r', 'S', 's', 's'],
    /** optimizer_prepare: settings + result slot + step state. */
    optimizerPrepareLayout: ['u', 'R', 's'],
    /** group(0) of optimizer_update: table + read-write windows. */
    optimizerDataLayout: ['r', ...repeat('s', counts.optimizerBindings)],
    /** group(1) of optimizer_update: settings + step state + first + second moments. */
    optimizerStateLayout: ['u', 'r', 's', 's'],
  } satisfies Record<string, BindingKind[]>;
}

export type Layouts = { readonly [name in keyof ReturnType<typeof layoutTable>]: GPUBindGroupLayout };

const BINDING: Record<BindingKind, GPUBufferBindingLayout> = {
  u: { type: 'uniform', hasDynamicOffset: true },
  r: { type: 'read-only-storage', hasDynamicOffset: false },
  R: { type: 'read-only-storage', hasDynamicOffset: true },
  s: { type: 'storage', hasDynamicOffset: false },
  S: { type: 'storage', hasDynamicOffset: true },
};

/** Creates every layout of the table on `device`, labelled by name. */
export function createLayouts(device: GPUDevice, counts: BindingCounts): Layouts {
  const table = layoutTable(counts);
  const entries = Object.entries(table).map(([name, kinds]) => [
    name,
    device.createBindGroupLayout({
      label: `gradclip ${name.replace(/Layout$/, '').replace(/[A-Z]/g, (c) => ` ${c.toLowerCase()}`)} layout`,
      entries: kinds.map((kind, binding) => ({ binding, visibility: ShaderStage.COMPUTE, buffer: BINDING[kind] })),
    }),
  ]);
  return Object.fromEntries(entries) as Layouts;
}
