// The demo pages' GPUDevice: requested once, with `subgroups` and `timestamp-query` where the
// adapter offers them (as createClipper asks), and the adapter named in the page's #adapter line.
let devicePromise: Promise<GPUDevice> | null = null;

export function pageDevice(): Promise<GPUDevice> {
  devicePromise ??= (async () => {
    const adapter = await navigator.gpu?.requestAdapter();
    if (!adapter) throw new Error('WebGPU is not available in this browser');
    const wanted = ['subgroups', 'timestamp-query', 'shader-f16'] as GPUFeatureName[];
    const device = await adapter.requestDevice({ requiredFeatures: wanted.filter((f) => adapter.features.has(f)) });
    const info = adapter.info;
    const line = document.querySelector('#adapter');
    if (line)
      line.textContent = `Adapter: ${[info.vendor, info.architecture, info.description].filter(Boolean).join(' / ')} · features: ${[...device.features].join(', ')}`;
    return device;
  })();
  return devicePromise;
}
