import { playwright } from '@vitest/browser-playwright';
import { resolve } from 'node:path';
import { defineConfig } from 'vitest/config';
import { chromiumArgs, chromiumPath } from './demo/chromium.ts';
import { firefoxPath, firefoxPrefs } from './demo/firefox.ts';
import { puppeteerFirefox } from './test/firefox/puppeteer-provider.ts';

/** Real Chromium with WebGPU (the system build, see demo/chromium.ts). */
const browserTests = {
  setupFiles: ['test/browser/error-scopes.ts'],
  testTimeout: 120_000,
  hookTimeout: 120_000,
  browser: {
    enabled: true,
    headless: true,
    screenshotFailures: false,
    provider: playwright({ launchOptions: { executablePath: chromiumPath, args: chromiumArgs } }),
    instances: [{ browser: 'chromium' as const }],
  },
};

/** The same suite in Firefox ESR (wgpu), driven by puppeteer-core over WebDriver BiDi (test/firefox/). */
const firefoxTests = {
  ...browserTests,
  browser: {
    ...browserTests.browser,
    // WebGPU needs a secure context: a loopback address, whatever `localhost` resolves to.
    api: { host: '127.0.0.1' },
    provider: puppeteerFirefox({ executablePath: firefoxPath, prefs: firefoxPrefs }),
    instances: [{ browser: 'firefox' as const }],
  },
};

export default defineConfig({
  root: '.',
  // `import … from 'gradclip'` resolves to the source, in tests and pages alike.
  resolve: {
    alias: [
      { find: /^gradclip\/reference$/, replacement: resolve(import.meta.dirname, 'src/reference/index.ts') },
      { find: /^gradclip\/tfjs$/, replacement: resolve(import.meta.dirname, 'src/interop/index.ts') },
      { find: /^gradclip$/, replacement: resolve(import.meta.dirname, 'src/index.ts') },
    ],
  },
  // Pre-bundled up front: a dependency first met mid-test makes Vite reload the browser test.
  optimizeDeps: {
    include: [
      'uplot',
      '@tensorflow/tfjs-core',
      '@tensorflow/tfjs-backend-webgpu',
      '@tensorflow/tfjs-core/dist/register_all_gradients',
      '@tensorflow/tfjs-layers',
      '@tensorflow/tfjs-backend-cpu',
    ],
  },
  build: {
    outDir: 'dist-demo',
    // The page bundles TF.js (a benchmark peer), which is large by nature.
    chunkSizeWarningLimit: 4096,
    rollupOptions: {
      input: {
        bench: resolve(import.meta.dirname, 'demo/bench.html'),
        train: resolve(import.meta.dirname, 'demo/train.html'),
        gpt: resolve(import.meta.dirname, 'demo/gpt.html'),
        'read-latency': resolve(import.meta.dirname, 'demo/read-latency.html'),
        amp: resolve(import.meta.dirname, 'demo/amp.html'),
        dp: resolve(import.meta.dirname, 'demo/dp.html'),
      },
    },
  },
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: 'node',
          include: ['test/node/**/*.test.ts'],
          environment: 'node',
        },
      },
      {
        extends: true,
        test: { name: 'browser', include: ['test/browser/**/*.test.ts'], ...browserTests },
      },
      {
        // `npm run test:firefox`: the browser suite's files, unchanged, in Firefox (none skipped there).
        extends: true,
        test: { name: 'firefox', include: ['test/browser/**/*.test.ts'], ...firefoxTests },
      },
      {
        // Also in `npm run test:firefox`: the CLIs driving the demo pages in Firefox (Node side).
        extends: true,
        test: {
          name: 'firefox-pages',
          include: ['test/firefox/**/*.test.ts'],
          environment: 'node',
          testTimeout: 600_000,
        },
      },
      {
        // `npm run test:commands`: every documented command run on a fresh copy of the working tree.
        extends: true,
        test: {
          name: 'commands',
          include: ['test/commands/**/*.test.ts'],
          environment: 'node',
          testTimeout: 600_000,
        },
      },
      {
        // `npm run test:stress`: the 2 000-case GPU fuzz, the buffers beyond one binding, 10 000-step lifecycles.
        extends: true,
        test: { name: 'stress', include: ['test/stress/**/*.test.ts'], ...browserTests, testTimeout: 900_000 },
      },
    ],
  },
});
