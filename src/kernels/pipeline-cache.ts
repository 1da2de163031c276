// Shader modules, pipeline layouts and compute pipelines of one device, each cached by a key that
// names everything its object depends on: a module by its generated text's parameters (binding
// count, vec4 and f16 slots, subgroups), a pipeline by its module, layout and override constants.
export class PipelineCache {
  private readonly modules = new Map<string, GPUShaderModule>();
  private readonly layouts = new Map<string, GPUPipelineLayout>();
  private readonly pipelines = new Map<string, GPUComputePipeline>();
  /** Set while `prebuild` asks: starts the build of a missing pipeline. */
  private asking: ((key: string, descriptor: GPUComputePipelineDescriptor) => void) | null = null;

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

  /** The pipeline under `key` (its label), built on first use (see `prebuild` for while it asks). */
  pipeline(
    key: string,
    layout: GPUPipelineLayout,
    module: GPUShaderModule,
    constants: Record<string, number>,
  ): GPUComputePipeline {
    let pipeline = this.pipelines.get(key);
    if (!pipeline) {
      const descriptor: GPUComputePipelineDescriptor = {
        label: `gradclip ${key}`,
        layout,
        compute: { module, entryPoint: 'main', constants: { WG: this.workgroupSize, ...constants } },
      };
      if (this.asking) {
        this.asking(key, descriptor);
        return NOT_BUILT_YET;
      }
      pipeline = this.device.createComputePipeline(descriptor);
      this.pipelines.set(key, pipeline);
    }
    return pipeline;
  }

  /**
   * Builds the pipelines that `ask` asks the getters for side by side, with
   * createComputePipelineAsync, and caches them: recording builds each when it is first set, one
   * after another (the autotune's three on SwiftShader, 2 cores: 559-609 ms side by side, 594-641
   * ms one by one, 8 alternating runs each). While `ask` runs, a getter of a pipeline not yet
   * built returns a placeholder: `ask` may only call getters. A build that fails is left to the
   * first recording, which reports it as usual.
   */
  async prebuild(ask: () => void): Promise<void> {
    const builds = new Map<string, Promise<void>>();
    this.asking = (key, descriptor) => {
      if (builds.has(key)) return;
      const build = this.device.createComputePipelineAsync(descriptor).then(
        (pipeline) => {
          // Recording may have built it meanwhile; the first one built stays.
          if (!this.pipelines.has(key)) this.pipelines.set(key, pipeline);
        },
        () => {},
      );
      builds.set(key, build);
    };
    try {
      ask();
    } finally {
      this.asking = null;
    }
    await Promise.all(builds.values());
  }
}

/** What a getter returns for a pipeline still being built while `prebuild` asks: never recorded. */
const NOT_BUILT_YET = null as unknown as GPUComputePipeline;
