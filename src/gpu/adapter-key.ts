// What a stored autotune result must match to be reused: the adapter's identity, whether it runs
// on the CPU (and on how many cores), the limits the plans use, and the tuning format (bumped when
// the kernels change what the cap means).
const TUNING_FORMAT = 1;

/** The key of `device`'s adapter for `ClipperTuning.adapterKey`. */
export function adapterKey(device: GPUDevice): string {
  const info = (device as GPUDevice & { adapterInfo?: Partial<GPUAdapterInfo> }).adapterInfo ?? {};
  const fallback = info.isFallbackAdapter === true;
  const cores = (globalThis.navigator as Navigator | undefined)?.hardwareConcurrency ?? 0;
  const { limits } = device;
  return [
    `gradclip-tuning/${TUNING_FORMAT}`,
    `vendor=${info.vendor ?? ''}`,
    `architecture=${info.architecture ?? ''}`,
    `device=${info.device ?? ''}`,
    `description=${info.description ?? ''}`,
    `fallback=${fallback}${fallback ? ` cores=${cores}` : ''}`,
    `limits=${limits.maxComputeWorkgroupsPerDimension},${limits.maxComputeInvocationsPerWorkgroup},${limits.maxStorageBufferBindingSize},${limits.maxStorageBuffersPerShaderStage}`,
    `features=${['subgroups', 'timestamp-query'].filter((f) => device.features.has(f)).join(',')}`,
  ].join('; ');
}
