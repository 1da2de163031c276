// The benchmark in a headless WebGPU host without a browser: Deno's WebGPU (wgpu), for machines
// with a real GPU and no Chromium. Bundled by `npm run bench:deno-bundle` (shaders inlined), run as
//   deno run --allow-read --allow-write --allow-env dist-deno/bench-deno.js [bench flags]
// It prints the same table as `npm run bench` and writes the results JSON (no PNG: no page).
import { readCli } from './config';
import { runBenchmark } from './harness';
import { formatReport } from './report';
import { validateResults } from './schema';

declare const Deno: {
  args: string[];
  exit(code: number): never;
  writeTextFileSync(path: string, text: string): void;
};

async function main(): Promise<number> {
  const options = readCli(Deno.args);
  if (typeof options === 'number') return options;
  const adapter = await navigator.gpu?.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) {
    console.error('bench: no WebGPU adapter (run deno with --unstable-webgpu where needed, and a Vulkan driver)');
    return 1;
  }
  const wanted = ['subgroups', 'timestamp-query', 'shader-f16'] as GPUFeatureName[];
  const device = await adapter.requestDevice({ requiredFeatures: wanted.filter((f) => adapter.features.has(f)) });
  const info = adapter.info;
  console.log(
    `adapter: ${[info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' / ')}`,
  );
  let last = '';
  const results = await runBenchmark(device, options.config, (p) => {
    const line = `${p.done}/${p.total} ${p.label}`;
    if (line !== last) console.log(line);
    last = line;
  });
  // Deno's device may not carry adapterInfo: take it from the adapter.
  results.adapter = {
    ...results.adapter,
    vendor: info.vendor,
    architecture: info.architecture,
    device: info.device,
    description: info.description,
  };
  const problems = validateResults(results);
  if (problems.length) throw new Error(`the results do not match the schema: ${problems.join('; ')}`);
  Deno.writeTextFileSync(options.out, `${JSON.stringify(results, null, 2)}\n`);
  console.log(`\n${formatReport(results)}\n\nwrote ${options.out}`);
  return results.cases.some((c) => c.methods.some((m) => m.check && !m.check.ok)) ? 1 : 0;
}

Deno.exit(await main());
