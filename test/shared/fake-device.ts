// A small stand-in for GPUDevice that records what the host layer creates and encodes, so Node
// tests can check planning, reuse and per-step allocation without a GPU (the idea of TypeGPU's
// fake-device tests). It validates nothing about WGSL; the browser suite runs the real thing.

export interface FakeCounts {
  createBuffer: number;
  createBindGroup: number;
  createComputePipeline: number;
  createShaderModule: number;
  writeBuffer: number;
  submit: number;
  dispatches: number;
  indirectDispatches: number;
  computePasses: number;
}

export interface FakeDevice {
  device: GPUDevice;
  counts: FakeCounts;
  /** Every buffer created, with whether it was destroyed. */
  buffers: Array<{ buffer: GPUBuffer; destroyed: boolean }>;
  /** What was created without a label (e.g. 'createBindGroup'): every object gradclip makes is labelled. */
  unlabeled: string[];
  /** Every shader module created: its label and WGSL. */
  modules: Array<{ label: string; code: string }>;
  /** Commands WebGPU would reject at submit (e.g. a copy within one buffer), which invalidate the whole command buffer. */
  invalidCommands: string[];
  loseDevice(reason?: GPUDeviceLostReason, message?: string): void;
}

export function fakeBuffer(size: number, usage = 0x80 | 0x8 | 0x4, label = ''): GPUBuffer {
  return {
    size,
    usage,
    label,
    mapState: 'unmapped',
    mapAsync: async () => {},
    getMappedRange: () => new ArrayBuffer(size),
    unmap() {},
    destroy() {},
  } as unknown as GPUBuffer;
}

export function createFakeDevice(limits: Partial<GPUSupportedLimits> = {}, features: string[] = []): FakeDevice {
  const counts: FakeCounts = {
    createBuffer: 0,
    createBindGroup: 0,
    createComputePipeline: 0,
    createShaderModule: 0,
    writeBuffer: 0,
    submit: 0,
    dispatches: 0,
    indirectDispatches: 0,
    computePasses: 0,
  };
  const buffers: FakeDevice['buffers'] = [];
  const unlabeled: string[] = [];
  const modules: FakeDevice['modules'] = [];
  const invalidCommands: string[] = [];
  const labelled = (kind: string, d?: { label?: string }) => {
    if (!d?.label) unlabeled.push(kind);
  };
  let resolveLost: (info: GPUDeviceLostInfo) => void = () => {};
  const lost = new Promise<GPUDeviceLostInfo>((resolve) => (resolveLost = resolve));
  const fullLimits = {
    maxStorageBuffersPerShaderStage: 8,
    maxStorageBufferBindingSize: 128 * 1024 * 1024,
    maxBufferSize: 256 * 1024 * 1024,
    minStorageBufferOffsetAlignment: 256,
    minUniformBufferOffsetAlignment: 256,
    maxComputeWorkgroupsPerDimension: 65535,
    maxComputeInvocationsPerWorkgroup: 256,
    maxComputeWorkgroupSizeX: 256,
    ...limits,
  };

  const pass = {
    setPipeline() {},
    setBindGroup() {},
    dispatchWorkgroups: () => void counts.dispatches++,
    dispatchWorkgroupsIndirect: () => void counts.indirectDispatches++,
    end() {},
  };
  const device = {
    pushErrorScope() {},
    popErrorScope: async () => null,
    limits: fullLimits,
    features: new Set(features),
    lost,
    queue: {
      writeBuffer: () => void counts.writeBuffer++,
      submit: () => void counts.submit++,
      onSubmittedWorkDone: async () => {},
    },
    createBuffer(descriptor: GPUBufferDescriptor) {
      counts.createBuffer++;
      labelled('createBuffer', descriptor);
      const record = { buffer: fakeBuffer(descriptor.size, descriptor.usage, descriptor.label), destroyed: false };
      (record.buffer as { destroy: () => void }).destroy = () => {
        record.destroyed = true;
      };
      buffers.push(record);
      return record.buffer;
    },
    createBindGroupLayout: (d: GPUBindGroupLayoutDescriptor) => {
      labelled('createBindGroupLayout', d);
      return { label: d.label };
    },
    createPipelineLayout: (d: GPUPipelineLayoutDescriptor) => {
      labelled('createPipelineLayout', d);
      return { label: d.label };
    },
    createQuerySet: (d: GPUQuerySetDescriptor) => {
      labelled('createQuerySet', d);
      return { label: d.label, destroy() {} };
    },
    createShaderModule: (d: GPUShaderModuleDescriptor) => {
      labelled('createShaderModule', d);
      counts.createShaderModule++;
      modules.push({ label: d.label ?? '', code: d.code });
      return { label: d.label, code: d.code };
    },
    createComputePipeline: (d: GPUComputePipelineDescriptor) => {
      labelled('createComputePipeline', d);
      counts.createComputePipeline++;
      return { label: d.label };
    },
    // Counted with the others: a pipeline built either way.
    createComputePipelineAsync: async (d: GPUComputePipelineDescriptor) => {
      labelled('createComputePipelineAsync', d);
      counts.createComputePipeline++;
      return { label: d.label };
    },
    createBindGroup: (d: GPUBindGroupDescriptor) => {
      labelled('createBindGroup', d);
      counts.createBindGroup++;
      return { label: d.label, entries: d.entries };
    },
    createCommandEncoder: (d?: GPUCommandEncoderDescriptor) => {
      labelled('createCommandEncoder', d);
      return {
        beginComputePass: (pd?: GPUComputePassDescriptor) => {
          labelled('beginComputePass', pd);
          counts.computePasses++;
          return pass;
        },
        copyBufferToBuffer(source: GPUBuffer, _sourceOffset: number, destination: GPUBuffer) {
          // WebGPU: source and destination must differ, even for disjoint ranges.
          if (source === destination) invalidCommands.push(`copyBufferToBuffer within "${source.label}"`);
        },
        finish: () => ({}),
      };
    },
  } as unknown as GPUDevice;
  return {
    device,
    counts,
    buffers,
    unlabeled,
    modules,
    invalidCommands,
    loseDevice: (reason = 'unknown', message = 'fake loss') => resolveLost({ reason, message } as GPUDeviceLostInfo),
  };
}
