// A Vitest browser provider that opens Vitest's test pages in Firefox through puppeteer-core over
// WebDriver BiDi, so the browser suite's files run unchanged on a second engine (wgpu, not Dawn).
// Playwright's Firefox is a patched build it downloads, which these machines cannot fetch; the
// system firefox-esr is driven instead. It offers no provider commands (no test uses one).
import type { Browser, Page } from 'puppeteer-core';
import type { BrowserProvider, BrowserProviderOption, TestProject } from 'vitest/node';
import { defineBrowserProvider } from '@vitest/browser';

export interface PuppeteerFirefoxOptions {
  executablePath: string;
  /** about:config prefs of the fresh profile Puppeteer makes for each launch. */
  prefs: Record<string, boolean | string | number>;
}

class PuppeteerFirefoxProvider implements BrowserProvider {
  readonly name = 'puppeteer-firefox';
  readonly supportsParallelism = false;
  private browser: Promise<Browser> | null = null;
  private readonly pages = new Map<string, Page>();
  private closing = false;

  constructor(
    private readonly project: TestProject,
    private readonly options: PuppeteerFirefoxOptions,
  ) {}

  getCommandsContext(sessionId: string): Record<string, unknown> {
    return { page: this.pages.get(sessionId) };
  }

  async openPage(sessionId: string, url: string): Promise<void> {
    if (this.closing) throw new Error('[puppeteer-firefox] the provider was closed');
    const browser = await this.launch();
    await this.pages.get(sessionId)?.close();
    const page = await browser.newPage();
    this.pages.set(sessionId, page);
    page.on('pageerror', (error) => this.project.vitest.logger.error(`[firefox] page error: ${String(error)}`));
    await page.goto(url, { timeout: 0 });
  }

  async close(): Promise<void> {
    this.closing = true;
    const browser = await this.browser;
    this.browser = null;
    this.pages.clear();
    await browser?.close();
  }

  private launch(): Promise<Browser> {
    this.browser ??= import('puppeteer-core').then(({ default: puppeteer }) =>
      puppeteer.launch({
        browser: 'firefox',
        executablePath: this.options.executablePath,
        headless: this.project.config.browser.headless,
        extraPrefsFirefox: this.options.prefs,
      }),
    );
    return this.browser;
  }
}

/** The provider for a Vitest browser project whose one instance is `{ browser: 'firefox' }`. */
export function puppeteerFirefox(options: PuppeteerFirefoxOptions): BrowserProviderOption {
  return defineBrowserProvider({
    name: 'puppeteer-firefox',
    supportedBrowser: ['firefox'],
    options,
    providerFactory: (project) => new PuppeteerFirefoxProvider(project, options),
  });
}
