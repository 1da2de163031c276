// The benchmark itself: for every case and operation, each method in turn on the same device and
// the same data, warm-up then timed steps, a correctness check against the float64 reference,
// and the per-step counts that show how gradclip scales. The page and the CLI only present this.
import { createClipper } from '../../src/index';
import { totalNormReference } from '../../src/reference/index';
import type { GpuClipper } from '../../src/gpu/clipper';
import { idealCopyRatio, type Operation } from './byte-model';
import { countSweep, customCase, elementCount, gradientsFor, presetCase, sizeSweep, type CaseShape } from './cases';
import type { BenchConfig, MethodName, OperationName } from './config';
import { sample } from './budget';
import type { FitStepResult } from '../gpt/fit-step';
import { GPT_SIZES, gptSizeFor } from '../gpt/settings';
import { tfjsOn } from '../tfjs-device';
import { GradclipMethod, createMethod, type CaseData, type Method } from './methods';
import { modesToRun, runModes } from './modes';
import { SET_BUILD_VIEWS, measureSetBuild } from './set-build';
import { SCHEMA_ID, type BenchResults, type CaseResult, type MethodResult } from './schema';
import { summarize } from './stats';
import { checkTargets } from './targets';
import { settled } from './settled';
import { kernelMedians, PROFILED_STEPS } from './pass-profile';

export interface Progress {
  done: number;
  total: number;
  label: string;
}

interface OperationSpec {
  name: OperationName;
  operation: Operation;
  normType: number | null;
}

const PRESET_OPERATIONS: OperationSpec[] = [
  { name: 'clip-l2', operation: 'clip-norm', normType: 2 },
  { name: 'no-clip-l2', operation: 'no-clip-norm', normType: 2 },
  { name: 'clip-inf', operation: 'clip-norm', normType: Infinity },
  { name: 'clip-value', operation: 'clip-value', normType: null },
];
const SIZE_OPERATIONS: OperationSpec[] = PRESET_OPERATIONS.slice(0, 2);
const COUNT_OPERATIONS: OperationSpec[] = PRESET_OPERATIONS.slice(0, 1);

/** The float64 reference of what the operation leaves in the gradients (`norm`: the case's reference norm). */
function expected(data: CaseData, norm: number): Float32Array[] {
  const { grads, operation, threshold } = data;
  if (operation === 'clip-value') return grads.map((g) => g.map((v) => Math.min(Math.max(v, -threshold), threshold)));
  const coef = norm > threshold ? threshold / (norm + 1e-6) : 1;
  return grads.map((g) => g.map((v) => v * coef));
}

function maxRelativeError(actual: Float32Array[], reference: Float32Array[]): number {
  let worst = 0;
  reference.forEach((ref, t) => {
    const a = actual[t];
    if (!a || a.length !== ref.length) {
      worst = Infinity;
      return;
    }
    for (let i = 0; i < ref.length; i++) {
      const err = Math.abs(a[i] - ref[i]) / Math.max(Math.abs(ref[i]), 1e-6);
      if (!(err <= worst)) worst = Number.isNaN(err) ? Infinity : err;
    }
  });
  return worst;
}

/** The model.fit line: TF.js on this device, the demo's GPT compiled with each optimizer (loaded only when asked). */
async function measureGptFitStep(device: GPUDevice, onProgress: (label: string) => void): Promise<FitStepResult> {
  onProgress('model.fit step of the GPT · 4 optimizers');
  await tfjsOn(device);
  await import('@tensorflow/tfjs-core/dist/register_all_gradients');
  const { measureFitStep } = await import('../gpt/fit-step');
  const clipper = await createClipper({ device });
  // The demo's size for this adapter: the ~0.8 M-parameter GPT takes minutes a step on a software one.
  const info = (device as GPUDevice & { adapterInfo?: GPUAdapterInfo }).adapterInfo;
  try {
    return await measureFitStep(clipper, { settings: GPT_SIZES[gptSizeFor(info)].settings });
  } finally {
    clipper.destroy();
  }
}

