// The browsers the CLIs can drive (demo/browsers.ts launches them); kept free of Node imports so
// that the flag parsers the pages also import can name them.
export const BROWSERS = ['chromium', 'firefox'] as const;
export type BrowserName = (typeof BROWSERS)[number];
