// The demo pages' GPUDevice: requested once, with `subgroups`, `timestamp-query` and `shader-f16`
// where the adapter offers them (as createClipper asks), and the adapter named in the page's
// #adapter line.
let requested: Promise<{ device: GPUDevice; info: GPUAdapterInfo }> | null = null;

function request() {
  requested ??= (async () => {
    const adapter = await navigator.gpu?.requestAdapter();
    if (!adapter) throw new Error('WebGPU is not available in this browser');
    const wanted = ['subgroups', 'timestamp-query', 'shader-f16'] as GPUFeatureName[];
    const device = await adapter.requestDevice({ requiredFeatures: wanted.filter((f) => adapter.features.has(f)) });
    const { info } = adapter;
    const line = document.querySelector('#adapter');
    if (line) line.textContent = `Adapter: ${adapterName(info)} · features: ${[...device.features].join(', ')}`;
    return { device, info };
  })();
  return requested;
}

/** The adapter as a person reads it: vendor / architecture / description, and whether it is a CPU (fallback) adapter. */
export function adapterName(info: GPUAdapterInfo): string {
  const name = [info.vendor, info.architecture, info.description].filter(Boolean).join(' / ') || 'unnamed';
  return info.isFallbackAdapter ? `${name} (a fallback adapter: software on the CPU)` : name;
}

export async function pageDevice(): Promise<GPUDevice> {
  return (await request()).device;
}

/** The page device's adapter info (`isFallbackAdapter` chooses the demos' sizes). */
export async function pageAdapterInfo(): Promise<GPUAdapterInfo> {
  return (await request()).info;
}
