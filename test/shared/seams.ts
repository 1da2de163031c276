// The seams matrix: every producer of a NormHandle crossed with every consumer of one, on each
// backend and with and without the caller's encoder. The lists below are the whole matrix: a new
// producer or consumer joins it by adding one entry, and a cell that cannot run says why (the
// skip list is generated from the entries' `lacks` and the backend's axes, never left out).
// Plain TypeScript with no test-runner import: test/node/seams.test.ts and
// test/browser/seams.test.ts register the cells with Vitest, and any other runner can call
// `cell.run()` itself (a failed check throws an Error naming the call sequence, expected and got).
import {
  GradclipError,
  createAutoClip,
  createClipper,
  createGradScaler,
  createOptimizer,
  createZClip,
  type Clipper,
  type GradSet,
  type GradView,
  type NormHandle,
} from 'gradclip';
import {
  AutoClipRule,
  OptimizerReference,
  ZClipRule,
  clipDecision,
  totalNormReference,
  type ClipDecision,
  type OptimizerSettings,
} from 'gradclip/reference';
import { normErrorBound } from './fuzz-check';
import { randomGradient, seededRandom } from './random';
import { readBytes } from './read-bytes';

/** Written around and between views: finite and huge, so a kernel that read it would spoil the norm; odd bits, so a write shows. */
export const SENTINEL = 1.2345e30;

// ---------------------------------------------------------------------------------------------
// Layouts: where views lie in their buffers (element offsets and lengths; sentinels elsewhere).

export interface Layout {
  /** Length of each buffer in float32 elements (so buffer sizes are rarely multiples of 16 bytes). */
  readonly bufferLengths: readonly number[];
  readonly views: ReadonlyArray<{ readonly buffer: number; readonly offset: number; readonly length: number }>;
}

/** The set every producer works on: awkward lengths at odd offsets in one buffer, and a view in a second buffer. */
export const MAIN_LAYOUT: Layout = {
  bufferLengths: [1275, 41],
  views: [
    { buffer: 0, offset: 1, length: 1 },
    { buffer: 0, offset: 3, length: 3 },
    { buffer: 0, offset: 9, length: 257 },
    { buffer: 0, offset: 271, length: 1000 },
    { buffer: 1, offset: 5, length: 33 },
  ],
};

/** A set of another plan shape (its own result ring): the "second set" of clipGradsWithNorm. */
export const OTHER_LAYOUT: Layout = {
  bufferLengths: [80],
  views: [
    { buffer: 0, offset: 3, length: 7 },
    { buffer: 0, offset: 13, length: 61 },
  ],
};

/** Elements of the main set: n of the documented error bound. */
const MAIN_ELEMENTS = MAIN_LAYOUT.views.reduce((n, v) => n + v.length, 0);

/** Which non-finite values the main set's gradients hold. */
export type GradientKind = 'finite' | 'NaN' | '±Inf';

/** Seeded values for each view of `layout`, uniform in [-1, 1) (a main set's norm is about 20), with `kind` injected. */
function gradientValues(layout: Layout, seed: number, kind: GradientKind): Float32Array[] {
  const random = seededRandom(seed);
  const values = layout.views.map((v) => randomGradient(v.length, random));
  if (kind === 'NaN') values[2][100] = NaN;
  if (kind === '±Inf') {
    values[3][5] = Infinity;
    values[4][7] = -Infinity;
  }
  return values;
}

// ---------------------------------------------------------------------------------------------
// Backends: where gradients live and how the caller's encoder is offered.

/** Gradients laid out on a backend, read back whole (sentinels included). */
export interface Storage {
  readonly views: GradView[];
  /** Every buffer's contents, as float32. */
  read(): Promise<Float32Array[]>;
  destroy(): void;
}

/** The caller's encoder with unrelated work of its own before and after gradclip's calls. */
export interface EncoderSession {
  readonly encoder: GPUCommandEncoder;
  /** Records the trailing marker copy, submits, and throws unless both marker copies happened. */
  submitAndCheck(): Promise<void>;
}

export type Axis = 'own submit' | 'caller encoder';
export const AXES: readonly Axis[] = ['own submit', 'caller encoder'];