/** Counts what gradclip does per step by wrapping the device's methods for a few untimed steps. */
async function countPerStep(device: GPUDevice, run: () => void, steps = 3) {
  const counts = { dispatches: 0, submits: 0, buffersCreated: 0 };
  const proto = Object.getPrototypeOf(device) as GPUDevice;
  const queueProto = Object.getPrototypeOf(device.queue) as GPUQueue;
  const wrapPass = (pass: GPUComputePassEncoder) =>
    new Proxy(pass, {
      get(target, key) {
        const value = Reflect.get(target, key, target);
        if (typeof value !== 'function') return value;
        if (key === 'dispatchWorkgroups' || key === 'dispatchWorkgroupsIndirect') {
          return (...args: unknown[]) => {
            counts.dispatches++;
            return (value as (...a: unknown[]) => unknown).apply(target, args);
          };
        }
        return value.bind(target);
      },
    });
  const patched = device as unknown as Record<string, unknown>;
  const patchedQueue = device.queue as unknown as Record<string, unknown>;
  patched.createBuffer = (d: GPUBufferDescriptor) => {
    counts.buffersCreated++;
    return proto.createBuffer.call(device, d);
  };
  patched.createCommandEncoder = (d?: GPUCommandEncoderDescriptor) => {
    const encoder = proto.createCommandEncoder.call(device, d);
    return new Proxy(encoder, {
      get(target, key) {
        const value = Reflect.get(target, key, target);
        if (key === 'beginComputePass') return (pd?: GPUComputePassDescriptor) => wrapPass(target.beginComputePass(pd));
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
  };
  patchedQueue.submit = (buffers: GPUCommandBuffer[]) => {
    // An empty submit carries no work: it is the Firefox wait's nudge (demo/bench/settled.ts).
    if (buffers.length > 0) counts.submits++;
    return queueProto.submit.call(device.queue, buffers);
  };
  try {
    for (let i = 0; i < steps; i++) {
      run();
      await settled(device);
    }
  } finally {
    delete patched.createBuffer;
    delete patched.createCommandEncoder;
    delete patchedQueue.submit;
  }
  return {
    dispatches: counts.dispatches / steps,
    submits: counts.submits / steps,
    buffersCreated: counts.buffersCreated / steps,
  };
}

/** The float64 reference a case's methods are checked against, computed once per case. */
interface CaseReference {
  /** The gradients as the operation leaves them. */
  clipped: Float32Array[];
  /** The norm of the pristine gradients (the case's normType). */
  norm: number;
}

/** Times one method on one case; never throws (a failure is recorded in `error`). */
async function measureMethod(
  name: MethodName,
  data: CaseData,
  config: BenchConfig,
  reference: CaseReference,
): Promise<MethodResult> {
  const result: MethodResult = { method: name, wall: null, gpu: null, check: null };
  if (name === 'naive' && data.operation === 'clip-value') {
    return { ...result, error: 'not applicable: the naive baseline clips by norm only' };
  }
  let method: Method | null = null;
  try {
    method = createMethod(name, data);
    await method.prepare();
    const m = method;
    const wall = await sample(
      config,
      async () => {
        await m.reset();
        await m.step();
      },
      async () => {
        await m.reset();
        const start = performance.now();
        await m.step();
        return performance.now() - start;
      },
    );
    result.wall = summarize(wall);
    if (m.gpuStep) {
      const gpuStep = m.gpuStep.bind(m);
      // The GPU times repeat steps already warmed up and timed: half the budget.
      const gpu = await sample(
        { ...config, warmup: 0, budgetMs: config.budgetMs / 2 },
        async () => {},
        async () => {
          await m.reset();
          return gpuStep();
        },
      );
      const finite = gpu.filter((ms) => Number.isFinite(ms));
      if (finite.length) result.gpu = summarize(finite);
    }
    if (method instanceof GradclipMethod && name !== 'gradclip-arena-read') {
      await method.reset();
      result.counters = await countPerStep(data.device, method.target.run);
    }
    if (method instanceof GradclipMethod && name === 'gradclip-arena') {
      const profiled = await method.profile(PROFILED_STEPS);
      if (profiled) result.passes = kernelMedians(profiled);
    }
    if ('workgroups' in method && typeof method.workgroups === 'number' && method.workgroups > 0) {
      result.workgroups = method.workgroups;
    }
    await method.reset();
    await method.step();
    let error = maxRelativeError(await method.result(), method.expectation === 'copy' ? data.grads : reference.clipped);
    // The norm too: a dropped command buffer leaves unclipped gradients "right" but no norm.
    const norm = await method.lastNorm?.();
    if (norm !== undefined && norm !== null && data.operation !== 'clip-value') {
      // All-zero gradients (the zero-grads case): a norm of exactly 0 is right.
      const normError = reference.norm === 0 ? Math.abs(norm) : Math.abs(norm - reference.norm) / reference.norm;
      error = Number.isNaN(normError) ? Infinity : Math.max(error, normError);
    }
    result.check = { ok: error <= 1e-4, maxRelativeError: error };
  } catch (error) {
    result.error = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  } finally {
    method?.destroy();
  }
  return result;
}

function ratio(c: CaseResult, numerator: MethodName, denominator: MethodName): number | null {
  const a = c.methods.find((m) => m.method === numerator)?.wall?.median;
  const b = c.methods.find((m) => m.method === denominator)?.wall?.median;
  return a && b ? a / b : null;
}

/** The cases a configuration covers, with the device's limits applied. */
export function planCases(config: BenchConfig, device: GPUDevice): { shapes: CaseShape[]; skipped: string[] } {
  const all = [
    ...config.presets.map(presetCase),
    ...(config.custom.length ? [customCase(config.custom)] : []),
    ...sizeSweep(config.sizes),
    ...countSweep(config.counts),
  ];
  const limit = Math.min(device.limits.maxStorageBufferBindingSize, device.limits.maxBufferSize);
  const shapes: CaseShape[] = [];
  const skipped: string[] = [];
  for (const shape of all) {
    const bytes = shape.tensors.reduce((n, t) => n + Math.ceil(t.length / 4) * 16, 0);
    if (bytes > limit)
      skipped.push(`${shape.id}: ${bytes} bytes exceed this device's ${limit}-byte buffer/binding limit`);
    else shapes.push(shape);
  }
  return { shapes, skipped };
}

function operationsFor(shape: CaseShape, config: BenchConfig): OperationSpec[] {
  const own =
    shape.series === 'preset' ? PRESET_OPERATIONS : shape.series === 'size' ? SIZE_OPERATIONS : COUNT_OPERATIONS;
  return own.filter((spec) => config.operations.includes(spec.name));
}

/** createClipper() on a new device of `device`'s adapter, with its features (ms), or null where none is to be had. */
async function timeCreateOnAnotherDevice(device: GPUDevice): Promise<number | null> {
  const adapter = await globalThis.navigator?.gpu?.requestAdapter().catch(() => null);
  const other = await adapter
    ?.requestDevice({ requiredFeatures: [...device.features] as GPUFeatureName[] })
    .catch(() => null);
  if (!other) return null;
  try {
    const started = performance.now();
    (await createClipper({ device: other })).destroy();
    return performance.now() - started;
  } finally {
    other.destroy();
  }
}

export async function runBenchmark(
  device: GPUDevice,
  config: BenchConfig,
  onProgress: (p: Progress) => void = () => {},
): Promise<BenchResults> {
  const { shapes, skipped } = planCases(config, device);
  // Start-up: the first createClipper() on a device, its autotune and pipeline compiles included.
  // Here it is the browser's first WebGPU work, beside the page's own loading; a page reload finds
  // the GPU process running, which a second device of the same adapter stands for.
  const createStarted = performance.now();
  const tuned = (await createClipper({ device })) as GpuClipper;
  const createMs = performance.now() - createStarted;
  const maxWorkgroups = tuned.maxWorkgroups ?? null;
  const autotuneMs = tuned.tuning?.elapsedMs ?? null;
  tuned.destroy();
  const reloadCreateMs = await timeCreateOnAnotherDevice(device);
  const total =
    shapes.reduce((n, s) => n + operationsFor(s, config).length * config.methods.length, 0) +
    modesToRun(config.modes).length;
  onProgress({ done: 0, total, label: `gradclip's autotuned workgroup cap: ${maxWorkgroups ?? 'none (CPU)'}` });
  let done = 0;
  const cases: CaseResult[] = [];
  for (const [index, shape] of shapes.entries()) {
    const grads = gradientsFor(shape, 1234 + index);
    for (const spec of operationsFor(shape, config)) {
      const normType = spec.normType ?? 2;
      const norm = totalNormReference(grads, normType);
      const threshold = spec.operation === 'clip-norm' ? norm / 2 : spec.operation === 'no-clip-norm' ? norm * 2 : 0.5;
      const data: CaseData = { device, grads, operation: spec.operation, normType, threshold };
      const reference: CaseReference = { clipped: expected(data, norm), norm };
      const caseResult: CaseResult = {
        id: shape.id,
        label: shape.label,
        series: shape.series,
        operation: spec.operation,
        normType: spec.normType === Infinity ? 'inf' : spec.normType,
        tensors: shape.tensors.length,
        elements: elementCount(shape),
        norm: spec.normType === null ? null : norm,
        methods: [],
        ratios: {
          gradclipOverCopyKernel: null,
          idealOverCopyKernel: idealCopyRatio(spec.operation),
          tfjsOverGradclip: null,
          naiveOverGradclip: null,
          cpuOverGradclip: null,
        },
      };
      for (const name of config.methods) {
        onProgress({
          done,
          total,
          label: `${shape.label} · ${spec.operation}${spec.normType === Infinity ? ' ∞' : ''} · ${name}`,
        });
        caseResult.methods.push(await measureMethod(name, data, config, reference));
        done++;
      }
      const reading: MethodName = spec.operation === 'clip-value' ? 'gradclip-arena' : 'gradclip-arena-read';
      caseResult.ratios.gradclipOverCopyKernel = ratio(caseResult, 'gradclip-arena', 'copy-kernel');
      caseResult.ratios.tfjsOverGradclip = ratio(caseResult, 'tfjs', reading);
      caseResult.ratios.naiveOverGradclip = ratio(caseResult, 'naive', reading);
      caseResult.ratios.cpuOverGradclip = ratio(caseResult, 'cpu', reading);
      cases.push(caseResult);
    }
  }
  const modes = config.modes.length
    ? await runModes(device, config, (label, counts = true) =>
        onProgress({ done: counts ? done++ : done, total, label }),
      )
    : undefined;
  onProgress({ done, total, label: `set build · ${SET_BUILD_VIEWS} views` });
  const setBuild = await measureSetBuild(device, maxWorkgroups ?? 1024);
  const fitStep = config.fitStep
    ? await measureGptFitStep(device, (label) => onProgress({ done, total, label }))
    : undefined;
  onProgress({ done: total, total, label: 'done' });

  const info = (device as GPUDevice & { adapterInfo?: GPUAdapterInfo }).adapterInfo;
  const timestamps = device.features.has('timestamp-query');
  return {
    schema: SCHEMA_ID,
    date: new Date().toISOString(),
    adapter: {
      vendor: info?.vendor ?? '',
      architecture: info?.architecture ?? '',
      device: info?.device ?? '',
      description: info?.description ?? '',
      features: [...device.features].sort(),
    },
    browser: typeof navigator === 'undefined' ? 'unknown' : navigator.userAgent,
    timestamps: {
      supported: timestamps,
      note: timestamps
        ? 'GPU times from timestamp queries; browsers quantise them (Chrome to 100 µs unless --enable-webgpu-developer-features)'
        : 'no timestamp-query on this device: wall times only',
    },
    config,
    tuning: { maxWorkgroups, createMs, autotuneMs, reloadCreateMs },
    skipped,
    cases,
    modes,
    setBuild,
    ...(fitStep ? { fitStep } : {}),
    targets: checkTargets(cases, modes, { createMs, reloadCreateMs }),
  };
}
