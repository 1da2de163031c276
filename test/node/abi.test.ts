// The TypeScript↔WGSL interface is declared once (src/core/abi.ts) and reaches WGSL only as the
// generated prelude: no shader file declares an ABI value itself or compares a kernel selector
// (normKind, source, op, rule, summary, an optimizer's kind) with a bare number or writes a
// binding number (each is named in kernels/layouts.ts and emitted), and the structs
// both sides read have the sizes and offsets the ABI states.
import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, test } from 'vitest';
import { LAYOUT } from '../../src/core/abi';
import { WGSL_CONSTANTS, wgslAbiPrelude } from '../../src/kernels/prelude';
import * as wgsl from '../../src/kernels/wgsl';

const shaderRoot = resolve(import.meta.dirname, '../../shaders');
const shaderFiles = readdirSync(shaderRoot, { recursive: true })
  .map(String)
  .filter((f) => f.endsWith('.wgsl'))
  .map((f) => ({ name: f, code: readFileSync(join(shaderRoot, f), 'utf8') }));
/** Comments dropped, so prose may name values freely. */
const withoutComments = (code: string) => code.replace(/\/\/.*$/gm, '');

describe('shader files leave the ABI to the prelude', () => {
  test('there are shader files in every group', () => {
    expect(new Set(shaderFiles.map((f) => f.name.split('/')[0]))).toEqual(
      new Set(['adaptive', 'amp', 'common', 'norm', 'optimizer', 'privacy', 'segment']),
    );
  });

  test.each(shaderFiles)('$name declares no ABI constant', ({ code }) => {
    const declared = [...withoutComments(code).matchAll(/\bconst\s+(\w+)\s*:/g)].map((m) => m[1]);
    expect(declared.filter((name) => name in WGSL_CONSTANTS)).toEqual([]);
  });

  test.each(shaderFiles)('$name names every binding index from the layout table', ({ code }) => {
    const text = withoutComments(code);
    expect(text.match(/@binding\(\s*\d/g)).toBeNull();
    for (const [, name] of text.matchAll(/@binding\((\w+)\)/g)) {
      if (name !== 'SLOT_BINDING') expect(WGSL_CONSTANTS, name).toHaveProperty(name);
    }
  });

  test.each(shaderFiles)('$name compares no kernel selector with a bare number', ({ code }) => {
    const text = withoutComments(code);
    const selectors = '(?:normKind|source|op|rule|summary|kind|clipKind|state\\.mode)';
    expect(text.match(new RegExp(`\\b${selectors}\\s*[!=]=\\s*\\d+u?\\b`, 'g'))).toBeNull();
    expect(text.match(new RegExp(`\\boverride\\s+${selectors}\\s*:\\s*u32\\s*=\\s*\\d`, 'g'))).toBeNull();
    for (const [, body] of text.matchAll(new RegExp(`switch\\s+${selectors}\\s*\\{([\\s\\S]*?)\\n\\s*\\}`, 'g'))) {
      expect(body.match(/case\s+\d+u?\s*:/g)).toBeNull();
    }
  });
});

test('the prelude declares every ABI value once, as a u32 const', () => {
  const prelude = wgslAbiPrelude();
  for (const [name, value] of Object.entries(WGSL_CONSTANTS)) {
    expect(prelude.match(new RegExp(`^const ${name}: u32 = ${value}u;$`, 'gm'))).toHaveLength(1);
  }
});

test('every generated module carries the prelude', () => {
  const modules = [
    wgsl.normPartialsShader(4, 4, true),
    wgsl.normFinalizeShader(false),
    wgsl.elementwiseShader(3, 1),
    wgsl.segmentNormShader(2, 1, false),
    wgsl.segmentFinalizeShader(true),
    wgsl.segmentSummaryShader(false),
    wgsl.segmentScaleShader(2, 2),
    wgsl.perExampleSumShader(3, 1),
    wgsl.adaptiveThresholdShader(false),
    wgsl.optimizerPrepareShader(),
    wgsl.optimizerUpdateShader(4),
  ];
  for (const code of modules) expect(code).toContain(wgslAbiPrelude());
});

/** Byte offsets of a WGSL struct's fields, every one a 4-byte scalar (u32 or f32). */
function scalarStruct(name: string): { offsets: Record<string, number>; size: number } {
  const common = shaderFiles.find((f) => f.name === 'common/common.wgsl')!.code;
  const body = new RegExp(`struct ${name} \\{([\\s\\S]*?)\\n\\}`).exec(withoutComments(common))![1];
  const fields = [...body.matchAll(/(\w+)\s*:\s*(\w+)/g)];
  expect(fields.every(([, , type]) => type === 'u32' || type === 'f32')).toBe(true);
  return { offsets: Object.fromEntries(fields.map(([, field], i) => [field, 4 * i])), size: 4 * fields.length };
}

test('Params and NormResult have the sizes and offsets the ABI states', () => {
  expect(scalarStruct('Params').size).toBe(LAYOUT.PARAMS_BYTES);
  const result = scalarStruct('NormResult');
  expect(result.size).toBe(LAYOUT.RESULT_BYTES);
  expect(result.offsets.coef).toBe(LAYOUT.COEF_OFFSET);
  expect(result.offsets.flags).toBe(LAYOUT.FLAGS_OFFSET);
  expect(result.offsets.foundInf).toBe(LAYOUT.FOUND_INF_OFFSET);
  expect(result.offsets.threshold).toBe(LAYOUT.THRESHOLD_OFFSET);
});