export interface SeamsBackend {
  readonly name: 'webgpu' | 'cpu';
  /** Axes this backend cannot run, with the reason (the skip list says it). */
  readonly unsupportedAxes: Partial<Record<Axis, string>>;
  /** Read norms are exactly fround(float64 norm) (CPU), or within the documented bound (GPU). */
  readonly exactNorms: boolean;
  /** Relative tolerance on a changed element (0: bit for bit as the model computes it). */
  readonly elementTolerance: number;
  createClipper(): Promise<Clipper>;
  allocate(layout: Layout, values: Float32Array[], label: string): Storage;
  openEncoder(): EncoderSession;
  /** Runs `body` inside validation and out-of-memory scopes (GPU) and throws on any error. */
  guard(body: () => Promise<void>): Promise<void>;
}

/** A backend the cells open lazily (a GPU device is had asynchronously, after the cells are listed). */
export interface BackendDescriptor {
  readonly name: 'webgpu' | 'cpu';
  readonly unsupportedAxes: Partial<Record<Axis, string>>;
  open(): Promise<SeamsBackend>;
}

/** Float32Arrays over ArrayBuffers with sentinels between: the CPU backend, in Node or a browser. */
export function cpuSeams(): BackendDescriptor {
  const unsupportedAxes = {
    'caller encoder':
      "the CPU backend rejects the encoder option (GradclipError 'invalid-argument'); there is no command buffer to share",
  };
  const backend: SeamsBackend = {
    name: 'cpu',
    unsupportedAxes,
    exactNorms: true,
    elementTolerance: 0,
    createClipper: () => createClipper({ backend: 'cpu' }),
    allocate(layout, values) {
      const buffers = layout.bufferLengths.map((n) => new Float32Array(n).fill(SENTINEL));
      const views = layout.views.map((v, i) => {
        const view = new Float32Array(buffers[v.buffer].buffer, v.offset * 4, v.length);
        view.set(values[i]);
        return view;
      });
      return { views, read: async () => buffers.map((b) => b.slice()), destroy: () => {} };
    },
    openEncoder() {
      throw new Error('the CPU backend has no encoder axis');
    },
    guard: (body) => body(),
  };
  return { name: 'cpu', unsupportedAxes, open: async () => backend };
}

/** GPU buffers on `device()`; every cell in its own error scopes, clippers capped at `maxWorkgroups`. */
export function gpuSeams(device: () => Promise<GPUDevice>, maxWorkgroups = 4): BackendDescriptor {
  const open = async (): Promise<SeamsBackend> => {
    const gpu = await device();
    const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
    return {
      name: 'webgpu',
      unsupportedAxes: {},
      exactNorms: false,
      // The norm's documented bound carried through a coefficient or two, plus float32 rounding of each product.
      elementTolerance: 4e-6,
      createClipper: () => createClipper({ device: gpu, maxWorkgroups }),
      allocate(layout, values, label) {
        const buffers = layout.bufferLengths.map((n, b) => {
          const contents = new Float32Array(n).fill(SENTINEL);
          layout.views.forEach((v, i) => {
            if (v.buffer === b) contents.set(values[i], v.offset);
          });
          const buffer = gpu.createBuffer({
            label: `seams ${label} buffer ${b}`,
            size: n * 4,
            usage,
            mappedAtCreation: true,
          });
          new Float32Array(buffer.getMappedRange()).set(contents);
          buffer.unmap();
          return buffer;
        });
        const views = layout.views.map((v) => ({ buffer: buffers[v.buffer], offset: v.offset * 4, length: v.length }));
        return {
          views,
          read: () => Promise.all(buffers.map(async (b) => new Float32Array(await readBytes(gpu, b)))),
          destroy: () => buffers.forEach((b) => b.destroy()),
        };
      },
      openEncoder() {
        // Two marker copies, before and after gradclip's calls: a call that invalidates the
        // command buffer drops them too, and the check below sees zeros.
        const markers = Uint32Array.from({ length: 8 }, (_, i) => 0xc0ffee00 + i);
        const source = gpu.createBuffer({
          label: 'seams marker source',
          size: 32,
          usage: GPUBufferUsage.COPY_SRC,
          mappedAtCreation: true,
        });
        new Uint32Array(source.getMappedRange()).set(markers);
        source.unmap();
        const target = gpu.createBuffer({
          label: 'seams marker target',
          size: 32,
          usage: GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
        });
        const encoder = gpu.createCommandEncoder({ label: 'seams caller encoder' });
        encoder.copyBufferToBuffer(source, 0, target, 0, 16);
        return {
          encoder,
          async submitAndCheck() {
            encoder.copyBufferToBuffer(source, 16, target, 16, 16);
            gpu.queue.submit([encoder.finish()]);
            const got = new Uint32Array(await readBytes(gpu, target));
            source.destroy();
            target.destroy();
            const hex = (a: Uint32Array) => Array.from(a, (w) => w.toString(16)).join(' ');
            if (hex(got) !== hex(markers)) {
              throw new Error(
                `the caller's own copies in the shared encoder did not happen (command buffer invalid?): marker target holds ${hex(got)}, expected ${hex(markers)}`,
              );
            }
          },
        };
      },
      async guard(body) {
        gpu.pushErrorScope('validation');
        gpu.pushErrorScope('out-of-memory');
        let failure: unknown = null;
        try {
          await body();
        } catch (error) {
          failure = error;
        }
        const outOfMemory = await gpu.popErrorScope();
        const validation = await gpu.popErrorScope();
        const scoped = [
          validation && `validation error: ${validation.message}`,
          outOfMemory && `out-of-memory error: ${outOfMemory.message}`,
        ].filter(Boolean);
        if (scoped.length > 0) {
          const then = failure ? `; and then: ${failure instanceof Error ? failure.message : String(failure)}` : '';
          throw new Error(`${scoped.join('; ')}${then}`);
        }
        if (failure) throw failure;
      },
    };
  };
  let opened: Promise<SeamsBackend> | null = null;
  return { name: 'webgpu', unsupportedAxes: {}, open: () => (opened ??= open()) };
}

