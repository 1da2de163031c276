// f16 gradients on Deno's WebGPU (wgpu + Naga; Mesa's lavapipe in CI offers `shader-f16`, which
// Chromium's SwiftShader lacks). Imports dist/ as a user would. The reference is float64 over the
// f16 values themselves, rounded to f16 where gradients are written: the CPU backend on
// Float16Arrays (Deno has them) gives exactly that, and is itself checked against the plain
// float64 arithmetic. The GPU widens each f16 to f32, so norms agree to f32 accuracy, and a
// written value may differ from the round-to-nearest reference by at most one f16 step (WGSL lets
// an f32 → f16 conversion round either way). Every half outside the views keeps its bits. Last,
// random sets of f16 and f32 buffers spanning several dispatch groups, tiny buffers included.
// Run by `npm run test:deno` (after `npm run build`).
import { createAutoClip, createClipper } from '../../dist/index.js';
import { totalNormReference } from '../../dist/reference.js';
import { relativeError, seededRandom } from '../shared/random.ts';
import { readBytes } from '../shared/read-bytes.ts';

declare const Deno: { exit(code: number): never };
declare const Float16Array: { new (length: number | ArrayBufferLike | ArrayLike<number>): Float16Array };
interface Float16Array extends ArrayLike<number> {
  [index: number]: number;
  readonly buffer: ArrayBuffer;
  set(values: ArrayLike<number>): void;
  slice(start?: number, end?: number): Float16Array;
  fill(value: number, start?: number, end?: number): Float16Array;
}

