// The package as a user gets it: `npm run build`, `npm pack`, install the tarball into a fresh
// project and import it from plain Node (no bundler, no TypeScript loader): the CPU path clips
// Float32Arrays, the WGSL is inlined, the declarations type-check a consumer, and the tarball
// holds only what a user needs; then a page of that project bundled by Vite runs the WebGPU path
// in Chromium.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright';
import { build, preview } from 'vite';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { chromiumArgs, chromiumPath } from '../../demo/chromium';

const root = resolve(import.meta.dirname, '../..');
let work: string;
let consumer: string;
let packedFiles: string[];

const run = (command: string, args: string[], cwd: string) =>
  execFileSync(command, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 });

beforeAll(() => {
  run('npm', ['run', 'build'], root);
  work = mkdtempSync(join(tmpdir(), 'gradclip-package-'));
  const listing = JSON.parse(
    run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work], root),
  ) as Array<{ files: Array<{ path: string }> }>;
  packedFiles = listing[0].files.map((f) => f.path).sort();
  const tarball = readdirSync(work).find((f) => f.endsWith('.tgz'))!;
  consumer = join(work, 'consumer');
  execFileSync('mkdir', ['-p', consumer]);
  writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  run('npm', ['install', join(work, tarball), '--offline', '--no-audit', '--no-fund', '--ignore-scripts'], consumer);
}, 180_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

test('the tarball holds the built module, its map and declarations, the README, CHANGELOG and LICENSE, nothing else', () => {
  expect(packedFiles).toContain('dist/index.js');
  expect(packedFiles).toContain('dist/index.js.map');
  expect(packedFiles).toContain('dist/index.d.ts');
  for (const name of ['package.json', 'README.md', 'CHANGELOG.md', 'LICENSE']) expect(packedFiles).toContain(name);
  expect(packedFiles).toContain('dist/reference.js');
  expect(packedFiles).toContain('dist/reference/index.d.ts');
  expect(packedFiles).toContain('dist/tfjs.js');
  expect(packedFiles).toContain('dist/interop/index.d.ts');
  const stray = packedFiles.filter(
    (f) => !/^(dist\/[\w./-]+\.(js|js\.map|d\.ts)|package\.json|README\.md|CHANGELOG\.md|LICENSE)$/.test(f),
  );
  expect(stray).toEqual([]);
});

test('plain Node imports the installed package and the CPU path clips Float32Arrays', () => {
  writeFileSync(
    join(consumer, 'clip.mjs'),
    `import { createClipper, GradclipError } from 'gradclip';
const clipper = await createClipper();
const a = new Float32Array([3, 0, 0]);
const b = new Float32Array([4]);
const norm = await clipper.clipGradNorm(clipper.gradients([a, b]), 1).read();
let code = null;
try { clipper.clipGradNorm(clipper.gradients([a]), -1); } catch (e) { code = e instanceof GradclipError ? e.code : 'other'; }
console.log(JSON.stringify({ backend: clipper.backend, norm, a: Array.from(a), b: Array.from(b), code }));`,
  );
  const out = JSON.parse(run('node', ['clip.mjs'], consumer));
  expect(out.backend).toBe('cpu');
  expect(out.norm).toBe(5);
  expect(out.a[0]).toBeCloseTo(0.6, 6);
  expect(out.b[0]).toBeCloseTo(0.8, 6);
  expect(out.code).toBe('invalid-argument');
});

test("plain Node imports the float64 oracles from the 'gradclip/reference' subpath", () => {
  writeFileSync(
    join(consumer, 'reference.mjs'),
    `import { totalNormReference, clipDecision } from 'gradclip/reference';
import * as main from 'gradclip';
const norm = totalNormReference([new Float32Array([3, 4])], 2);
console.log(JSON.stringify({ norm, coef: clipDecision(norm, 1).coef, mainHasReference: 'totalNormReference' in main }));`,
  );
  const out = JSON.parse(run('node', ['reference.mjs'], consumer));
  expect(out).toEqual({ norm: 5, coef: 1 / (5 + 1e-6), mainHasReference: false });
});