// ---------------------------------------------------------------------------------------------
// The model: float64 copies of every set, changed by each call's reference in call order.

/** A layout on the backend, with what its views must hold once every call has run. */
export interface Tracked {
  readonly label: string;
  readonly layout: Layout;
  readonly storage: Storage;
  /** What each view must hold at the end; the models write their results here, in call order. */
  readonly expected: Float32Array[];
  /** Each view as first written. */
  readonly initial: Float32Array[];
  /** Set once a model scaled the views: they are then compared within the backend's tolerance, not bit for bit. */
  changed: boolean;
}

/** What a producer's reference says about its handle. */
export interface Expectation {
  /** The float64 reference norm the handle holds (read() gives its float32 rounding). */
  norm: number;
  /** What readFoundInf() gives. */
  foundInf: boolean;
  /** errorIfNonfinite tripped: read() rejects with 'nonfinite-norm'. */
  nonfiniteError: boolean;
}

/** Options a consumer asks the producer to pass (only those the producer takes reach the call). */
export interface ProducerOptions {
  encoder?: GPUCommandEncoder;
  errorIfNonfinite?: boolean;
  onNonfinite?: 'propagate' | 'skip';
}

export interface SeamContext {
  readonly backend: SeamsBackend;
  readonly clipper: Clipper;
  /** A second clipper of the same backend (on the GPU: the same device). */
  readonly other: Clipper;
  /** A layout filled with seeded finite values, checked at the end against its model; one per label. */
  track(label: string, layout: Layout, seed: number): Tracked;
  /** The sequence of calls so far, for failure messages. */
  readonly calls: string[];
}

/** Scales as scaleInPlace does (float64 product, stored as float32), when the decision says so. */
function applyDecision(target: Tracked, decision: ClipDecision): void {
  if (!decision.scale) return;
  for (const a of target.expected) for (let i = 0; i < a.length; i++) a[i] = a[i] * decision.coef;
  target.changed = true;
}

function handleModel(norm: number, nonfiniteError = false): Expectation {
  return { norm, foundInf: !Number.isFinite(Math.fround(norm)), nonfiniteError };
}

/** Only the options a call takes, and none that are undefined (options objects are strict). */
function pick(options: ProducerOptions, keys: ReadonlyArray<keyof ProducerOptions>): ProducerOptions {
  const picked: Record<string, unknown> = {};
  for (const key of keys) if (options[key] !== undefined) picked[key] = options[key];
  return picked as ProducerOptions;
}

// ---------------------------------------------------------------------------------------------
// Producers: each returns a NormHandle over `set` and says, in float64, what the handle holds and
// what the call did to the gradients.

