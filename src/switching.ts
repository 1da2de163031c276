// createClipper({ onDeviceLost: 'cpu' }): a clipper that runs on the GPU until its device is lost,
// then on the CPU backend. The GPU's sets die with the device (calls on them still throw
// 'device-lost', naming the reason); sets made after the loss, from Float32Arrays, run on the CPU.
import { CpuClipper } from './cpu-clipper';
import { GpuClipper } from './gpu-clipper';
import { GpuGradSet } from './gpu-set';
import { resolveSet } from './set-alias';
import type { Clipper, GradSet } from './types';

function isGpuSet(value: unknown): boolean {
  return typeof value === 'object' && value !== null && resolveSet(value as GradSet) instanceof GpuGradSet;
}

export function switchingClipper(gpu: GpuClipper, device: GPUDevice): Clipper {
  let cpu: CpuClipper | null = null;
  void device.lost.then((info) => (cpu = new CpuClipper(`the GPU device was lost (${info.reason}): ${info.message || 'no message'}`)));
  // Calls that name a GPU set go to the GPU clipper (which throws 'device-lost' once lost); every
  // other call goes to whichever backend is live.
  const namesGpuSet = (arg: unknown) => isGpuSet(arg) || (typeof arg === 'object' && arg !== null && Object.values(arg).some(isGpuSet));
  const route = (args: unknown[]) => (cpu && !args.some(namesGpuSet) ? cpu : gpu);
  return new Proxy(gpu as unknown as Clipper, {
    get(_, key) {
      if (key === 'destroy') {
        return () => {
          gpu.destroy();
          cpu?.destroy();
        };
      }
      const live = cpu ?? gpu;
      const value = Reflect.get(live, key, live);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        const target = route(args);
        return (Reflect.get(target, key, target) as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}
