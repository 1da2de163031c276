// Bundles the benchmark for Deno (`npm run bench:deno-bundle`): one ES module per chunk with the
// WGSL inlined, so a machine with a GPU and no browser or Node can run it.
import { resolve } from 'node:path';
import { defineConfig } from 'vite';

export default defineConfig({
  build: {
    outDir: 'dist-deno',
    emptyOutDir: true,
    target: 'es2022',
    minify: false,
    chunkSizeWarningLimit: 4096,
    lib: {
      entry: resolve(import.meta.dirname, 'demo/bench/deno-main.ts'),
      formats: ['es'],
      fileName: () => 'bench-deno.js',
    },
  },
});
