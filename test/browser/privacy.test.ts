// DP-SGD on WebGPU: clipPerExample with padding examples, Gaussian noise and a divisor against the
// float64 reference (reference/modes.ts, its noise from reference/philox.ts); the kernel's Philox
// words bit for bit the reference's and its uniforms the reference's rounded to f32; the noise bit
// for bit the same for the same (seed, step) and independent across coordinates, steps and seeds, over
// millions of samples (mean, variance, tails, correlations); and its bad inputs. Then the private
// optimizer's cases (test/shared/privacy-cases.ts) on WebGPU and on the CPU backend.
import { describe, expect, test } from 'vitest';
import { createClipper, type Clipper, type GradView } from '../../src/index';
import { gaussianOf, perExampleReference, philox4x32, uniformOfWord } from '../../src/reference/index';
import noiseWgsl from '../../shaders/privacy/noise.wgsl?raw';
import { PRIVACY_CASES } from '../shared/privacy-cases';
import { randomGradient, seededRandom } from '../shared/random';
import { cpuTensors, gpuTensors } from '../shared/tensors';
import { thrown } from '../shared/thrown';
import { readBack, sharedDevice, upload, withErrorScopes } from './gpu';
import { readBytes } from '../shared/read-bytes';

let clipper: Clipper;
let device: GPUDevice;

async function setup() {
  device ??= await sharedDevice();
  clipper ??= await createClipper({ device, maxWorkgroups: 8 });
}

/** Views of `lengths` per-example elements × `batch` examples in one buffer at odd offsets, from `arrays`. */
function perExampleViews(arrays: Float32Array[]): { views: GradView[]; buffer: GPUBuffer } {
  const offsets: number[] = [];
  let at = 1;
  for (const a of arrays) {
    offsets.push(at);
    at += a.length + 3;
  }
  const whole = new Float32Array(at + 1).fill(7e30);
  arrays.forEach((a, i) => whole.set(a, offsets[i]));
  const buffer = upload(device, whole);
  return { buffer, views: arrays.map((a, i) => ({ buffer, offset: offsets[i] * 4, length: a.length })) };
}

/** Reads the sums `clipPerExample` returned as Float32Arrays, one per view. */
async function readSums(sum: GradView[]): Promise<Float32Array[]> {
  const all = await readBack(device, (sum[0] as { buffer: GPUBuffer }).buffer);
  return sum.map((v) => {
    const { offset, length } = v as { offset: number; length: number };
    return all.slice(offset / 4, offset / 4 + length);
  });
}

/**
 * Runs `code`'s `main` once per case (64 a workgroup) over `inputs` (binding 0) into an output of the
 * same size (binding 1), and returns the output's bytes.
 */
async function runTestKernel(
  label: string,
  code: string,
  inputs: Uint32Array<ArrayBuffer>,
  cases: number,
): Promise<ArrayBuffer> {
  const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
  const input = device.createBuffer({ label: `${label} inputs`, size: inputs.byteLength, usage });
  const output = device.createBuffer({ label: `${label} outputs`, size: inputs.byteLength, usage });
  device.queue.writeBuffer(input, 0, inputs);
  try {
    return await withErrorScopes(device, async () => {
      const pipeline = device.createComputePipeline({
        label,
        layout: 'auto',
        compute: { module: device.createShaderModule({ label, code }), entryPoint: 'main' },
      });
      const encoder = device.createCommandEncoder();
      const pass = encoder.beginComputePass();
      pass.setPipeline(pipeline);
      pass.setBindGroup(
        0,
        device.createBindGroup({
          layout: pipeline.getBindGroupLayout(0),
          entries: [
            { binding: 0, resource: { buffer: input } },
            { binding: 1, resource: { buffer: output } },
          ],
        }),
      );
      pass.dispatchWorkgroups(Math.ceil(cases / 64));
      pass.end();
      device.queue.submit([encoder.finish()]);
      return readBytes(device, output);
    });
  } finally {
    input.destroy();
    output.destroy();
  }
}

