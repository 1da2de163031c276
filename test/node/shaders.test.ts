// The generated WGSL, checked as text: the per-binding block is repeated once per slot with the
// right binding numbers, and the dispatcher switches on the slot once per chunk.
import { expect, test } from 'vitest';
import {
  adaptiveThresholdShader,
  elementwiseShader,
  normFinalizeShader,
  normPartialsShader,
  perExampleSumShader,
  segmentNormShader,
  segmentScaleShader,
} from '../../src/kernels/wgsl';

test('norm partials for 2 vec4 bindings', () => {
  const code = normPartialsShader(2, 2, true);
  expect(code.startsWith('// Workgroup-combine prelude for devices with the `subgroups` feature')).toBe(true);
  expect(code.indexOf('enable subgroups;')).toBeLessThan(code.indexOf('struct'));
  expect(code.match(/@group\(0\) @binding\(\d\) var<storage, read_write> grad_\d/g)).toEqual([
    '@group(0) @binding(1) var<storage, read_write> grad_0',
    '@group(0) @binding(2) var<storage, read_write> grad_1',
  ]);
  expect(code).toContain('fn sweep_1(offset: u32');
  expect(code).toContain('    case 0u: { return loadVec_0(index); }');
  expect(code).not.toMatch(/SLOT/);
  expect(code).toContain('    case 1u: { return sweep_1(offset, count, first, stride, p); }');
  expect(normPartialsShader(2, 2, false)).not.toContain('enable subgroups');
  expect(code).not.toContain('@per-');
});

test('scalar slots follow the vec4 slots and have no boundary cases', () => {
  const code = normPartialsShader(3, 1, false);
  expect(code.match(/var<storage, read_write> grad_\d: array<[^>]+>?>/g)).toEqual([
    'var<storage, read_write> grad_0: array<vec4<f32>>',
    'var<storage, read_write> grad_1: array<f32>',
    'var<storage, read_write> grad_2: array<f32>',
  ]);
  expect(code).toContain('    case 2u: { return sweep_2(offset, count, first, stride, p); }');
  expect(code).toContain('    case 0u: { return loadVec_0(index); }');
  expect(code).not.toContain('loadVec_1');
  const elementwise = elementwiseShader(2, 0);
  expect(elementwise).not.toMatch(/applyMasked_\d/);
  expect(elementwise).toContain('grad_1: array<f32>');
});

test('elementwise and finalize', () => {
  const code = elementwiseShader(3, 3);
  expect(code.match(/fn apply_\d/g)).toEqual(['fn apply_0', 'fn apply_1', 'fn apply_2']);
  expect(code).toContain('    case 1u: { applyMasked_1(index, mask, coef, lo, hi); }');
  expect(code).toContain('    case 2u: { apply_2(offset, count, first, stride, coef, lo, hi); }');
  expect(normFinalizeShader(false)).toContain('override source: u32');
  expect(normFinalizeShader(false)).not.toContain('@per-binding');
});

test('segment kernels reuse the per-binding reads and writes; the per-example sum binds read-only scalar views', () => {
  const norm = segmentNormShader(3, 2, false);
  expect(norm.match(/fn sweep_\d/g)).toEqual(['fn sweep_0', 'fn sweep_1', 'fn sweep_2']);
  expect(norm).toContain('var<storage, read> table: SegmentTable;');
  const scale = segmentScaleShader(3, 2);
  expect(scale).toContain('    case 1u: { applyMasked_1(index, mask, coef, lo, hi); }');
  expect(scale).not.toContain('applyMasked_2');
  const sum = perExampleSumShader(4, 1);
  expect(sum.match(/var<storage, read> view_\d: array<f32>/g)).toHaveLength(3);
  expect(sum).toContain('var<storage, read> view_0: array<vec4<f32>>');
  expect(sum).toContain('    case 3u: { sumLane_3(view, first, stride); }');
  expect(sum).toContain('    case 0u: { sumLane_0(view, first, stride); }');
  expect(sum).not.toMatch(/@per-|SLOT/);
  // The decision is shared: finalize and the adaptive thresholds write it through one function.
  expect(normFinalizeShader(false).match(/fn writeDecision/g)).toHaveLength(1);
  expect(adaptiveThresholdShader(false).match(/fn writeDecision/g)).toHaveLength(1);
});

test("f16 slots: `enable f16;` first, vec4<f16> and f16 bindings in the layout's range, every load widened to f32", () => {
  // 5 bindings: slot 0 f32 vec4, slots 1-2 f16 vec4, slot 3 f16 scalar, slot 4 f32 scalar.
  const read = normPartialsShader(5, 3, true, [1, 4]);
  expect(read.startsWith('enable f16;\n')).toBe(true);
  expect(read.indexOf('enable subgroups;')).toBeLessThan(read.indexOf('struct'));
  expect(read.match(/var<storage, read_write> grad_\d: array<[^>]+>?>/g)).toEqual([
    'var<storage, read_write> grad_0: array<vec4<f32>>',
    'var<storage, read_write> grad_1: array<vec4<f16>>',
    'var<storage, read_write> grad_2: array<vec4<f16>>',
    'var<storage, read_write> grad_3: array<f16>',
    'var<storage, read_write> grad_4: array<f32>',
  ]);
  expect(read).not.toMatch(/GRAD_T|SLOT/);
  // Every read of a binding goes through the widening loader (or f32() in a scalar block).
  expect(read.match(/grad_\d\[/g)!.length).toBe(
    (read.match(/return vec4<f32>\(grad_\d\[index\]\)/g) ?? []).length +
      (read.match(/f32\(grad_\d\[offset \+ i\]\)/g) ?? []).length,
  );
  const write = elementwiseShader(5, 3, [1, 4]);
  expect(write.startsWith('enable f16;\n')).toBe(true);
  expect(write).toContain('grad_2[index] = vec4<f16>(value);');
  expect(write).toContain('grad_3[offset + i] = f16(transform(');
  expect(write).toContain('grad_0[index] = vec4<f32>(value);');
  expect(segmentNormShader(5, 3, false, [1, 4]).startsWith('enable f16;\n')).toBe(true);
  expect(segmentScaleShader(5, 3, [1, 4])).toContain('array<vec4<f16>>');
  // Without f16 slots nothing changes: no directive, f32 everywhere.
  expect(normPartialsShader(5, 3, false)).not.toMatch(/enable f16|<f16>|f16\(/);
  expect(elementwiseShader(5, 3)).not.toMatch(/enable f16|<f16>|f16\(/);
});
