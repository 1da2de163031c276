// What the CLIs share: build the demo pages with Vite, serve them on loopback (a secure context,
// which WebGPU needs), open one in the chosen browser (headless, WebGPU on) and hand it to `body`.
import { join, resolve } from 'node:path';
import { build, preview } from 'vite';
import type { BrowserName } from './browser-names';
import { type DemoPage, launchBrowser } from './browsers';

const root = resolve(import.meta.dirname, '..');

/** Builds and serves the pages, opens `path` in `browserName` and resolves with what `body` returns. */
export async function withBuiltPage<T>(
  path: string,
  browserName: BrowserName,
  body: (page: DemoPage, browser: { name: BrowserName; version: string }) => Promise<T>,
): Promise<T> {
  await build({ root, logLevel: 'warn', configFile: join(root, 'vite.config.ts') });
  const server = await preview({
    root,
    configFile: join(root, 'vite.config.ts'),
    preview: { host: '127.0.0.1', port: 0, strictPort: false },
  });
  const url = server.resolvedUrls?.local[0];
  if (!url) throw new Error('the preview server did not report its address');
  try {
    const browser = await launchBrowser(browserName);
    try {
      const page = await browser.open(new URL(path, url).href, { width: 1320, height: 1000 });
      return await body(page, { name: browser.name, version: browser.version });
    } finally {
      await browser.close();
    }
  } finally {
    await new Promise<void>((done) => server.httpServer.close(() => done()));
  }
}