test('the built module carries its WGSL inline (no ?raw import left) and imports nothing but its own shared chunk', () => {
  const built = run(
    'node',
    ['-e', "process.stdout.write(require('fs').readFileSync(require.resolve('gradclip'), 'utf8'))"],
    consumer,
  );
  expect(built).not.toMatch(/(from\s+|import\()['"][^'"]*\?raw/); // only Rollup's `// shaders/x.wgsl?raw` markers remain
  expect(built).not.toMatch(/^import .* from ['"](?!\.\/chunk-[\w-]+\.js['"])/m); // only its own shared chunks
  expect(built).toMatch(/@compute @workgroup_size\(WG\)/);
});

test('the declarations type-check a consumer (with @webgpu/types, as any WebGPU code needs)', () => {
  writeFileSync(
    join(consumer, 'use.ts'),
    `import { createClipper, createOptimizer, type Clipper, type NormHandle } from 'gradclip';
export async function step(device: GPUDevice, buffer: GPUBuffer): Promise<number> {
  const clipper: Clipper = await createClipper({ device });
  const set = clipper.gradients([{ buffer, offset: 0, length: 16 }]);
  const handle: NormHandle = clipper.clipGradNorm(set, 1, { normType: 2 });
  void createOptimizer;
  return handle.read();
}`,
  );
  const tsc = join(root, 'node_modules/typescript/bin/tsc');
  run(
    'node',
    [
      tsc,
      '--noEmit',
      '--strict',
      '--target',
      'es2022',
      '--module',
      'nodenext',
      '--moduleResolution',
      'nodenext',
      '--typeRoots',
      join(root, 'node_modules'),
      '--types',
      '@webgpu/types',
      'use.ts',
    ],
    consumer,
  );
});

test('a page bundled by Vite from the installed tarball runs the WebGPU path in Chromium', async () => {
  writeFileSync(join(consumer, 'index.html'), '<!doctype html><script type="module" src="./main.js"></script>');
  writeFileSync(
    join(consumer, 'main.js'),
    `import { createClipper } from 'gradclip';
window.result = (async () => {
  const adapter = await navigator.gpu.requestAdapter();
  const device = await adapter.requestDevice();
  const clipper = await createClipper({ device, maxWorkgroups: 4 });
  const data = new Float32Array(1000).map((_, i) => Math.sin(i));
  const buffer = device.createBuffer({ size: data.byteLength, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
  device.queue.writeBuffer(buffer, 0, data);
  const norm = await clipper.clipGradNorm(clipper.gradients([buffer]), 1).read();
  const staging = device.createBuffer({ size: data.byteLength, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const encoder = device.createCommandEncoder();
  encoder.copyBufferToBuffer(buffer, 0, staging, 0, data.byteLength);
  device.queue.submit([encoder.finish()]);
  await staging.mapAsync(GPUMapMode.READ);
  const clipped = Array.from(new Float32Array(staging.getMappedRange()));
  return { backend: clipper.backend, norm, reference: Math.hypot(...data), clippedNorm: Math.hypot(...clipped) };
})();`,
  );
  await build({ root: consumer, logLevel: 'silent', configFile: false });
  const server = await preview({
    root: consumer,
    configFile: false,
    logLevel: 'silent',
    preview: { host: '127.0.0.1', port: 0, strictPort: false },
  });
  const browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs, headless: true });
  try {
    const page = await browser.newPage();
    await page.goto(server.resolvedUrls!.local[0]);
    const result = await page.evaluate(
      () => (window as unknown as { result: Promise<Record<string, number | string>> }).result,
    );
    expect(result.backend).toBe('webgpu');
    expect(
      Math.abs((result.norm as number) - (result.reference as number)) / (result.reference as number),
    ).toBeLessThan(1e-6);
    expect(result.clippedNorm as number).toBeCloseTo(1, 5);
  } finally {
    await browser.close();
    await new Promise<void>((done) => server.httpServer.close(() => done()));
  }
}, 120_000);