export type ProducerOption = 'errorIfNonfinite' | 'onNonfinite';

export interface Producer {
  readonly name: string;
  /** Options the producer does not take, with the reason: consumers that need one are not applicable. */
  readonly lacks?: Partial<Record<ProducerOption, string>>;
  /** The call. `ctx.track` gives any extra sets it needs (the optimizer's parameters), the same ones `expect` sees. */
  produce(clipper: Clipper, set: GradSet, ctx: SeamContext, options: ProducerOptions): NormHandle;
  /** Its reference, applied to `grads.expected` (and any tracked extras) right after the call. */
  expect(grads: Tracked, ctx: SeamContext, options: ProducerOptions): Expectation;
}

const PRODUCER_MAX_NORM = 5;
const AUTOCLIP = { percentile: 10, history: 16 };
const ZCLIP = { alpha: 0.9, zThreshold: 2.5, warmupSteps: 3, mode: 'zscore' as const };
const SGD: OptimizerSettings = {
  kind: 'sgd',
  lr: 0.1,
  momentum: 0,
  dampening: 0,
  nesterov: false,
  betas: [0.9, 0.999],
  eps: 1e-8,
  weightDecay: 0,
  clip: { maxNorm: PRODUCER_MAX_NORM, normType: 2 },
};
const NORM_KEYS = ['encoder', 'errorIfNonfinite', 'onNonfinite'] as const;
/** The scaled producers' loss scale: a power of two, so unscaling is exact and their models are the plain ones / SCALE. */
const SCALE = 4;
const SCALED_LACKS =
  "a scaled clip never writes a non-finite step (it sets found-inf and skips): onNonfinite 'propagate' with a scaler is an error";
const STEP_KEYS = ['encoder', 'onNonfinite'] as const;
const STEP_LACKS_ERROR =
  'AutoClip / ZClip step() takes encoder and onNonfinite only (StepOptions has no errorIfNonfinite)';
const OPTIMIZER_LACKS =
  'optimizer.step() takes encoder and lr only; it always skips a non-finite step (the readFoundInf cells with NaN / ±Inf check that)';

