// How the Firefox test project and `--browser firefox` start Firefox: the system build (Debian's
// `firefox-esr`; Puppeteer cannot download one here), overridable with FIREFOX_PATH, driven over
// WebDriver BiDi. WebGPU is behind a pref on Linux; the other prefs keep it off the network
// (Puppeteer's own profile already disables updates, Safe Browsing and health reports).
export const firefoxPath = process.env.FIREFOX_PATH ?? '/usr/bin/firefox-esr';

export const firefoxPrefs: Record<string, boolean | string | number> = {
  'dom.webgpu.enabled': true,
  // The blocklist names software Vulkan (lavapipe), the only adapter on a machine without a GPU.
  'gfx.webgpu.ignore-blocklist': true,
  'toolkit.telemetry.enabled': false,
  'toolkit.telemetry.server': '',
  'network.captive-portal-service.enabled': false,
  'network.connectivity-service.enabled': false,
  'network.dns.disablePrefetch': true,
  'network.prefetch-next': false,
};
