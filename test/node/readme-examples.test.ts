// Every README code block that a user would paste is a file under examples/ that a test runs as
// written; so is every block of docs/guide/ marked as one. A block is tied to its file by an HTML
// comment on the line before it:
//   <!-- example: examples/plain-node.mjs -->        the whole file
//   <!-- example: examples/webgpu-loop.ts#loop -->   the lines between `// #region loop` and
//                                                    `// #endregion loop` (every such span, joined)
// This test keeps each marked block equal to its file or region (common leading indentation
// aside), requires a marker on every ts/js block of "Install" and "Quick start", and runs
// the plain-Node example against this checkout's source. The other examples run in
// test/browser/examples.test.ts and, on Deno, in scripts/test-deno.sh.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

const root = resolve(import.meta.dirname, '../..');

/** Sections whose every ts/js block must be an example. */
const CHECKED_SECTIONS = ['Install', 'Quick start'];

interface Block {
  /** The Markdown file, repository-relative. */
  file: string;
  /** 1-based line of the opening fence. */
  line: number;
  language: string;
  text: string;
  /** The marker's target (`path` or `path#region`), when the line before the fence is one. */
  example: string | null;
  section: string;
}

function markdownBlocks(file: string): Block[] {
  const readme = readFileSync(join(root, file), 'utf8').split('\n');
  const blocks: Block[] = [];
  let section = '';
  for (let i = 0; i < readme.length; i++) {
    const heading = /^##\s+(.*)$/.exec(readme[i]);
    if (heading) section = heading[1].trim();
    const fence = /^```(\w*)\s*$/.exec(readme[i]);
    if (!fence) continue;
    const end = readme.findIndex((l, k) => k > i && /^```\s*$/.test(l));
    if (end < 0) throw new Error(`${file}:${i + 1}: unclosed code block`);
    const marker = i > 0 ? /^<!--\s*example:\s*(\S+)\s*-->\s*$/.exec(readme[i - 1]) : null;
    blocks.push({
      file,
      line: i + 1,
      language: fence[1],
      text: readme.slice(i + 1, end).join('\n'),
      example: marker?.[1] ?? null,
      section,
    });
    i = end;
  }
  return blocks;
}

/** `lines` without their common leading indentation (blank lines ignored), trailing blank lines dropped. */
function dedent(lines: string[]): string[] {
  const indents = lines.filter((l) => l.trim() !== '').map((l) => /^[ \t]*/.exec(l)![0].length);
  const common = indents.length ? Math.min(...indents) : 0;
  const out = lines.map((l) => (l.trim() === '' ? '' : l.slice(common).trimEnd()));
  while (out.length && out[out.length - 1] === '') out.pop();
  return out;
}

/** The text a marker names: a whole file, or every `// #region name` span of it, joined. */
function exampleText(target: string): string {
  const [path, region] = target.split('#');
  const lines = readFileSync(join(root, path), 'utf8').split('\n');
  if (!region) return dedent(lines).join('\n');
  const parts: string[] = [];
  let start = -1;
  lines.forEach((line, i) => {
    const trimmed = line.trim();
    if (trimmed === `// #region ${region}`) {
      if (start >= 0) throw new Error(`${path}:${i + 1}: region ${region} opened twice`);
      start = i + 1;
    } else if (trimmed === `// #endregion ${region}`) {
      if (start < 0) throw new Error(`${path}:${i + 1}: region ${region} closed before it opened`);
      parts.push(...dedent(lines.slice(start, i)));
      start = -1;
    }
  });
  if (start >= 0) throw new Error(`${path}: region ${region} is never closed`);
  if (!parts.length) throw new Error(`${path}: no region ${region}`);
  return dedent(parts).join('\n');
}

const blocks = markdownBlocks('README.md');
const examples = blocks.filter((b) => b.example);
const guides = readdirSync(join(root, 'docs/guide')).filter((f) => f.endsWith('.md'));
const guideExamples = guides.flatMap((f) => markdownBlocks(`docs/guide/${f}`)).filter((b) => b.example);

describe('README code blocks', () => {
  test('the two sections hold the marked blocks this suite expects', () => {
    expect(examples.map((b) => b.example)).toEqual(
      expect.arrayContaining(['examples/plain-node.mjs', 'examples/vite-main.ts', 'examples/webgpu-loop.ts#loop']),
    );
  });

  test('every ts/js block of "Install" and "Quick start" is marked as an example', () => {
    const unmarked = blocks.filter(
      (b) => CHECKED_SECTIONS.includes(b.section) && ['ts', 'js'].includes(b.language) && !b.example,
    );
    expect(unmarked.map((b) => `README.md:${b.line} (${b.section})`)).toEqual([]);
  });

  test.each(examples.map((b) => [b.example!, b] as const))('%s equals its README block', (_, block) => {
    expect(dedent(block.text.split('\n')).join('\n'), `README.md:${block.line}`).toBe(exampleText(block.example!));
  });
});

describe('docs/guide code blocks marked as examples', () => {
  test('the guides hold the marked blocks this suite expects', () => {
    expect(guideExamples.map((b) => b.example)).toEqual(
      expect.arrayContaining([
        'examples/deno.ts#main',
        'examples/worker.ts#worker',
        'examples/worker-page.ts#page',
        'examples/amp-loop.ts#amp',
        'examples/dp-loop.ts#loop',
        'examples/dp-loop.ts#sampler',
        'examples/dp-loop.ts#custom',
        'examples/stored-tuning.ts#tuning',
      ]),
    );
  });

  test.each(guideExamples.map((b) => [`${b.file}:${b.line} ${b.example}`, b] as const))(
    '%s equals its file',
    (_, block) => {
      expect(dedent(block.text.split('\n')).join('\n'), `${block.file}:${block.line}`).toBe(
        exampleText(block.example!),
      );
    },
  );
});

describe('examples/plain-node.mjs', () => {
  let work: string;
  beforeAll(async () => {
    // This checkout's source, built as `npm run build` builds it but into a scratch folder (dist/
    // may be missing or older than src/); a resolve hook maps the example's 'gradclip' to it.
    work = mkdtempSync(join(tmpdir(), 'gradclip-readme-'));
    await build({
      configFile: join(root, 'vite.lib.config.ts'),
      logLevel: 'silent',
      build: { outDir: join(work, 'dist'), emptyOutDir: true, sourcemap: false },
    });
    const built = pathToFileURL(join(work, 'dist/index.js')).href;
    writeFileSync(
      join(work, 'hooks.mjs'),
      `export async function resolve(specifier, context, nextResolve) {
  return specifier === 'gradclip' ? { url: ${JSON.stringify(built)}, shortCircuit: true } : nextResolve(specifier, context);
}\n`,
    );
    writeFileSync(
      join(work, 'register.mjs'),
      `import { register } from 'node:module';\nregister('./hooks.mjs', import.meta.url);\n`,
    );
  }, 120_000);
  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test('runs in plain Node on the CPU backend and prints 5', () => {
    const out = execFileSync(
      process.execPath,
      ['--import', pathToFileURL(join(work, 'register.mjs')).href, 'examples/plain-node.mjs'],
      {
        cwd: root,
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
    expect(out.trim()).toBe('5');
  });
});
