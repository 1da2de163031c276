#!/usr/bin/env node
// Entry of `npm run demo:gpt`: loads the TypeScript CLI through Vite's module runner (no build step).
import { runnerImport } from 'vite';

const { module } = await runnerImport(new URL('./gpt/cli.ts', import.meta.url).pathname);
process.exitCode = await module.main(process.argv.slice(2));
