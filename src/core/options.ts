// Strict options: every options object of the public API is read through `readOptions`, so a key
// gradclip does not know (a typo, or PyTorch's snake_case spelling) throws instead of being
// silently ignored. `null` and `undefined` mean "no options".
import { GradclipError } from './errors';

/** The keys each public options object accepts (one list per type in types.ts and friends). */
export const OPTION_KEYS = {
  clipper: ['device', 'backend', 'forceCpu', 'maxWorkgroups', 'autotune', 'tuning', 'onDeviceLost'],
  tuning: ['maxWorkgroups', 'source', 'adapterKey', 'chosen', 'candidates', 'prior', 'timer', 'elements', 'elapsedMs'],
  tuningCandidate: ['maxWorkgroups', 'samplesMs', 'medianMs', 'final'],
  norm: ['normType', 'errorIfNonfinite', 'onNonfinite', 'scaler', 'encoder', 'timestampWrites'],
  encoder: ['encoder', 'timestampWrites'],
  norms: ['normType', 'encoder', 'timestampWrites'],
  perExample: ['batchSize', 'maxNorm', 'out', 'examples', 'noise', 'divisor', 'encoder', 'timestampWrites'],
  perExampleNoise: ['multiplier', 'seed', 'step'],
  privacy: ['batchSize', 'maxNorm', 'noiseMultiplier', 'seed', 'divisor'],
  perExampleOut: ['buffer', 'byteOffset'],
  agc: ['clipping', 'eps', 'encoder', 'timestampWrites'],
  step: ['encoder', 'onNonfinite', 'timestampWrites'],
  autoClip: ['percentile', 'history'],
  zClip: ['alpha', 'zThreshold', 'warmupSteps', 'mode'],
  optimizer: [
    'params',
    'grads',
    'kind',
    'lr',
    'momentum',
    'dampening',
    'nesterov',
    'betas',
    'eps',
    'weightDecay',
    'clip',
    'scaler',
    'privacy',
  ],
  optimizerStep: ['encoder', 'lr', 'timestampWrites'],
  privateStep: ['encoder', 'lr', 'examples'],
  optimizerClipNorm: ['maxNorm', 'normType'],
  optimizerClipValue: ['value'],
  clipRange: ['min', 'max'],
  arena: ['dtype'],
  gradScaler: ['initScale', 'growthFactor', 'backoffFactor', 'growthInterval', 'enabled'],
  gradScalerState: ['scale', 'growthFactor', 'backoffFactor', 'growthInterval', 'growthTracker'],
  scalerUpdate: ['encoder'],
  kerasClip: ['clipnorm', 'clipvalue', 'globalClipnorm', 'onNorm', 'logEvery'],
  fusedOptimizer: [
    'kind',
    'lr',
    'momentum',
    'dampening',
    'nesterov',
    'betas',
    'eps',
    'weightDecay',
    'globalClipnorm',
    'clipvalue',
  ],
} as const;

/** snake_case (PyTorch, Keras) → camelCase: `error_if_nonfinite` → `errorIfNonfinite`. */
function camelCase(key: string): string {
  return key.replace(/_+([a-z0-9])/gi, (_, c: string) => c.toUpperCase());
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length];
}

/** The known key an unknown one most likely meant: its camelCase or case-folded twin, else the nearest by edits. */
export function closestKey(key: string, known: readonly string[]): string | undefined {
  const folded = camelCase(key).toLowerCase();
  const exact = known.find((k) => k.toLowerCase() === folded);
  if (exact) return exact;
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const k of known) {
    const d = editDistance(folded, k.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [k, d];
  }
  return bestDistance <= Math.max(2, Math.floor(folded.length / 3)) ? best : undefined;
}

/**
 * `value` as an options object whose keys are all in `known`; `null`/`undefined` give `{}`.
 * Throws GradclipError('invalid-argument') naming `name`, the unknown key and the closest known key.
 */
export function readOptions<T extends object>(value: T | null | undefined, known: readonly string[], name: string): T {
  if (value === undefined || value === null) return {} as T;
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new GradclipError(
      'invalid-argument',
      `${name} must be an options object, got ${Array.isArray(value) ? 'an array' : typeof value}`,
    );
  }
  for (const key of Object.keys(value)) {
    if (known.includes(key)) continue;
    const hint = closestKey(key, known);
    throw new GradclipError(
      'invalid-argument',
      `${name}.${key} is not an option${hint ? `; did you mean '${hint}'?` : ''} (known: ${known.join(', ')})`,
    );
  }
  return value;
}
