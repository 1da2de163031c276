// The WGSL const prelude every shader starts with: the ABI values (core/abi.ts) and every
// binding index (kernels/layouts.ts), each declared once in TypeScript and emitted here.
import { ABI_VALUES } from '../core/abi';
import { layoutBindingConstants } from './layouts';

/** The values WGSL sees, by name (all u32): the ABI tables and every binding index. */
export const WGSL_CONSTANTS: Readonly<Record<string, number>> = { ...layoutBindingConstants(), ...ABI_VALUES };

/** The generated WGSL prelude: one `const NAME: u32 = Nu;` per ABI value. */
export function wgslAbiPrelude(): string {
  const lines = Object.entries(WGSL_CONSTANTS).map(([name, value]) => `const ${name}: u32 = ${value}u;`);
  return `// Generated from src/core/abi.ts and src/kernels/layouts.ts: the values TypeScript and WGSL share.\n${lines.join('\n')}\n`;
}