/** Add a line here to add a producer to every cell of the matrix. */
export const PRODUCERS: readonly Producer[] = [
  {
    name: `clipGradNorm(set, ${PRODUCER_MAX_NORM})`,
    produce: (clipper, set, _ctx, options) => clipper.clipGradNorm(set, PRODUCER_MAX_NORM, pick(options, NORM_KEYS)),
    expect(grads, _ctx, options) {
      const norm = totalNormReference(grads.expected, 2);
      const decision = clipDecision(
        Math.fround(norm),
        PRODUCER_MAX_NORM,
        options.errorIfNonfinite,
        options.onNonfinite === 'skip',
      );
      applyDecision(grads, decision);
      return handleModel(norm, decision.nonfiniteError);
    },
  },
  {
    name: 'getTotalNorm(set)',
    produce: (clipper, set, _ctx, options) => clipper.getTotalNorm(set, pick(options, NORM_KEYS)),
    expect(grads, _ctx, options) {
      const norm = totalNormReference(grads.expected, 2);
      return handleModel(norm, Boolean(options.errorIfNonfinite) && !Number.isFinite(Math.fround(norm)));
    },
  },
  {
    name: 'perTensorNorms(set).total',
    lacks: {
      errorIfNonfinite: 'perTensorNorms takes NormsOptions (normType, encoder): no errorIfNonfinite',
      onNonfinite: 'perTensorNorms takes NormsOptions (normType, encoder): no onNonfinite, and it never writes',
    },
    produce: (clipper, set, _ctx, options) => clipper.perTensorNorms(set, pick(options, ['encoder'])).total,
    expect: (grads) => handleModel(totalNormReference(grads.expected, 2)),
  },
  {
    name: `createAutoClip(p${AUTOCLIP.percentile}, history ${AUTOCLIP.history}).step()`,
    lacks: { errorIfNonfinite: STEP_LACKS_ERROR },
    produce: (clipper, set, _ctx, options) => createAutoClip(clipper, set, AUTOCLIP).step(pick(options, STEP_KEYS)),
    expect(grads, _ctx, options) {
      // One norm in the history: the threshold is that norm at any percentile, so a finite norm is not clipped.
      const norm = totalNormReference(grads.expected, 2);
      const threshold = new AutoClipRule(AUTOCLIP.percentile, AUTOCLIP.history).observe(Math.fround(norm));
      applyDecision(grads, clipDecision(Math.fround(norm), threshold, false, options.onNonfinite === 'skip'));
      return handleModel(norm);
    },
  },
  {
    name: `createZClip(warmup ${ZCLIP.warmupSteps}).step()`,
    lacks: { errorIfNonfinite: STEP_LACKS_ERROR },
    produce: (clipper, set, _ctx, options) => createZClip(clipper, set, ZCLIP).step(pick(options, STEP_KEYS)),
    expect(grads, _ctx, options) {
      // First step of the warm-up: the threshold is +Infinity, nothing finite is clipped.
      const norm = totalNormReference(grads.expected, 2);
      const threshold = new ZClipRule(ZCLIP).observe(Math.fround(norm));
      applyDecision(grads, clipDecision(Math.fround(norm), threshold, false, options.onNonfinite === 'skip'));
      return handleModel(norm);
    },
  },
  {
    name: `createOptimizer(sgd, clip ${PRODUCER_MAX_NORM}).step()`,
    lacks: { errorIfNonfinite: OPTIMIZER_LACKS, onNonfinite: OPTIMIZER_LACKS },
    produce(clipper, set, ctx, options) {
      const params = ctx.track('params', MAIN_LAYOUT, 3);
      const optimizer = createOptimizer(clipper, {
        params: clipper.gradients(params.storage.views),
        grads: set,
        kind: 'sgd',
        lr: SGD.lr,
        clip: { maxNorm: PRODUCER_MAX_NORM },
      });
      return optimizer.step(pick(options, ['encoder']));
    },
    expect(grads, ctx) {
      // Gradients are read, never written; the parameters take the step (or not, on NaN / ±Inf).
      const params = ctx.track('params', MAIN_LAYOUT, 3);
      const norm = totalNormReference(grads.expected, 2);
      const { skipped } = new OptimizerReference(
        SGD,
        MAIN_LAYOUT.views.map((v) => v.length),
      ).apply(params.expected, grads.expected);
      if (!skipped) params.changed = true;
      return handleModel(norm);
    },
  },
  {
    name: `clipGradNorm(set, ${PRODUCER_MAX_NORM}, { scaler }) (scale ${SCALE})`,
    lacks: { onNonfinite: SCALED_LACKS },
    produce: (clipper, set, _ctx, options) =>
      clipper.clipGradNorm(set, PRODUCER_MAX_NORM, {
        ...pick(options, NORM_KEYS),
        scaler: createGradScaler(clipper, { initScale: SCALE }),
      }),
    expect(grads, _ctx, options) {
      // The norm of the unscaled gradients; one write unscales and clips; NaN / ±Inf writes nothing.
      const norm = totalNormReference(grads.expected, 2) / SCALE;
      const decision = clipDecision(Math.fround(norm), PRODUCER_MAX_NORM, options.errorIfNonfinite, true);
      if (Number.isFinite(Math.fround(norm)) && !decision.nonfiniteError) {
        const coef = Math.fround((decision.scale ? decision.coef : 1) / SCALE);
        applyDecision(grads, { ...decision, scale: true, coef });
      }
      return handleModel(norm, decision.nonfiniteError);
    },
  },
  {
    name: `createOptimizer(sgd, clip ${PRODUCER_MAX_NORM}, scaler).step() (scale ${SCALE})`,
    lacks: { errorIfNonfinite: OPTIMIZER_LACKS, onNonfinite: OPTIMIZER_LACKS },
    produce(clipper, set, ctx, options) {
      const params = ctx.track('params', MAIN_LAYOUT, 3);
      const optimizer = createOptimizer(clipper, {
        params: clipper.gradients(params.storage.views),
        grads: set,
        kind: 'sgd',
        lr: SGD.lr,
        clip: { maxNorm: PRODUCER_MAX_NORM },
        scaler: createGradScaler(clipper, { initScale: SCALE }),
      });
      return optimizer.step(pick(options, ['encoder']));
    },
    expect(grads, ctx) {
      // The gradients, unscaled inside the update, are read, never written.
      const params = ctx.track('params', MAIN_LAYOUT, 3);
      const unscaled = grads.expected.map((g) => Float32Array.from(g, (x) => x / SCALE));
      const { skipped } = new OptimizerReference(
        SGD,
        MAIN_LAYOUT.views.map((v) => v.length),
      ).apply(params.expected, unscaled);
      if (!skipped) params.changed = true;
      return handleModel(totalNormReference(grads.expected, 2) / SCALE);
    },
  },
  {
    name: 'getTotalNorm of another clipper (same device / any CPU clipper)',
    produce(_clipper, _set, ctx, options) {
      // The other clipper's own set over the same views: the handle lives in that clipper's result ring.
      const views = ctx.track('main', MAIN_LAYOUT, 0).storage.views;
      return ctx.other.getTotalNorm(ctx.other.gradients(views), pick(options, NORM_KEYS));
    },
    expect(grads, _ctx, options) {
      const norm = totalNormReference(grads.expected, 2);
      return handleModel(norm, Boolean(options.errorIfNonfinite) && !Number.isFinite(Math.fround(norm)));
    },
  },
];

