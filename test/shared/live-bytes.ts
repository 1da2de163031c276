// Counts the bytes of every GPU buffer alive on a device: createBuffer and each created buffer's
// destroy() are wrapped (createBuffer as an own property, put back by `restore`), so allocations
// by gradclip, TF.js or anyone are seen. A buffer dropped without destroy() counts as alive.
export interface LiveBytes {
  /** Bytes created and not yet destroyed since `countLiveBytes`. */
  readonly liveBytes: number;
  /** Buffers created so far, by label (a copy; TF.js labels none, so those are named by size and usage). */
  createdByLabel(): Map<string, number>;
  restore(): void;
}

export function countLiveBytes(device: GPUDevice): LiveBytes {
  const own = Object.getOwnPropertyDescriptor(device, 'createBuffer');
  const createBuffer = device.createBuffer;
  const live = new Set<GPUBuffer>();
  const createdByLabel = new Map<string, number>();
  let liveBytes = 0;
  device.createBuffer = function (descriptor: GPUBufferDescriptor): GPUBuffer {
    const buffer = createBuffer.call(this, descriptor);
    const label = descriptor.label || `(unlabelled, ${descriptor.size} B, usage ${descriptor.usage})`;
    createdByLabel.set(label, (createdByLabel.get(label) ?? 0) + 1);
    live.add(buffer);
    liveBytes += buffer.size;
    const destroy = buffer.destroy;
    buffer.destroy = function (): undefined {
      if (live.delete(buffer)) liveBytes -= buffer.size;
      return destroy.call(this);
    };
    return buffer;
  };
  return {
    get liveBytes() {
      return liveBytes;
    },
    createdByLabel: () => new Map(createdByLabel),
    restore() {
      if (own) Object.defineProperty(device, 'createBuffer', own);
      else delete (device as Partial<GPUDevice>).createBuffer;
    },
  };
}

/** Steps before the live bytes are first noted: pools, pipelines and a framework's caches are filled by then. */
export const WARMUP_STEPS = 100;

/** A leak to catch: one buffer this small each step (16 bytes: four f32 scalars). */
export const LEAKED_BYTES_PER_STEP = 16;

/**
 * Growth allowed from step WARMUP_STEPS to step `steps`: half of what leaking one 16-byte buffer
 * a step would add, so such a leak fails and a one-off allocation (a staging buffer) does not.
 */
export function growthLimit(steps: number): number {
  return (LEAKED_BYTES_PER_STEP * (steps - WARMUP_STEPS)) / 2;
}

/** A count as the tests name it: 10 000, 2 000. */
export function counted(n: number): string {
  return n.toLocaleString('en-US').replaceAll(',', ' ');
}
