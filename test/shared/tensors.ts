// Gradients on a backend under test, for cases that run on every backend (amp-cases.ts,
// privacy-cases.ts): views at odd offsets with sentinels around them, in GPU buffers or
// Float32Arrays, and the assertions the cases throw with (plain TypeScript, no test-runner import,
// so Deno runs the same cases).
import { createClipper, GradclipError, type Clipper, type GradSet, type GradView } from 'gradclip';
import { readBytes } from './read-bytes';

/** The usage of every test buffer of gradients (WebGPU's flag values, written out for runtimes without the globals). */
export const GPU_GRAD_USAGE = 0x0080 | 0x0004 | 0x0008;

/** Written around the views: a kernel that read or wrote outside them shows. */
export const SENTINEL = 1.2345e30;

/** Where gradients live on the backend under test, and how the case reads and writes them. */
export interface Tensors {
  readonly name: 'webgpu' | 'cpu';
  readonly clipper: Clipper;
  /** A new clipper of the same backend (for a scaler that does not belong to `clipper`). */
  other(): Promise<Clipper>;
  /** Views holding `values` (at odd offsets, sentinels between), as a set of `clipper`. */
  make(values: readonly ArrayLike<number>[]): Stored;
  /** The values of views the library returned (a clipPerExample sum), after the work submitted so far. */
  readViews(views: readonly GradView[]): Promise<Float32Array[]>;
  /** An encoder the calls record into (null on the CPU), and its submit. */
  encoder(): { options: { encoder?: GPUCommandEncoder }; submit(): void };
}

export interface Stored {
  set: GradSet;
  views: GradView[];
  /** The views' values now (after the work submitted so far). */
  read(): Promise<Float32Array[]>;
  /** Overwrites the views' values (queued before later work on the GPU). */
  write(values: readonly ArrayLike<number>[]): void;
  /** Every element outside the views still holds SENTINEL. */
  sentinelsKept(): Promise<boolean>;
}

export function fail(message: string): never {
  throw new Error(message);
}

export function expectEqual(actual: unknown, expected: unknown, what: string): void {
  if (!Object.is(actual, expected)) fail(`${what}: expected ${String(expected)}, got ${String(actual)}`);
}

export function expectClose(
  actual: readonly number[],
  expected: readonly number[],
  atol: number,
  rtol: number,
  what: string,
) {
  if (actual.length !== expected.length) fail(`${what}: ${actual.length} values, expected ${expected.length}`);
  actual.forEach((a, i) => {
    const e = expected[i];
    if (!(Math.abs(a - e) <= atol + rtol * Math.abs(e))) fail(`${what}[${i}]: expected ${e}, got ${a}`);
  });
}

/** Throws unless `body` throws a GradclipError of `code` whose message matches `pattern`. */
export function expectGradclipError(body: () => unknown, code: string, pattern: RegExp, what: string): void {
  try {
    body();
  } catch (error) {
    if (!(error instanceof GradclipError)) fail(`${what}: threw ${String(error)}, not a GradclipError`);
    if (error.code !== code) fail(`${what}: code ${error.code}, expected ${code} (${error.message})`);
    if (!pattern.test(error.message))
      fail(`${what}: message ${JSON.stringify(error.message)} does not match ${pattern}`);
    return;
  }
  fail(`${what}: did not throw`);
}

/** Views at odd offsets in one Float32Array per call, sentinels around them: the CPU backend's `Tensors`. */
export function cpuTensors(clipper: Clipper, other: () => Promise<Clipper>): Tensors {
  return {
    name: 'cpu',
    clipper,
    other,
    make(values) {
      const offsets: number[] = [];
      let at = 3;
      for (const v of values) {
        offsets.push(at);
        at += v.length + 2;
      }
      const whole = new Float32Array(at + 1).fill(SENTINEL);
      const views = values.map((v, i) => {
        const view = whole.subarray(offsets[i], offsets[i] + v.length);
        view.set(v);
        return view;
      });
      const inViews = new Set(values.flatMap((v, i) => Array.from({ length: v.length }, (_, k) => offsets[i] + k)));
      return {
        set: clipper.gradients(views),
        views,
        read: async () => views.map((v) => v.slice()),
        write: (next) => next.forEach((v, i) => views[i].set(v)),
        sentinelsKept: async () => whole.every((x, i) => inViews.has(i) || x === Math.fround(SENTINEL)),
      };
    },
    readViews: async (views) => views.map((v) => (v as Float32Array).slice()),
    encoder: () => ({ options: {}, submit: () => {} }),
  };
}

/** Views at odd offsets in one GPU buffer per call, sentinels between: the WebGPU backend's `Tensors`. */
export function gpuTensors(device: GPUDevice, clipper: Clipper): Tensors {
  return {
    name: 'webgpu',
    clipper,
    other: () => createClipper({ device, maxWorkgroups: 4 }),
    make(values) {
      const offsets: number[] = [];
      let at = 3;
      for (const v of values) {
        offsets.push(at);
        at += v.length + 2;
      }
      const whole = new Float32Array(at + 1).fill(SENTINEL);
      values.forEach((v, i) => whole.set(v, offsets[i]));
      const buffer = device.createBuffer({ label: 'case gradients', size: whole.byteLength, usage: GPU_GRAD_USAGE });
      device.queue.writeBuffer(buffer, 0, whole);
      const views = values.map((v, i) => ({ buffer, offset: offsets[i] * 4, length: v.length }));
      const readAll = async () => new Float32Array(await readBytes(device, buffer));
      return {
        set: clipper.gradients(views),
        views,
        read: async () => {
          const all = await readAll();
          return values.map((v, i) => all.slice(offsets[i], offsets[i] + v.length));
        },
        write: (next) =>
          next.forEach((v, i) => {
            if (v.length) device.queue.writeBuffer(buffer, offsets[i] * 4, Float32Array.from(v));
          }),
        sentinelsKept: async () => {
          const all = await readAll();
          return all.every(
            (x, k) => offsets.some((o, i) => k >= o && k < o + values[i].length) || x === Math.fround(SENTINEL),
          );
        },
      };
    },
    async readViews(views) {
      return Promise.all(
        views.map(async (view) => {
          const { buffer, offset = 0, length } = view as { buffer: GPUBuffer; offset?: number; length: number };
          return new Float32Array(await readBytes(device, buffer)).slice(offset / 4, offset / 4 + length);
        }),
      );
    },
    encoder() {
      const encoder = device.createCommandEncoder({ label: 'case encoder' });
      return { options: { encoder }, submit: () => device.queue.submit([encoder.finish()]) };
    },
  };
}
