// The API reference builds from the JSDoc without a warning (TypeDoc, warnings as errors): every
// exported type a public signature names is itself exported and documented.
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { test } from 'vitest';

test('typedoc builds the API reference without warnings', () => {
  const root = resolve(import.meta.dirname, '../..');
  execFileSync(process.execPath, [resolve(root, 'node_modules/typedoc/bin/typedoc'), '--emit', 'none'], {
    cwd: root,
    stdio: 'pipe',
    timeout: 120_000,
  });
}, 120_000);