// ---------------------------------------------------------------------------------------------
// Consumers: each takes the handle (recording more calls into the same encoder where it has one),
// then, after submission, checks it.

export interface Consumer {
  readonly name: string;
  /** What the main set's gradients hold. */
  readonly gradients: GradientKind;
  /** The producer option this consumer is about: producers that lack it are not applicable. */
  readonly needs?: ProducerOption;
  /** What the producer is asked to pass. */
  readonly producerOptions: ProducerOptions;
  /** Records calls after the producer's (with `encoderOptions`) and applies their reference to the model. */
  record?(
    ctx: SeamContext,
    handle: NormHandle,
    expectation: Expectation,
    encoderOptions: { encoder?: GPUCommandEncoder },
  ): void;
  /** After submission: checks the handle. */
  verify(ctx: SeamContext, handle: NormHandle, expectation: Expectation): Promise<void>;
}

const CONSUMER_MAX_NORM = 2;

/** clipGradsWithNorm on `target`: PyTorch's get_total_norm then clip_grads_with_norm_. */
function clipWithHandle(name: string, target: (ctx: SeamContext) => Tracked): Consumer {
  return {
    name: `clipGradsWithNorm(${name}, ${CONSUMER_MAX_NORM}, handle)`,
    gradients: 'finite',
    producerOptions: {},
    record(ctx, handle, expectation, encoderOptions) {
      const tracked = target(ctx);
      const set = ctx.clipper.gradients(tracked.storage.views);
      ctx.calls.push(
        `clipper.clipGradsWithNorm(${name}, ${CONSUMER_MAX_NORM}, handle${encoderOptions.encoder ? ', { encoder }' : ''})`,
      );
      ctx.clipper.clipGradsWithNorm(set, CONSUMER_MAX_NORM, handle, encoderOptions);
      applyDecision(tracked, clipDecision(Math.fround(expectation.norm), CONSUMER_MAX_NORM));
    },
    async verify(ctx, handle, expectation) {
      // The handle still holds its own norm after its value was copied to another slot.
      checkNorm(ctx, 'handle.read() after clipGradsWithNorm', await handle.read(), expectation.norm);
    },
  };
}

/** read() and readFoundInf() as the expectation says. */
async function verifyReads(ctx: SeamContext, handle: NormHandle, expectation: Expectation): Promise<void> {
  checkNorm(ctx, 'handle.read()', await handle.read(), expectation.norm);
  check(ctx, 'handle.readFoundInf()', await handle.readFoundInf(), expectation.foundInf);
}