describe('clipPerExample with DP-SGD options', () => {
  test('examples < batchSize: padding holding NaN or 1e30 is never read; noise and divisor as the float64 reference', async () => {
    await setup();
    const random = seededRandom(4);
    const batch = 6;
    const examples = 4;
    const exampleLengths = [1, 7, 300, 4097];
    for (const padding of [Number.NaN, 1e30]) {
      const arrays = exampleLengths.map((n) => {
        const a = randomGradient(n * batch, random);
        a.fill(padding, n * examples);
        return a;
      });
      const { views, buffer } = perExampleViews(arrays);
      const set = clipper.gradients(views);
      const options = { examples, noise: { multiplier: 1.1, seed: 123456789n, step: 9 }, divisor: 5 };
      const result = await withErrorScopes(device, async () => {
        const r = clipper.clipPerExample(set, { batchSize: batch, maxNorm: 2, ...options });
        return {
          sums: await readSums(r.sum),
          numClipped: await r.numClipped.read(),
          foundInf: await r.numClipped.readFoundInf(),
        };
      });
      const noise = { std: 1.1 * 2, seed: 123456789n, step: 9 };
      const reference = perExampleReference(arrays, batch, 2, { examples, noise, divisor: 5 });
      expect(result.numClipped).toBe(reference.numClipped);
      expect(result.foundInf, 'padding never reaches the found-inf flag').toBe(false);
      reference.sums.forEach((sum, v) =>
        sum.forEach((e, j) =>
          expect(Math.abs(result.sums[v][j] - e), `padding ${padding}: view ${v}[${j}]`).toBeLessThanOrEqual(
            2e-5 * (1 + Math.abs(e)),
          ),
        ),
      );
      buffer.destroy();
    }
  });

  test('the same (seed, step) gives the same noise bit for bit; another step or seed other noise', async () => {
    await setup();
    const zeros = perExampleViews([new Float32Array(2 * 1000)]);
    const set = clipper.gradients(zeros.views);
    const draw = async (seed: bigint | number, step: number) =>
      (
        await readSums(
          clipper.clipPerExample(set, { batchSize: 2, maxNorm: 1, noise: { multiplier: 1, seed, step } }).sum,
        )
      )[0];
    const a = await draw(42n, 3);
    const b = await draw(42, 3);
    expect(Array.from(b)).toEqual(Array.from(a));
    expect(Array.from(await draw(42n, 4))).not.toEqual(Array.from(a));
    expect(Array.from(await draw(43n, 3))).not.toEqual(Array.from(a));
    // Without a seed each call draws a fresh one.
    const fresh = async () =>
      (await readSums(clipper.clipPerExample(set, { batchSize: 2, maxNorm: 1, noise: { multiplier: 1 } }).sum))[0];
    expect(Array.from(await fresh())).not.toEqual(Array.from(await fresh()));
    zeros.buffer.destroy();
  });

  test('the GPU normals against the float64 Box–Muller of the same Philox words: the largest difference', async () => {
    await setup();
    const n = 1 << 16;
    const zeros = perExampleViews([new Float32Array(n)]);
    const set = clipper.gradients(zeros.views);
    const seed = 0xfeedfacecafebeefn;
    const [gpu] = await readSums(
      clipper.clipPerExample(set, { batchSize: 1, maxNorm: 1, noise: { multiplier: 1, seed, step: 77 } }).sum,
    );
    let worst = 0;
    for (let i = 0; i < n; i++) worst = Math.max(worst, Math.abs(gpu[i] - gaussianOf(seed, 77, i)));
    console.log(`GPU normals vs float64 over ${n}: largest absolute difference ${worst.toExponential(2)}`);
    expect(worst).toBeLessThan(5e-6);
    zeros.buffer.destroy();
  });

  test('Box–Muller of words whose uniform is near 1 (r small) matches float64 to 1e-6', async () => {
    await setup();
    // Past ½ a uniform rounds in f32 (to 1 for the largest words), and near 1 that half unit once
    // moved r = sqrt(-2 ln u) by up to 2.4e-4; ln u now comes from the word itself there.
    const firsts = [0xffffffff, 0xffffff00, 0xfffffe7f, 0xfffff000, 0xffff0000, 0xf0000000, 0xefffffff, 0x80000000];
    const random = seededRandom(5);
    while (firsts.length < 4096) firsts.push(0xff000000 + Math.floor(random() * 2 ** 24));
    const seconds = firsts.map(() => Math.floor(random() * 2 ** 32) >>> 0);
    const code = `${noiseWgsl}
@group(0) @binding(0) var<storage, read> inputs: array<vec2<u32>>;
@group(0) @binding(1) var<storage, read_write> outputs: array<vec2<f32>>;
@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) id: vec3<u32>) {
  if (id.x >= arrayLength(&inputs)) { return; }
  outputs[id.x] = boxMuller(inputs[id.x].x, inputs[id.x].y);
}`;
    const inputs = new Uint32Array(firsts.flatMap((w, i) => [w, seconds[i]]));
    const normals = new Float32Array(await runTestKernel('box-muller test', code, inputs, firsts.length));
    let worst = 0;
    firsts.forEach((w, i) => {
      const r = Math.sqrt(-2 * Math.log(uniformOfWord(w)));
      const angle = 2 * Math.PI * uniformOfWord(seconds[i]);
      worst = Math.max(
        worst,
        Math.abs(normals[2 * i] - r * Math.cos(angle)),
        Math.abs(normals[2 * i + 1] - r * Math.sin(angle)),
      );
    });
    console.log(`Box–Muller near u = 1: largest absolute difference from float64 ${worst.toExponential(2)}`);
    expect(worst).toBeLessThan(1e-6);
  });

  test("the kernel's Philox words equal philox4x32's bit for bit; its uniforms are float64's rounded to f32 (Random123's vectors, 65 536 random counters, keys and words)", async () => {
    await setup();
    // noise.wgsl's own philox on each (counter, key) of the inputs, and its uniformOfWord on the
    // counter's four words (so the words include chosen edge cases).
    const code = `${noiseWgsl}
@group(0) @binding(0) var<storage, read> inputs: array<vec4<u32>>;   // per case: the counter, then (key, -, -)
@group(0) @binding(1) var<storage, read_write> outputs: array<vec4<u32>>; // per case: the words, then the counter's uniforms' bits
@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) id: vec3<u32>) {
  if (id.x >= arrayLength(&inputs) / 2u) { return; }
  let counter = inputs[2u * id.x];
  outputs[2u * id.x] = philox(counter, inputs[2u * id.x + 1u].xy);
  outputs[2u * id.x + 1u] = vec4<u32>(bitcast<u32>(uniformOfWord(counter.x)), bitcast<u32>(uniformOfWord(counter.y)),
    bitcast<u32>(uniformOfWord(counter.z)), bitcast<u32>(uniformOfWord(counter.w)));
}`;
    const random = seededRandom(77);
    const word = () => Math.floor(random() * 2 ** 32) >>> 0;
    const cases: Array<[number[], number[]]> = [
      [
        [0, 0, 0, 0],
        [0, 0],
      ],
      [
        [0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff],
        [0xffffffff, 0xffffffff],
      ],
      [
        [0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344],
        [0xa4093822, 0x299f31d0],
      ],
      [
        [0xff, 0x7fffffff, 0x80000000, 0xffffff00],
        [1, 2],
      ],
    ];
    while (cases.length < 1 << 16)
      cases.push([
        [word(), word(), word(), word()],
        [word(), word()],
      ]);
    const inputs = new Uint32Array(8 * cases.length);
    cases.forEach(([counter, key], i) => inputs.set([...counter, ...key, 0, 0], 8 * i));
    const outputs = new Uint32Array(await runTestKernel('philox test', code, inputs, cases.length));
    const floatOf = (bits: number) => new Float32Array(Uint32Array.of(bits).buffer)[0];
    const wrongWords: number[] = [];
    const wrongUniforms: string[] = [];
    let ties = 0;
    let tiesUp = 0;
    let tiesToEven = 0;
    cases.forEach(([counter, key], i) => {
      const words = philox4x32(counter as [number, number, number, number], key as [number, number]);
      if (words.some((w, k) => outputs[8 * i + k] !== w)) wrongWords.push(i);
      counter.forEach((w, k) => {
        // Below 2^31, ((w >> 8) + 0.5) / 2^24 has 24 significant bits: exact in f32. From 2^31 on it
        // needs 25 and lies halfway between two f32s; WGSL's correctly rounded add may give either.
        const u = uniformOfWord(w);
        const gpu = floatOf(outputs[8 * i + 4 + k]);
        const exact = w < 2 ** 31;
        if (exact ? gpu !== u : Math.abs(gpu - u) !== 2 ** -25) wrongUniforms.push(`${w.toString(16)}: ${gpu} vs ${u}`);
        if (!exact) {
          ties++;
          if (gpu > u) tiesUp++;
          // Half to even: up exactly when w >> 8 is odd.
          if (gpu > u === ((w >>> 8) % 2 === 1)) tiesToEven++;
        }
      });
    });
    console.log(
      `Philox words: ${cases.length - wrongWords.length} of ${cases.length} cases bit for bit; uniforms of words >= 2^31: ` +
        `${tiesUp} of ${ties} rounded up, ${tiesToEven} as half to even; uniformOfWord(0xffffffff) on the GPU: ${floatOf(outputs[12])}`,
    );
    expect(wrongWords, 'cases whose Philox words differ').toEqual([]);
    expect(wrongUniforms.slice(0, 5), 'uniforms that are not float64 rounded to f32').toEqual([]);
    expect(floatOf(outputs[4]), 'uniformOfWord(0)').toBe(2 ** -25);
    expect(Array.from(outputs.subarray(0, 4), (w) => w.toString(16).padStart(8, '0')).join(' ')).toBe(
      '6627e8d5 e169c58d bc57ac4c 9b00dbd8',
    );
  });

  test('four million GPU normals: mean, variance, tails, and no correlation between neighbours, steps or seeds', async () => {
    await setup();
    const n = 1 << 20;
    const zeros = perExampleViews([new Float32Array(n)]);
    const set = clipper.gradients(zeros.views);
    const draw = async (seed: bigint, step: number) =>
      (
        await readSums(
          clipper.clipPerExample(set, { batchSize: 1, maxNorm: 1, noise: { multiplier: 1, seed, step } }).sum,
        )
      )[0];
    const streams = [await draw(1n, 0), await draw(1n, 1), await draw(2n, 0), await draw(2n ** 63n + 5n, 2 ** 40)];
    const all = streams.flatMap((s) => Array.from(s));
    const count = all.length;
    const mean = all.reduce((a, b) => a + b, 0) / count;
    const variance = all.reduce((a, b) => a + (b - mean) ** 2, 0) / count;
    const beyond = (k: number) => all.filter((x) => Math.abs(x) > k).length / count;
    // Standard errors: mean 1/√N (5e-4), variance √(2/N) (7e-4).
    expect(Math.abs(mean)).toBeLessThan(4 * (1 / Math.sqrt(count)));
    expect(Math.abs(variance - 1)).toBeLessThan(4 * Math.sqrt(2 / count));
    expect(beyond(2)).toBeCloseTo(0.0455, 3);
    expect(beyond(3)).toBeCloseTo(0.0027, 3);
    expect(all.reduce((m, x) => Math.max(m, Math.abs(x)), 0)).toBeLessThan(6.5);
    const correlation = (a: ArrayLike<number>, b: ArrayLike<number>, shift = 0) => {
      let sum = 0;
      for (let i = 0; i + shift < a.length; i++) sum += a[i] * b[i + shift];
      return sum / (a.length - shift);
    };
    const bound = 4 / Math.sqrt(n);
    expect(Math.abs(correlation(streams[0], streams[0], 1)), 'neighbours').toBeLessThan(bound);
    expect(Math.abs(correlation(streams[0], streams[0], 2)), 'the two pairs of a block').toBeLessThan(bound);
    expect(Math.abs(correlation(streams[0], streams[0], 4)), 'consecutive blocks').toBeLessThan(bound);
    expect(Math.abs(correlation(streams[0], streams[1])), 'steps').toBeLessThan(bound);
    expect(Math.abs(correlation(streams[0], streams[2])), 'seeds').toBeLessThan(bound);
    zeros.buffer.destroy();
  }, 300_000);

  test('bad DP options are GradclipErrors naming them, before anything is recorded', async () => {
    await setup();
    const { views, buffer } = perExampleViews([new Float32Array(8)]);
    const set = clipper.gradients(views);
    const cases: Array<[object, RegExp]> = [
      [{ noise: { multiplier: -1 } }, /noise.multiplier must be a number in \[0, Infinity\)/],
      [{ examples: 5 }, /examples must be an integer in \[0, 4\]/],
      [{ noise: { multiplier: 1, sigma: 2 } }, /options.noise.sigma is not an option/],
      [{ noise: { multiplier: 1, seed: -1 } }, /noise.seed must be an integer in \[0, 2\^64\)/],
      [{ noise: { multiplier: 1, seed: 2n ** 64n } }, /noise.seed must be an integer in \[0, 2\^64\)/],
      [{ noise: { multiplier: 1, step: 1.5 } }, /noise.step must be an integer/],
      [{ divisor: 0 }, /divisor must be a number in \(0, Infinity\)/],
      [{ maxNorm: Infinity, noise: { multiplier: 1 } }, /noise needs a finite maxNorm/],
    ];
    for (const [options, message] of cases) {
      const error = thrown(() => clipper.clipPerExample(set, { batchSize: 4, maxNorm: 1, ...options }));
      expect(error.code, String(message)).toBe('invalid-argument');
      expect(error.message).toMatch(message);
    }
    buffer.destroy();
  });
});

describe('the private optimizer (createOptimizer with privacy) on WebGPU', async () => {
  const gpuDevice = await sharedDevice();
  const tensors = gpuTensors(gpuDevice, await createClipper({ device: gpuDevice, maxWorkgroups: 4 }));
  for (const [name, run] of Object.entries(PRIVACY_CASES))
    test(name, () => withErrorScopes(gpuDevice, () => run(tensors)));
});

describe('the private optimizer on the CPU backend (browser)', async () => {
  const tensors = cpuTensors(await createClipper({ backend: 'cpu' }), () => createClipper({ backend: 'cpu' }));
  for (const [name, run] of Object.entries(PRIVACY_CASES)) test(name, () => run(tensors));
});
