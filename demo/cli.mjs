#!/usr/bin/env node
// Entry of the demo and benchmark CLIs: `node demo/cli.mjs NAME [flags]` runs demo/NAME/cli.ts
// (`npm run bench`, `demo:train`, `demo:gpt`, `demo:amp`, `demo:dp`, `read-latency`) through Vite's
// module runner, with no build step. The module runner reads no config file, so vite.config.ts's
// aliases are passed on: `gradclip` is this checkout's source there too, as in the pages and tests
// (a fresh clone has no dist/).
import { existsSync } from 'node:fs';
import { loadConfigFromFile, runnerImport } from 'vite';

const [name, ...args] = process.argv.slice(2);
const cli = new URL(`./${name}/cli.ts`, import.meta.url).pathname;
if (!name || !existsSync(cli)) {
  console.error(`usage: node demo/cli.mjs NAME [flags], where demo/NAME/cli.ts exists (got ${name ?? 'nothing'})`);
  process.exit(2);
}
const configFile = new URL('../vite.config.ts', import.meta.url).pathname;
const loaded = await loadConfigFromFile({ command: 'serve', mode: 'production' }, configFile, undefined, 'warn');
const { module } = await runnerImport(cli, { resolve: { alias: loaded?.config.resolve?.alias } });
process.exitCode = await module.main(args);
