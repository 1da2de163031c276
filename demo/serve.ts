// What the CLIs share: build the demo pages with Vite, serve them on loopback, open one in the
// system Chromium (headless, WebGPU on) and hand the Playwright page to `body`.
import { join, resolve } from 'node:path';
import { chromium, type Page } from 'playwright';
import { build, preview } from 'vite';
import { chromiumArgs, chromiumPath } from './chromium';

const root = resolve(import.meta.dirname, '..');

export async function withBuiltPage<T>(path: string, body: (page: Page) => Promise<T>): Promise<T> {
  await build({ root, logLevel: 'warn', configFile: join(root, 'vite.config.ts') });
  const server = await preview({
    root,
    configFile: join(root, 'vite.config.ts'),
    preview: { host: '127.0.0.1', port: 0, strictPort: false },
  });
  const url = server.resolvedUrls?.local[0];
  if (!url) throw new Error('the preview server did not report its address');
  const browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs, headless: true });
  try {
    const page = await browser.newPage({ viewport: { width: 1320, height: 1000 } });
    page.on('pageerror', (error) => console.error(`page error: ${error.message}`));
    await page.goto(new URL(path, url).href);
    return await body(page);
  } finally {
    await browser.close();
    await new Promise<void>((done) => server.httpServer.close(() => done()));
  }
}
