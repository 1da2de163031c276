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
    rollupOptions: { output: { chunkFileNames: 'shared.js' } },
    lib: {
      // Two entries, the main one and `gradclip/reference`; what they share goes in a chunk.
      entry: {
        index: resolve(import.meta.dirname, 'src/index.ts'),
        reference: resolve(import.meta.dirname, 'src/reference/index.ts'),
      },
      formats: ['es'],
      fileName: (_format, name) => `${name}.js`,
    },
  },
});
