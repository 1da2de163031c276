// The built package on a second WebGPU implementation: Deno's (wgpu + Naga, where Chromium has
// Dawn + Tint), on whatever Vulkan adapter Deno finds (Mesa's lavapipe in CI). Imports dist/
// as a user would and checks the GPU path against the package's own float64 reference: norms for
// p = 1, 2 and ∞, clipping by norm and by value, NaN and ±Inf, many views at odd offsets in one
// arena, every float outside the views untouched, and repeated steps on one set (each norm
// read). Run by `npm run test:deno` (after `npm run build`).
import { createClipper } from '../../dist/index.js';
import { totalNormReference } from '../../dist/reference.js';
import { relativeError } from '../shared/random.ts';
import { readBytes } from '../shared/read-bytes.ts';

declare const Deno: { exit(code: number): never };

const adapter = await navigator.gpu?.requestAdapter();
if (!adapter) {
  console.error('deno smoke: no WebGPU adapter (install a Vulkan driver, e.g. mesa-vulkan-drivers)');
  Deno.exit(1);
}
const device = await adapter.requestDevice();
const info = adapter.info;
console.log(`adapter: ${[info.vendor, info.architecture, info.description].filter(Boolean).join(' / ')}`);
const gpu = await createClipper({ device, maxWorkgroups: 8 });
const cpu = await createClipper({ forceCpu: true });

let failures = 0;
function check(name: string, ok: boolean, detail = ''): void {
  if (!ok) failures++;
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}${detail ? ` (${detail})` : ''}`);
}

const SENTINEL = -7.5e29;
/** `lengths` views at odd offsets in one buffer, sentinels between them, with CPU twins. */
function arena(lengths: number[], seed: number) {
  let state = seed;
  const next = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 31 - 1;
  };
  const offsets: number[] = [];
  let at = 3;
  for (const n of lengths) {
    offsets.push(at);
    at += n + 2;
  }
  const contents = new Float32Array(at + 5).fill(SENTINEL);
  lengths.forEach((n, i) => {
    for (let k = 0; k < n; k++) contents[offsets[i] + k] = next() * (1 + i);
  });
  const buffer = device.createBuffer({
    label: 'smoke arena',
    size: contents.byteLength,
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
  });
  device.queue.writeBuffer(buffer, 0, contents);
  const twins = lengths.map((n, i) => contents.slice(offsets[i], offsets[i] + n));
  const gpuSet = gpu.gradients(lengths.map((n, i) => ({ buffer, offset: 4 * offsets[i], length: n })));
  return { buffer, contents, offsets, twins, gpuSet, cpuSet: cpu.gradients(twins) };
}

/** Every view equals its CPU twin within `tolerance`; every float outside the views kept its bits. */
async function matchesTwins(a: ReturnType<typeof arena>, tolerance: number): Promise<string> {
  const after = new Float32Array(await readBytes(device, a.buffer));
  const inView = new Int32Array(after.length).fill(-1);
  a.twins.forEach((t, i) => inView.fill(i, a.offsets[i], a.offsets[i] + t.length));
  for (let k = 0; k < after.length; k++) {
    if (inView[k] < 0) {
      if (!Object.is(after[k], a.contents[k])) return `float ${k} outside the views changed`;
      continue;
    }
    const want = a.twins[inView[k]][k - a.offsets[inView[k]]];
    const ok = Object.is(after[k], want) || Math.abs(after[k] - want) <= tolerance * Math.abs(want);
    if (!ok) return `float ${k}: ${after[k]}, the CPU backend has ${want}`;
  }
  return '';
}

const lengths = [1, 7, 300, 4099, 33, 2, 1000, 65, 3, 17, 256, 1025];

for (const p of [1, 2, Infinity]) {
  const a = arena(lengths, 7 + p);
  const reference = totalNormReference(a.twins, p);
  const norm = await gpu.getTotalNorm(a.gpuSet, { normType: p }).read();
  check(`getTotalNorm p=${p}`, relativeError(norm, reference) <= 1e-6, `${norm} vs ${reference}`);
  const gpuNorm = await gpu.clipGradNorm(a.gpuSet, reference / 3, { normType: p }).read();
  await cpu.clipGradNorm(a.cpuSet, reference / 3, { normType: p }).read();
  const differs = await matchesTwins(a, 2e-6);
  check(
    `clipGradNorm p=${p}: norm, clipped views, untouched gaps`,
    relativeError(gpuNorm, reference) <= 1e-6 && !differs,
    differs,
  );
}

{
  const a = arena(lengths, 21);
  gpu.clipGradValue(a.gpuSet, 0.25);
  cpu.clipGradValue(a.cpuSet, 0.25);
  const differs = await matchesTwins(a, 0);
  check('clipGradValue', !differs, differs);
}

{
  const steps = arena(lengths, 31);
  const norms: number[] = [];
  for (let i = 0; i < 5; i++) norms.push(await gpu.clipGradNorm(steps.gpuSet, 1e9).read());
  const reference = totalNormReference(steps.twins, 2);
  check(
    'five steps on one set, each norm read',
    norms.every((n) => relativeError(n, reference) <= 1e-6),
    norms.join(', '),
  );
}

for (const [name, value] of [
  ['NaN', NaN],
  ['+Inf', Infinity],
  ['-Inf', -Infinity],
] as const) {
  const a = arena([5, 9, 12], 41);
  device.queue.writeBuffer(a.buffer, 4 * (a.offsets[1] + 2), new Float32Array([value]));
  a.twins[1][2] = value;
  const norm = await gpu.clipGradNorm(a.gpuSet, 1).read();
  const reference = totalNormReference(a.twins, 2);
  const handle = gpu.clipGradNorm(a.gpuSet, 1, { onNonfinite: 'skip' });
  check(
    `${name}: the norm is ${reference}, the found-inf flag is set`,
    Object.is(norm, reference) && (await handle.readFoundInf()),
    `${norm}`,
  );
}

{
  const many = arena(
    Array.from({ length: 300 }, (_, i) => 1 + ((i * 37) % 90)),
    51,
  );
  const reference = totalNormReference(many.twins, 2);
  await gpu.clipGradNorm(many.gpuSet, reference / 2).read();
  await cpu.clipGradNorm(many.cpuSet, reference / 2).read();
  const differs = await matchesTwins(many, 2e-6);
  check('300 views at odd offsets in one arena', !differs, differs);
}

console.log(failures ? `${failures} failed` : 'all passed');
Deno.exit(failures ? 1 : 0);
