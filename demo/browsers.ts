// The browsers the CLIs (and the Firefox bench-page test) drive, behind one small page interface:
// Chromium through Playwright, Firefox through puppeteer-core over WebDriver BiDi (Playwright's
// Firefox is a patched build that cannot be downloaded here). Each is the system package,
// installed by scripts/ensure-<browser>.sh when missing.
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { chromium } from 'playwright';
import puppeteer from 'puppeteer-core';
import { chromiumArgs, chromiumPath } from './chromium';
import type { BrowserName } from './browser-names';
import { firefoxPath, firefoxPrefs } from './firefox';

export { BROWSERS, type BrowserName } from './browser-names';

/** What the CLIs do with a page, whichever library drives it. */
export interface DemoPage {
  /** Runs `fn(arg)` in the page and resolves with its (JSON-serialisable) result; no time limit. */
  evaluate<A, R>(fn: (arg: A) => R | Promise<R>, arg: A): Promise<R>;
  /** Resolves once `fn()` is truthy in the page; no time limit. */
  waitForFunction(fn: () => unknown): Promise<void>;
  /** Makes `window[name](…)` call `fn` in Node (its result is not returned to the page). */
  exposeFunction(name: string, fn: (...args: never[]) => unknown): Promise<void>;
  /** Writes a PNG of the first element matching `selector`. */
  screenshot(selector: string, path: string): Promise<void>;
}

export interface LaunchedBrowser {
  name: BrowserName;
  /** As the browser reports it, e.g. `firefox/153.8.0` or `156.0.…`. */
  version: string;
  /** A new page of the given size, loaded from `url`; page errors go to stderr. */
  open(url: string, viewport: { width: number; height: number }): Promise<DemoPage>;
  close(): Promise<void>;
}

const root = resolve(import.meta.dirname, '..');

/** Starts the browser headless with WebGPU on, installing its system package first when missing (see scripts/). */
export async function launchBrowser(name: BrowserName): Promise<LaunchedBrowser> {
  execFileSync('bash', [resolve(root, `scripts/ensure-${name}.sh`)], { stdio: 'inherit' });
  return name === 'chromium' ? launchChromium() : launchFirefox();
}

async function launchChromium(): Promise<LaunchedBrowser> {
  const browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs, headless: true });
  return {
    name: 'chromium',
    version: browser.version(),
    async open(url, viewport) {
      const page = await browser.newPage({ viewport });
      page.on('pageerror', (error) => console.error(`page error: ${error.message}`));
      await page.goto(url);
      return {
        evaluate: (fn, arg) => page.evaluate(fn as (arg: unknown) => never, arg),
        waitForFunction: async (fn) => void (await page.waitForFunction(fn, undefined, { timeout: 0 })),
        exposeFunction: async (exposed, fn) => void (await page.exposeFunction(exposed, fn)),
        screenshot: async (selector, path) => void (await page.locator(selector).screenshot({ path })),
      };
    },
    close: () => browser.close(),
  };
}

async function launchFirefox(): Promise<LaunchedBrowser> {
  const browser = await puppeteer.launch({
    browser: 'firefox',
    executablePath: firefoxPath,
    headless: true,
    extraPrefsFirefox: firefoxPrefs,
    // A benchmark's evaluate runs for minutes; Puppeteer's default would cut it at 180 s.
    protocolTimeout: 0,
  });
  return {
    name: 'firefox',
    version: await browser.version(),
    async open(url, viewport) {
      const page = await browser.newPage();
      await page.setViewport(viewport);
      page.on('pageerror', (error) => console.error(`page error: ${String(error)}`));
      await page.goto(url);
      return {
        evaluate: (fn, arg) => page.evaluate(fn as (arg: unknown) => never, arg),
        waitForFunction: async (fn) => void (await page.waitForFunction(fn, { timeout: 0 })),
        exposeFunction: (exposed, fn) => page.exposeFunction(exposed, fn),
        screenshot: async (selector, path) => {
          const element = await page.waitForSelector(selector);
          if (!element) throw new Error(`no element matches ${selector}`);
          await element.screenshot({ path: path as `${string}.png` });
        },
      };
    },
    close: () => browser.close(),
  };
}
