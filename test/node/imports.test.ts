// The house has no circles: no module of src/ or demo/ reaches itself through its imports (type-only
// imports count: they tie the modules' meaning together just the same), and src/'s folders are
// layers, each importing only the layers below it.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, test } from 'vitest';

const root = resolve(import.meta.dirname, '../..');

/** src/'s folders from the bottom up: a module may import its own folder and those before it. */
const SRC_LAYERS = ['core', 'reference', 'plan', 'kernels', 'cpu', 'gpu', 'api', 'interop'];

/** The package's names, as vite.config.ts and tsconfig.json alias them. */
const PACKAGE_ENTRIES: Record<string, string> = {
  gradclip: 'src/index.ts',
  'gradclip/reference': 'src/reference/index.ts',
  'gradclip/tfjs': 'src/interop/index.ts',
};

function sourceFiles(folder: string): string[] {
  return readdirSync(join(root, folder)).flatMap((name) => {
    const path = join(folder, name);
    if (statSync(join(root, path)).isDirectory()) return sourceFiles(path);
    return /\.(ts|mts)$/.test(name) && !name.endsWith('.d.ts') ? [path] : [];
  });
}

const IMPORT =
  /(?:^|[\s;])(?:import|export)\s[^'";]*?from\s*['"]([^'"]+)['"]|(?:^|[\s;])import\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

/** The project modules a file imports (repository-relative), by static, side-effect or dynamic import. */
function importsOf(file: string, text: string, exists: (path: string) => boolean): string[] {
  const found: string[] = [];
  // Examples in comments (`@example import … from 'gradclip'`) are not imports.
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  for (const match of code.matchAll(IMPORT)) {
    const specifier = (match[1] ?? match[2] ?? match[3]).replace(/\?.*$/, '');
    let target: string | undefined;
    if (specifier in PACKAGE_ENTRIES) target = PACKAGE_ENTRIES[specifier];
    else if (specifier.startsWith('.')) {
      const base = relative(root, resolve(root, dirname(file), specifier));
      target = [base, `${base}.ts`, join(base, 'index.ts'), base.replace(/\.js$/, '.ts')].find(exists);
    }
    if (target?.endsWith('.ts')) found.push(target);
  }
  return found;
}

/** Every cycle's members (Tarjan's strongly connected components of more than one node, or a self-loop). */
function cycles(graph: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (node: string) => {
    index.set(node, next);
    low.set(node, next++);
    stack.push(node);
    onStack.add(node);
    for (const to of graph.get(node) ?? []) {
      if (!index.has(to)) {
        visit(to);
        low.set(node, Math.min(low.get(node)!, low.get(to)!));
      } else if (onStack.has(to)) low.set(node, Math.min(low.get(node)!, index.get(to)!));
    }
    if (low.get(node) !== index.get(node)) return;
    const component: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      component.push(member);
    } while (member !== node);
    if (component.length > 1 || (graph.get(node) ?? []).includes(node)) found.push(component.sort());
  };
  for (const node of graph.keys()) if (!index.has(node)) visit(node);
  return found;
}

const files = [...sourceFiles('src'), ...sourceFiles('demo')];
const known = new Set(files);
const fileGraph = new Map(
  files.map((file) => [file, importsOf(file, readFileSync(join(root, file), 'utf8'), (p) => known.has(p))]),
);

/** src/'s folder of a file (`index.ts` at its top stands above every layer). */
const layerOf = (file: string) => (file.split('/').length > 2 ? file.split('/')[1] : 'index.ts');

describe('imports', () => {
  test('the reader finds the imports of every kind, and cycles of any length', () => {
    const text = `/** @example import { z } from './z'; */\n// import './zz';\nimport type { A } from './a';\nexport { B } from "../b";\nimport './c';\nconst d = await import('./d');\nimport x from 'gradclip';`;
    const exists = (p: string) => ['src/x/a.ts', 'src/b.ts', 'src/x/c.ts', 'src/x/d.ts', 'src/index.ts'].includes(p);
    expect(importsOf('src/x/y.ts', text, exists)).toEqual([
      'src/x/a.ts',
      'src/b.ts',
      'src/x/c.ts',
      'src/x/d.ts',
      'src/index.ts',
    ]);
    const graph = new Map([
      ['a', ['b']],
      ['b', ['c']],
      ['c', ['a']],
      ['d', ['d']],
      ['e', ['a']],
    ]);
    expect(cycles(graph)).toEqual([['a', 'b', 'c'], ['d']]);
  });

  test('no module of src/ or demo/ imports itself through others', () => {
    expect(files.length).toBeGreaterThan(80);
    expect([...fileGraph.values()].flat().length).toBeGreaterThan(300);
    expect(cycles(fileGraph)).toEqual([]);
  });

  test("src/'s folders are layers: each imports only its own and those below it", () => {
    const upward: string[] = [];
    const folders = new Map<string, Set<string>>();
    for (const [file, imports] of fileGraph) {
      if (!file.startsWith('src/')) continue;
      const from = layerOf(file);
      for (const target of imports) {
        const to = layerOf(target);
        if (from === to) continue;
        folders.set(from, (folders.get(from) ?? new Set()).add(to));
        if (from !== 'index.ts' && SRC_LAYERS.indexOf(to) > SRC_LAYERS.indexOf(from))
          upward.push(`${file} → ${target}`);
      }
    }
    expect([...folders.keys()].filter((f) => f !== 'index.ts' && !SRC_LAYERS.includes(f))).toEqual([]);
    expect(upward).toEqual([]);
    expect(cycles(new Map([...folders].map(([from, to]) => [from, [...to]])))).toEqual([]);
  });
});
