// After `tsc -p tsconfig.build.json`: gives the relative specifiers in dist/**/*.d.ts their `.js`
// extension, which Node's ESM resolution (TypeScript's node16 / nodenext) requires and bundler
// resolution accepts. The sources import files without extensions, as Vite expects.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const dist = new URL('../dist/', import.meta.url).pathname;
const relative = /(from\s+|import\()(['"])(\.{1,2}\/[^'"]+?)(?<!\.js)\2/g;
for (const name of readdirSync(dist, { recursive: true }).filter((f) => f.endsWith('.d.ts'))) {
  const path = join(dist, name);
  const text = readFileSync(path, 'utf8');
  const fixed = text.replace(relative, (_, lead, quote, specifier) => `${lead}${quote}${specifier}.js${quote}`);
  if (fixed !== text) writeFileSync(path, fixed);
}
