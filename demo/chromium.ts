// How the tests and the benchmark CLI start Chromium: the system build (Debian's package;
// `npx playwright install` cannot download one here), overridable with CHROMIUM_PATH, with WebGPU
// exposed headless and background networking off (the machine has no network).
export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export const chromiumArgs = [
  '--no-sandbox',
  '--enable-unsafe-webgpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