/** Add a line here to add a consumer to every cell of the matrix. */
export const CONSUMERS: readonly Consumer[] = [
  clipWithHandle('the same set', (ctx) => ctx.track('main', MAIN_LAYOUT, 0)),
  clipWithHandle('a twin set of the same plan shape', (ctx) => ctx.track('twin', MAIN_LAYOUT, 1)),
  clipWithHandle('a set of another shape', (ctx) => ctx.track('other', OTHER_LAYOUT, 2)),
  {
    name: 'read()',
    gradients: 'finite',
    producerOptions: {},
    async verify(ctx, handle, expectation) {
      checkNorm(ctx, 'handle.read()', await handle.read(), expectation.norm);
    },
  },
  ...(['finite', 'NaN', '±Inf'] as const).map(
    (gradients): Consumer => ({
      name: `readFoundInf(), ${gradients} gradients`,
      gradients,
      producerOptions: {},
      verify: verifyReads,
    }),
  ),
  ...(['finite', '±Inf'] as const).map(
    (gradients): Consumer => ({
      name: `errorIfNonfinite: true, ${gradients} gradients`,
      gradients,
      needs: 'errorIfNonfinite',
      producerOptions: { errorIfNonfinite: true },
      async verify(ctx, handle, expectation) {
        if (!expectation.nonfiniteError) return verifyReads(ctx, handle, expectation);
        const outcome = await handle.read().then(
          (value) => `resolved with ${value}`,
          (error: unknown) =>
            error instanceof GradclipError
              ? `rejected with GradclipError '${error.code}'`
              : `rejected with ${String(error)}`,
        );
        check(ctx, 'handle.read()', outcome, "rejected with GradclipError 'nonfinite-norm'");
        check(ctx, 'handle.readFoundInf()', await handle.readFoundInf(), true);
      },
    }),
  ),
  ...(['finite', 'NaN'] as const).map(
    (gradients): Consumer => ({
      name: `onNonfinite: 'skip', ${gradients} gradients`,
      gradients,
      needs: 'onNonfinite',
      producerOptions: { onNonfinite: 'skip' },
      verify: verifyReads,
    }),
  ),
];

// ---------------------------------------------------------------------------------------------
// Checks: a failure throws with the call sequence, what was expected and what came.

function fail(ctx: SeamContext, what: string, expected: string, got: string): never {
  throw new Error(`${what}: expected ${expected}, got ${got}\n  calls: ${ctx.calls.join('; ')}`);
}

function check<T>(ctx: SeamContext, what: string, got: T, expected: T): void {
  if (got !== expected) fail(ctx, what, String(expected), String(got));
}

/** A read norm: float32; exactly fround(reference) on the CPU, within 2^-24 (2 + log2 n) of it on the GPU. */
function checkNorm(ctx: SeamContext, what: string, got: number, reference: number): void {
  const expected32 = Math.fround(reference);
  if (Number.isNaN(expected32) || !Number.isFinite(expected32)) {
    if (!Object.is(got, expected32)) fail(ctx, what, String(expected32), String(got));
    return;
  }
  if (Math.fround(got) !== got) fail(ctx, what, 'a float32 value', String(got));
  if (ctx.backend.exactNorms) {
    if (got !== expected32) fail(ctx, what, `Math.fround(${reference}) = ${expected32}`, String(got));
    return;
  }
  const bound = normErrorBound(MAIN_ELEMENTS, 2);
  const error = Math.abs(got - reference) / reference;
  if (!(error <= bound))
    fail(
      ctx,
      what,
      `${reference} within relative ${bound.toExponential(2)}`,
      `${got} (relative error ${error.toExponential(2)})`,
    );
}

/** Every buffer of `tracked`: views as the model says, every element outside them with its first bits. */
async function checkTracked(ctx: SeamContext, tracked: Tracked): Promise<void> {
  const buffers = await tracked.storage.read();
  const tolerance = ctx.backend.elementTolerance;
  const problems: string[] = [];
  const inView = tracked.layout.bufferLengths.map((n) => new Uint8Array(n));
  const bitsOf = (x: number) => new Uint32Array(Float32Array.of(x).buffer)[0];
  tracked.layout.views.forEach((v, index) => {
    const got = buffers[v.buffer];
    const expected = tracked.expected[index];
    for (let i = 0; i < v.length; i++) {
      inView[v.buffer][v.offset + i] = 1;
      const a = got[v.offset + i];
      const e = expected[i];
      let ok: boolean;
      if (!tracked.changed) ok = bitsOf(a) === bitsOf(tracked.initial[index][i]);
      else if (Number.isNaN(e)) ok = Number.isNaN(a);
      else if (!Number.isFinite(e) || tolerance === 0) ok = a === e;
      else ok = Math.abs(a - e) <= tolerance * Math.abs(e) + 2 ** -24 * Math.abs(tracked.initial[index][i]);
      if (!ok && problems.length < 4) {
        problems.push(
          `${tracked.label} view ${index} [${i}]: expected ${tracked.changed ? e : `bits of ${tracked.initial[index][i]}`}, got ${a}`,
        );
      }
    }
  });
  buffers.forEach((contents, b) => {
    for (let i = 0; i < contents.length; i++) {
      if (!inView[b][i] && bitsOf(contents[i]) !== bitsOf(SENTINEL) && problems.length < 8) {
        problems.push(
          `${tracked.label} buffer ${b} [${i}] outside the views: expected the sentinel ${SENTINEL}, got ${contents[i]}`,
        );
      }
    }
  });
  if (problems.length > 0) fail(ctx, `${tracked.label} gradients`, 'the reference', problems.join('; '));
}

