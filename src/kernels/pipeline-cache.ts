// Shader modules, pipeline layouts and compute pipelines of one device, each cached by a key that
// names everything its object depends on: a module by its generated text's parameters (binding
// count, vec4 and f16 slots, subgroups), a pipeline by its module, layout and override constants.
export class PipelineCache {
  private readonly modules = new Map<string, GPUShaderModule>();
  private readonly layouts = new Map<string, GPUPipelineLayout>();
  private readonly pipelines = new Map<string, GPUComputePipeline>();

  constructor(
    private readonly device: GPUDevice,
    /** The `WG` override every kernel gets. */
    private readonly workgroupSize: number,
  ) {}

  /** The module labelled `label`, its WGSL made by `code` on first use. */
  module(label: string, code: () => string): GPUShaderModule {
    let module = this.modules.get(label);
    if (!module) {
      module = this.device.createShaderModule({ label: `gradclip ${label}`, code: code() });
      this.modules.set(label, module);
    }
    return module;
  }

  /** The pipeline layout labelled `label` over these bind-group layouts. */
  layout(label: string, bindGroupLayouts: GPUBindGroupLayout[]): GPUPipelineLayout {
    const key = `gradclip ${label} pipeline layout`;
    let layout = this.layouts.get(key);
    if (!layout) {
      layout = this.device.createPipelineLayout({ label: key, bindGroupLayouts });
      this.layouts.set(key, layout);
    }
    return layout;
  }

  /** The pipeline under `key` (its label), built on first use. */
  pipeline(
    key: string,
    layout: GPUPipelineLayout,
    module: GPUShaderModule,
    constants: Record<string, number>,
  ): GPUComputePipeline {
    let pipeline = this.pipelines.get(key);
    if (!pipeline) {
      pipeline = this.device.createComputePipeline({
        label: `gradclip ${key}`,
        layout,
        compute: { module, entryPoint: 'main', constants: { WG: this.workgroupSize, ...constants } },
      });
      this.pipelines.set(key, pipeline);
    }
    return pipeline;
  }
}