const adapter = await navigator.gpu?.requestAdapter();
if (!adapter) {
  console.error('deno f16: no WebGPU adapter (install a Vulkan driver, e.g. mesa-vulkan-drivers)');
  Deno.exit(1);
}
let failures = 0;
function check(name: string, ok: boolean, detail = ''): void {
  if (!ok) failures++;
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}${detail ? ` (${detail})` : ''}`);
}
if (!adapter.features.has('shader-f16')) {
  check('the adapter offers shader-f16', false, 'nothing below can run');
  Deno.exit(1);
}
const device = await adapter.requestDevice({ requiredFeatures: ['shader-f16'] });
const gpu = await createClipper({ device, maxWorkgroups: 8 });
const cpu = await createClipper({ forceCpu: true });
const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;

const SENTINEL = -1234.5;

/**
 * `lengths` f16 views at odd half offsets in one buffer, sentinels between, and Float16Array
 * twins. With `tail`, the last view runs into the buffer's last word, past its last whole
 * vec4<f16> (an f16 scalar tail window); without, sentinels follow it too.
 */
function halfArena(lengths: number[], seed: number, { scale = 1, tail = true } = {}) {
  const random = seededRandom(seed);
  const gaps = lengths.map((_, i) => 1 + (i % 3));
  const span = lengths.reduce((sum, n, i) => sum + n + (i < lengths.length - 1 ? gaps[i] : 0), 0);
  // Halves up to the end of the last view's word; an odd count of words (the last one not in a vec4<f16>).
  const wordsEnd = (start: number) => Math.ceil((start + span) / 2) * 2;
  let start = 3;
  while (wordsEnd(start) % 4 !== 2) start++;
  const offsets: number[] = [];
  let at = start;
  lengths.forEach((n, i) => {
    offsets.push(at);
    at += n + gaps[i];
  });
  const contents = new Float16Array(wordsEnd(start) + (tail ? 0 : 4)).fill(SENTINEL);
  lengths.forEach((n, i) => {
    for (let k = 0; k < n; k++) contents[offsets[i] + k] = (random() * 2 - 1) * scale * (1 + i);
  });
  const buffer = device.createBuffer({ label: 'f16 arena', size: contents.length * 2, usage });
  device.queue.writeBuffer(buffer, 0, contents.buffer);
  const twins = lengths.map((n, i) => contents.slice(offsets[i], offsets[i] + n));
  const gpuSet = gpu.gradients(
    lengths.map((n, i) => ({ buffer, offset: 2 * offsets[i], length: n, dtype: 'f16' as const })),
  );
  return { buffer, contents, offsets, twins, gpuSet, cpuSet: cpu.gradients(twins) };
}

/** The distance between adjacent f16 values at the magnitude of `x`. */
function halfStep(x: number): number {
  const a = Math.abs(x);
  return a < 2 ** -14 ? 2 ** -24 : 2 ** (Math.floor(Math.log2(a)) - 10);
}

/**
 * Every view within `steps` f16 steps of its CPU twin (NaN where the twin is NaN); every half
 * outside the views kept its bits. Returns what differs, or ''.
 */
async function matchesTwins(a: ReturnType<typeof halfArena>, steps: number): Promise<string> {
  const bytes = await readBytes(device, a.buffer);
  const after = new Float16Array(bytes);
  const afterBits = new Uint16Array(bytes);
  const beforeBits = new Uint16Array(a.contents.buffer);
  const inView = new Int32Array(after.length).fill(-1);
  a.twins.forEach((t, i) => inView.fill(i, a.offsets[i], a.offsets[i] + t.length));
  for (let k = 0; k < after.length; k++) {
    if (inView[k] < 0) {
      if (afterBits[k] !== beforeBits[k]) return `half ${k} outside the views changed`;
      continue;
    }
    const want = a.twins[inView[k]][k - a.offsets[inView[k]]];
    const ok = Object.is(after[k], want) || Math.abs(after[k] - want) <= steps * halfStep(want);
    if (!ok) return `half ${k}: ${after[k]}, the reference has ${want}`;
  }
  return '';
}

const lengths = [1, 7, 300, 4099, 33, 2, 1000, 65, 3, 17, 256, 1025];

{
  // The CPU backend on Float16Arrays is the reference: check it against plain float64 first.
  const a = halfArena(lengths, 3);
  const before = a.twins.map((t) => t.slice());
  const exact = totalNormReference(
    a.twins.map((t) => Array.from(t)),
    2,
  );
  const norm = await cpu.clipGradNorm(a.cpuSet, exact / 2).read();
  // The norm as the GPU keeps it (float64 rounded once to float32); PyTorch's maxNorm / (norm + 1e-6).
  const coef = exact / 2 / (Math.fround(exact) + 1e-6);
  const rounded = before.every((t, i) =>
    Array.from(t).every((x, k) => Object.is(a.twins[i][k], new Float16Array([x * coef])[0])),
  );
  check(
    'CPU backend on Float16Arrays: float64 norm rounded to float32, each clipped value rounded to nearest f16',
    norm === Math.fround(exact) && rounded,
  );
}

for (const p of [1, 2, Infinity, 3]) {
  const a = halfArena(lengths, 7 + p);
  const reference = totalNormReference(a.twins, p);
  const bound = p === 3 ? 2e-5 : 1e-6;
  const norm = await gpu.getTotalNorm(a.gpuSet, { normType: p }).read();
  check(`getTotalNorm p=${p} over f16 views`, relativeError(norm, reference) <= bound, `${norm} vs ${reference}`);
  const gpuNorm = await gpu.clipGradNorm(a.gpuSet, reference / 3, { normType: p }).read();
  await cpu.clipGradNorm(a.cpuSet, reference / 3, { normType: p }).read();
  const differs = await matchesTwins(a, 1);
  check(
    `clipGradNorm p=${p} in place in f16: norm, clipped views, untouched gaps`,
    relativeError(gpuNorm, reference) <= bound && !differs,
    differs,
  );
}

// Norms accumulate in f32: sums of squares far past f16's largest value (65504), and values
// near f16's smallest subnormal (6e-8), whose squares f16 could not hold at all.
for (const [name, scale] of [
  ['large', 3e4],
  ['tiny', 2e-7],
] as const) {
  const a = halfArena([5000, 3000], 61, { scale });
  const reference = totalNormReference(a.twins, 2);
  const norm = await gpu.getTotalNorm(a.gpuSet).read();
  check(
    `${name} f16 values (|x| up to ${scale * 2}): the norm in f32`,
    relativeError(norm, reference) <= 1e-6,
    `${norm} vs ${reference}`,
  );
}

{
  const a = halfArena(lengths, 21);
  gpu.clipGradValue(a.gpuSet, 0.25);
  cpu.clipGradValue(a.cpuSet, 0.25);
  check('clipGradValue(0.25) on f16 views: exact', !(await matchesTwins(a, 0)));
  const b = halfArena(lengths, 22, { tail: false });
  gpu.clipGradValue(b.gpuSet, { min: -0.1, max: 0.3 }); // bounds between f16 values
  cpu.clipGradValue(b.cpuSet, { min: -0.1, max: 0.3 });
  const differs = await matchesTwins(b, 1);
  check('clipGradValue to bounds between f16 values: within one f16 step', !differs, differs);
}

for (const [name, value] of [
  ['NaN', NaN],
  ['+Inf', Infinity],
  ['-Inf', -Infinity],
] as const) {
  const a = halfArena([5, 9, 12], 41);
  a.contents[a.offsets[1] + 2] = value;
  device.queue.writeBuffer(a.buffer, 0, a.contents.buffer);
  a.twins[1][2] = value;
  const reference = totalNormReference(a.twins, 2);
  const norm = await gpu.getTotalNorm(a.gpuSet).read();
  const handle = gpu.clipGradNorm(a.gpuSet, 1, { onNonfinite: 'skip' });
  const skipped = !(await matchesTwins(a, 0));
  gpu.clipGradValue(a.gpuSet, 0.5);
  cpu.clipGradValue(a.cpuSet, 0.5);
  const clamped = await matchesTwins(a, 0);
  check(
    `f16 ${name}: the norm is ${reference}, found-inf set, 'skip' leaves every half, clipGradValue keeps NaN`,
    Object.is(norm, reference) && (await handle.readFoundInf()) && skipped && !clamped,
    `${norm} ${clamped}`,
  );
}

{
  // One set of f32 and f16 buffers: one norm over both, each clipped in its own precision.
  const halves = halfArena([1000, 37, 5], 71);
  const floats = new Float32Array(2051).map((_, i) => Math.sin(i) * 3);
  const f32Buffer = device.createBuffer({ label: 'f32 beside f16', size: floats.byteLength, usage });
  device.queue.writeBuffer(f32Buffer, 0, floats);
  const floatTwin = floats.slice();
  const set = gpu.gradients([
    ...halves.offsets.map((o, i) => ({
      buffer: halves.buffer,
      offset: 2 * o,
      length: halves.twins[i].length,
      dtype: 'f16' as const,
    })),
    f32Buffer,
  ]);
  const cpuSet = cpu.gradients([...halves.twins, floatTwin]);
  const reference = totalNormReference([...halves.twins, floats], 2);
  const norm = await gpu.clipGradNorm(set, reference / 4).read();
  await cpu.clipGradNorm(cpuSet, reference / 4).read();
  const halfDiffers = await matchesTwins(halves, 1);
  const after = new Float32Array(await readBytes(device, f32Buffer));
  const floatsMatch = after.every((x, i) => Math.abs(x - floatTwin[i]) <= 2e-7 * Math.abs(floatTwin[i]));
  check(
    'a set of f16 and f32 buffers: one norm, each clipped in its own precision',
    relativeError(norm, reference) <= 1e-6 && !halfDiffers && floatsMatch,
    halfDiffers,
  );
}

{
  const a = halfArena(lengths, 81);
  const gpuNorms = await gpu.clipByNorm(a.gpuSet, 2).read();
  const cpuNorms = await cpu.clipByNorm(a.cpuSet, 2).read();
  // The CPU twins are clipped now; the norms were of the values before.
  const normsMatch = Array.from(gpuNorms).every((n, i) => relativeError(n, cpuNorms[i]) <= 1e-6);
  const differs = await matchesTwins(a, 1);
  check('clipByNorm per f16 view (the per-segment kernels)', normsMatch && !differs, differs);
}

{
  // AGC on f16 gradients against f32 parameters (rows as units), and AutoClip over five steps.
  const a = halfArena([24, 40, 7], 83, { scale: 4 });
  const params = [24, 40, 7].map((n, i) => new Float32Array(n).map((_, k) => Math.cos(k + i) * 0.05));
  const paramBuffers = params.map((w) => {
    const b = device.createBuffer({ label: 'agc params', size: w.byteLength, usage });
    device.queue.writeBuffer(b, 0, w);
    return b;
  });
  const shapes = [[4, 6], [8, 5], undefined] as const;
  const gpuGrads = gpu.gradients(
    a.offsets.map((o, i) => ({
      buffer: a.buffer,
      offset: 2 * o,
      length: a.twins[i].length,
      dtype: 'f16' as const,
      shape: shapes[i],
    })),
  );
  const cpuGrads = cpu.gradients(a.twins.map((t, i) => ({ data: t, shape: shapes[i] })));
  const gpuParams = gpu.gradients(
    paramBuffers.map((buffer, i) => ({ buffer, offset: 0, length: params[i].length, shape: shapes[i] })),
  );
  const cpuParams = cpu.gradients(params.map((w, i) => ({ data: w, shape: shapes[i] })));
  const total = await gpu.adaptiveGradClip(gpuGrads, gpuParams, { clipping: 0.02 }).read();
  const cpuTotal = await cpu.adaptiveGradClip(cpuGrads, cpuParams, { clipping: 0.02 }).read();
  const differs = await matchesTwins(a, 1);
  check(
    'adaptiveGradClip on f16 gradients (f32 parameters, rows as units)',
    relativeError(total, cpuTotal) <= 1e-6 && !differs,
    differs,
  );

  const b = halfArena(lengths, 85);
  const gpuClip = createAutoClip(gpu, b.gpuSet, { percentile: 50 });
  const cpuClip = createAutoClip(cpu, b.cpuSet, { percentile: 50 });
  let normsMatch = true;
  for (let step = 0; step < 5; step++) {
    const gpuNorm = await gpuClip.step().read();
    const cpuNorm = await cpuClip.step().read();
    normsMatch &&= relativeError(gpuNorm, cpuNorm) <= 1e-5;
  }
  const autoDiffers = await matchesTwins(b, 2);
  check('AutoClip on f16 views: five steps, norms and clipped halves', normsMatch && !autoDiffers, autoDiffers);
}

{
  const many = halfArena(
    Array.from({ length: 300 }, (_, i) => 1 + ((i * 37) % 90)),
    51,
    { tail: false },
  );
  const reference = totalNormReference(many.twins, 2);
  await gpu.clipGradNorm(many.gpuSet, reference / 2).read();
  await cpu.clipGradNorm(many.cpuSet, reference / 2).read();
  const differs = await matchesTwins(many, 1);
  check('300 f16 views at odd offsets in one arena', !differs, differs);
}

{
  // Random sets of f16 and f32 buffers: more buffers than one dispatch group binds (so groups of
  // different slot layouts share a pass), tiny buffers, views at any element offset, tails or not.
  // getTotalNorm then clipGradNorm (p = 1, 2, ∞ or 3), or clipGradValue, against the CPU backend.
  const groupBindings = device.limits.maxStorageBuffersPerShaderStage - 2;
  let failure = '';
  const CASES = 60;
  for (let seed = 1; seed <= CASES && !failure; seed++) {
    const random = seededRandom(1000 + seed);
    const int = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));
    const buffers = Array.from({ length: int(1, 2 * groupBindings + 3) }, (_, b) => {
      const half = random() < 0.5;
      const views: Array<{ offset: number; length: number }> = [];
      let at = int(0, 5);
      for (let v = int(1, 4); v > 0; v--) {
        const length = random() < 0.3 ? int(1, 5) : int(1, 600);
        views.push({ offset: at, length });
        at += length + int(0, 3);
      }
      const end = views[views.length - 1].offset + views[views.length - 1].length + (random() < 0.5 ? 0 : int(1, 4));
      const bytes = Math.max(4, Math.ceil((end * (half ? 2 : 4)) / 4) * 4);
      const contents = half ? new Float16Array(bytes / 2).fill(SENTINEL) : new Float32Array(bytes / 4).fill(SENTINEL);
      const scale = 10 ** int(-2, 2);
      for (const v of views)
        for (let k = 0; k < v.length; k++) contents[v.offset + k] = (random() * 2 - 1) * scale * (1 + (b % 3));
      const buffer = device.createBuffer({ label: `fuzz ${half ? 'f16' : 'f32'} buffer`, size: bytes, usage });
      device.queue.writeBuffer(buffer, 0, contents.buffer as ArrayBuffer);
      const twins = views.map((v) => contents.slice(v.offset, v.offset + v.length));
      return { half, views, buffer, contents, twins };
    });
    const describe = `seed ${seed}: ${buffers.length} buffers (${buffers.filter((b) => b.half).length} f16)`;
    try {
      const gpuSet = gpu.gradients(
        buffers.flatMap((b) =>
          b.views.map((v) => ({
            buffer: b.buffer,
            offset: v.offset * (b.half ? 2 : 4),
            length: v.length,
            dtype: b.half ? ('f16' as const) : ('f32' as const),
          })),
        ),
      );
      const twins = buffers.flatMap((b) => b.twins);
      const cpuSet = cpu.gradients(twins as unknown as Float32Array[]);
      const p = [1, 2, Infinity, 3][int(0, 3)];
      const reference = totalNormReference(twins, p);
      const norm = await gpu.getTotalNorm(gpuSet, { normType: p }).read();
      const label = `${describe}, p = ${p}`;
      if (!(relativeError(norm, reference) <= (p === 3 ? 2e-5 : 1e-6)))
        failure = `${label}: norm ${norm} vs ${reference}`;
      if (random() < 0.5) {
        gpu.clipGradNorm(gpuSet, reference / 3, { normType: p });
        cpu.clipGradNorm(cpuSet, reference / 3, { normType: p });
      } else {
        const clip = 0.3 * 10 ** int(-2, 2);
        gpu.clipGradValue(gpuSet, clip);
        cpu.clipGradValue(cpuSet, clip);
      }
      for (const [i, b] of buffers.entries()) {
        if (failure) break;
        const bytes = await readBytes(device, b.buffer);
        const after = b.half ? new Float16Array(bytes) : new Float32Array(bytes);
        const afterBits = b.half ? new Uint16Array(bytes) : new Uint32Array(bytes);
        const beforeBits = b.half
          ? new Uint16Array(b.contents.buffer as ArrayBuffer)
          : new Uint32Array(b.contents.buffer as ArrayBuffer);
        const owner = new Int32Array(after.length).fill(-1);
        b.views.forEach((v, k) => owner.fill(k, v.offset, v.offset + v.length));
        for (let e = 0; e < after.length && !failure; e++) {
          if (owner[e] < 0) {
            if (afterBits[e] !== beforeBits[e])
              failure = `${label}: buffer ${i} element ${e} outside the views changed`;
            continue;
          }
          const want = b.twins[owner[e]][e - b.views[owner[e]].offset];
          const ok =
            Object.is(after[e], want) || Math.abs(after[e] - want) <= (b.half ? halfStep(want) : 2e-6 * Math.abs(want));
          if (!ok)
            failure = `${label}: buffer ${i} (${b.half ? 'f16' : 'f32'}) element ${e} is ${after[e]}, the CPU backend has ${want}`;
        }
      }
    } catch (error) {
      failure = `${describe}: ${(error as Error).message}`;
    }
    for (const b of buffers) b.buffer.destroy();
  }
  check(
    `${CASES} random sets of f16 and f32 buffers (up to ${2 * groupBindings + 3} buffers, several dispatch groups)`,
    !failure,
    failure,
  );
}

{
  const a = halfArena([64, 64], 91);
  let perExample = '';
  try {
    gpu.clipPerExample(a.gpuSet, { batchSize: 2, maxNorm: 1 });
  } catch (error) {
    perExample = (error as { code?: string }).code ?? '';
  }
  const plain = await adapter.requestDevice();
  const withoutF16 = await createClipper({ device: plain, maxWorkgroups: 8 });
  let message = '';
  try {
    withoutF16.gradients([{ buffer: plain.createBuffer({ size: 64, usage }), offset: 0, length: 32, dtype: 'f16' }]);
  } catch (error) {
    message = (error as Error).message;
  }
  check(
    "unsupported: clipPerExample on f16, f16 on a device without 'shader-f16' (the error names it)",
    perExample === 'unsupported' && message.includes("'shader-f16'"),
    `${perExample}; ${message}`,
  );
  plain.destroy();
}

console.log(failures ? `${failures} failed` : 'all passed');
Deno.exit(failures ? 1 : 0);
