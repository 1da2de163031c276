// `npm run build`: the library as one ES module in dist/ (every WGSL shader inlined as a string,
// so no bundler needs Vite's ?raw), with a source map; tsc writes the declarations beside it.
import { resolve } from 'node:path';
import { defineConfig } from 'vite';

export default defineConfig({
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
    minify: false,
    // TF.js is a peer dependency of `gradclip/tfjs` alone: never bundled.
    rollupOptions: { external: [/^@tensorflow\//], output: { chunkFileNames: 'chunk-[name].js' } },
    lib: {
      // Three entries: the main one, `gradclip/reference` and `gradclip/tfjs`; what they share goes in chunks.
      entry: {
        index: resolve(import.meta.dirname, 'src/index.ts'),
        reference: resolve(import.meta.dirname, 'src/reference/index.ts'),
        tfjs: resolve(import.meta.dirname, 'src/interop/index.ts'),
      },
      formats: ['es'],
      fileName: (_format, name) => `${name}.js`,
    },
  },
});