// ---------------------------------------------------------------------------------------------
// The generator.

export interface Cell {
  /** producer × consumer × axis */
  readonly name: string;
  run(): Promise<void>;
}

export interface NotApplicable {
  readonly name: string;
  readonly reason: string;
}

export interface Matrix {
  readonly cells: Cell[];
  readonly notApplicable: NotApplicable[];
  /** producers × consumers × axes: every one is a cell or not applicable. */
  readonly size: number;
}

/** Why a cell cannot run on `backend`, or null when it can. */
function notApplicableReason(
  backend: BackendDescriptor,
  producer: Producer,
  consumer: Consumer,
  axis: Axis,
): string | null {
  const axisReason = backend.unsupportedAxes[axis];
  if (axisReason) return axisReason;
  if (consumer.needs && producer.lacks?.[consumer.needs]) return producer.lacks[consumer.needs]!;
  return null;
}

/** Every producer × consumer × axis on `backend`. */
export function seamsMatrix(backend: BackendDescriptor, producers = PRODUCERS, consumers = CONSUMERS): Matrix {
  const cells: Cell[] = [];
  const notApplicable: NotApplicable[] = [];
  for (const producer of producers) {
    for (const consumer of consumers) {
      for (const axis of AXES) {
        const name = `${producer.name} × ${consumer.name} × ${axis}`;
        const reason = notApplicableReason(backend, producer, consumer, axis);
        if (reason) notApplicable.push({ name, reason });
        else cells.push({ name, run: () => runCell(backend, producer, consumer, axis) });
      }
    }
  }
  return { cells, notApplicable, size: producers.length * consumers.length * AXES.length };
}

async function runCell(
  descriptor: BackendDescriptor,
  producer: Producer,
  consumer: Consumer,
  axis: Axis,
): Promise<void> {
  const backend = await descriptor.open();
  await backend.guard(async () => {
    const clipper = await backend.createClipper();
    const other = await backend.createClipper();
    const tracked = new Map<string, Tracked>();
    const calls: string[] = [];
    const ctx: SeamContext = {
      backend,
      clipper,
      other,
      calls,
      track(label, layout, seed) {
        let t = tracked.get(label);
        if (!t) {
          const values = gradientValues(layout, seed, label === 'main' ? consumer.gradients : 'finite');
          t = {
            label,
            layout,
            storage: backend.allocate(layout, values, label),
            expected: values.map((v) => v.slice()),
            initial: values,
            changed: false,
          };
          tracked.set(label, t);
        }
        return t;
      },
    };
    try {
      const main = ctx.track('main', MAIN_LAYOUT, 0);
      const set = clipper.gradients(main.storage.views);
      const session = axis === 'caller encoder' ? backend.openEncoder() : null;
      const encoderOptions = session ? { encoder: session.encoder } : {};
      const options = { ...encoderOptions, ...consumer.producerOptions };
      calls.push(
        `${consumer.gradients} gradients`,
        `${session ? 'encoder ← marker copy; ' : ''}${producer.name} with ${JSON.stringify(Object.keys(options))}`,
      );
      const handle = producer.produce(clipper, set, ctx, options);
      const expectation = producer.expect(main, ctx, options);
      if (expectation.foundInf !== (consumer.gradients !== 'finite')) {
        throw new Error(
          `matrix defect: ${consumer.gradients} gradients but the reference says foundInf ${expectation.foundInf}`,
        );
      }
      consumer.record?.(ctx, handle, expectation, encoderOptions);
      if (session) {
        calls.push('encoder ← marker copy; submit');
        await session.submitAndCheck();
      }
      await consumer.verify(ctx, handle, expectation);
      for (const t of tracked.values()) await checkTracked(ctx, t);
    } finally {
      for (const t of tracked.values()) t.storage.destroy();
      clipper.destroy();
      other.destroy();
    }
  });
}
