// PipelineCache.prebuild against a stand-in device that records what it is asked to build.
import { expect, test } from 'vitest';
import { PipelineCache } from '../../src/kernels/pipeline-cache';

function fakeDevice(failing: readonly string[] = []) {
  const calls = { sync: [] as string[], async: [] as string[] };
  const pipeline = (label?: string) => ({ label }) as GPUComputePipeline;
  const device = {
    createComputePipeline: (d: GPUComputePipelineDescriptor) => {
      calls.sync.push(d.label!);
      return pipeline(d.label);
    },
    createComputePipelineAsync: async (d: GPUComputePipelineDescriptor) => {
      calls.async.push(d.label!);
      if (failing.some((key) => d.label!.endsWith(key))) throw new Error('compile error');
      return pipeline(d.label);
    },
  } as unknown as GPUDevice;
  return { device, calls };
}

const layout = {} as GPUPipelineLayout;
const module = {} as GPUShaderModule;

test('prebuild starts every missing pipeline at once, each key once, and later gets are cached', async () => {
  const { device, calls } = fakeDevice();
  const cache = new PipelineCache(device, 64);
  cache.pipeline('built already', layout, module, {});
  await cache.prebuild(() => {
    for (const key of ['a', 'b', 'a', 'built already']) cache.pipeline(key, layout, module, { k: 1 });
    // Every build was started before any finished: all asked within this one call.
    expect(calls.async).toEqual(['gradclip a', 'gradclip b']);
  });
  expect(cache.pipeline('a', layout, module, {}).label).toBe('gradclip a');
  expect(cache.pipeline('b', layout, module, {}).label).toBe('gradclip b');
  expect(calls.sync).toEqual(['gradclip built already']);
});

test('a build that fails is left to recording; an ask that throws ends the asking', async () => {
  const { device, calls } = fakeDevice(['bad']);
  const cache = new PipelineCache(device, 64);
  await cache.prebuild(() => {
    cache.pipeline('bad', layout, module, {});
    cache.pipeline('good', layout, module, {});
  });
  cache.pipeline('bad', layout, module, {});
  cache.pipeline('good', layout, module, {});
  expect(calls.sync).toEqual(['gradclip bad']);
  await expect(
    cache.prebuild(() => {
      throw new Error('asked wrongly');
    }),
  ).rejects.toThrow('asked wrongly');
  cache.pipeline('after', layout, module, {});
  expect(calls.sync).toEqual(['gradclip bad', 'gradclip after']);
});
