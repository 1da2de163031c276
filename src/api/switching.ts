// createClipper({ onDeviceLost: 'cpu' }): a clipper that runs on the GPU until its device is lost,
// then on the CPU backend. The GPU's sets die with the device (calls on them still throw
// 'device-lost', naming the reason); sets made after the loss, from Float32Arrays, run on the CPU.
// Each call goes to the backend that owns the set it names, else to whichever backend is live.
import type { AdaptiveRule } from '../core/adaptive-types';
import type { GradScaler, GradScalerConfig } from '../core/amp-types';
import type { ClipperBackend, ClipperEngines } from '../core/backend';
import { resolveSet } from '../core/set-alias';
import type {
  AdaptiveGradClipOptions,
  ClipperTuning,
  EncoderOption,
  GradSet,
  GradView,
  NormHandle,
  NormOptions,
  NormsHandle,
  NormsOptions,
  PerExampleOptions,
  PerExampleResult,
} from '../core/types';
import { CpuClipper } from '../cpu/clipper';
import type { OptimizerSettings } from '../core/optimizer-types';
import type { GpuClipper } from '../gpu/clipper';
import { GpuGradSet } from '../gpu/set';

export class SwitchingClipper implements ClipperBackend {
  readonly engines: ClipperEngines;
  private cpu: CpuClipper | null = null;

  constructor(private readonly gpu: GpuClipper) {
    void gpu.device.lost.then(
      (info) =>
        (this.cpu = new CpuClipper(`the GPU device was lost (${info.reason}): ${info.message || 'no message'}`)),
    );
    this.engines = {
      adaptive: (set: GradSet, rule: AdaptiveRule) => this.route(set).engines.adaptive(set, rule),
      optimizer: (params: GradSet, grads: GradSet, settings: OptimizerSettings, scaler: GradScaler | null) =>
        this.route(grads).engines.optimizer(params, grads, settings, scaler),
      perExampleSums: (set: GradSet, batchSize: number) => this.route(set).engines.perExampleSums(set, batchSize),
      scaler: (config: GradScalerConfig) => this.live.engines.scaler(config),
    };
  }

  get backend(): 'webgpu' | 'cpu' {
    return this.live.backend;
  }

  get device(): GPUDevice | null {
    return this.live.device;
  }

  get fallbackReason(): string | null {
    return this.live.fallbackReason;
  }

  get tuning(): ClipperTuning | null {
    return this.live.tuning;
  }

  gradients(views: GradView[]): GradSet {
    return this.live.gradients(views);
  }

  clipGradNorm(set: GradSet, maxNorm: number, options?: NormOptions | null): NormHandle {
    return this.route(set).clipGradNorm(set, maxNorm, options);
  }

  getTotalNorm(set: GradSet, options?: NormOptions | null): NormHandle {
    return this.route(set).getTotalNorm(set, options);
  }

  clipGradsWithNorm(
    set: GradSet,
    maxNorm: number,
    totalNorm: NormHandle | number,
    options?: EncoderOption | null,
  ): void {
    this.route(set).clipGradsWithNorm(set, maxNorm, totalNorm, options);
  }

  clipGradValue(set: GradSet, clip: number | { min: number; max: number }, options?: EncoderOption | null): void {
    this.route(set).clipGradValue(set, clip, options);
  }

  perTensorNorms(set: GradSet, options?: NormsOptions | null): NormsHandle {
    return this.route(set).perTensorNorms(set, options);
  }

  clipByNorm(set: GradSet, maxNorm: number, options?: NormsOptions | null): NormsHandle {
    return this.route(set).clipByNorm(set, maxNorm, options);
  }

  clipPerExample(set: GradSet, options: PerExampleOptions): PerExampleResult {
    return this.route(set).clipPerExample(set, options);
  }

  adaptiveGradClip(grads: GradSet, params: GradSet, options?: AdaptiveGradClipOptions | null): NormHandle {
    return this.route(grads).adaptiveGradClip(grads, params, options);
  }

  destroy(): void {
    this.gpu.destroy();
    this.cpu?.destroy();
  }

  private get live(): ClipperBackend {
    return this.cpu ?? this.gpu;
  }

  /** The GPU clipper for a GPU set (which throws 'device-lost' once lost), else the live backend. */
  private route(set: GradSet): ClipperBackend {
    const isGpuSet = typeof set === 'object' && set !== null && resolveSet(set) instanceof GpuGradSet;
    return isGpuSet ? this.gpu : this.live;
  }
}
