// The check of a stored `clipper.tuning` passed back as `createClipper({ tuning })`: every field of
// ClipperTuning with its type and range (thrown as GradclipError 'invalid-argument' naming the
// field), before the device is touched. Whether it belongs to the device is the caller's question.
import { GradclipError } from '../core/errors';
import { OPTION_KEYS, readOptions } from '../core/options';
import type { ClipperTuning, TuningCandidate } from '../core/types';
import { describe } from './validate';

const SOURCES = ['autotune', 'stored', 'option', 'default'] as const;
const TIMERS = ['timestamps', 'wall', null] as const;

function fail(name: string, wanted: string, value: unknown): never {
  throw new GradclipError('invalid-argument', `options.tuning.${name} must be ${wanted}, got ${describe(value)}`);
}

function positiveInteger(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) fail(name, 'a positive integer', value);
  return value;
}

function nonNegative(name: string, value: unknown): number {
  if (typeof value !== 'number' || !(value >= 0) || !Number.isFinite(value)) fail(name, 'a finite number >= 0', value);
  return value;
}

function candidateOf(value: unknown, i: number): TuningCandidate {
  const name = `candidates[${i}]`;
  const c = readOptions(value as object, OPTION_KEYS.tuningCandidate, `options.tuning.${name}`) as Record<
    string,
    unknown
  >;
  if (!Array.isArray(c.samplesMs)) fail(`${name}.samplesMs`, 'an array of numbers', c.samplesMs);
  if (typeof c.final !== 'boolean') fail(`${name}.final`, 'a boolean', c.final);
  return {
    maxWorkgroups: positiveInteger(`${name}.maxWorkgroups`, c.maxWorkgroups),
    samplesMs: (c.samplesMs as unknown[]).map((ms, k) => nonNegative(`${name}.samplesMs[${k}]`, ms)),
    medianMs: nonNegative(`${name}.medianMs`, c.medianMs),
    final: c.final,
  };
}

/** A stored tuning, checked field by field (unknown keys included), as a fresh object. */
export function checkStoredTuning(value: unknown): ClipperTuning {
  if (!value || typeof value !== 'object' || Array.isArray(value))
    throw new GradclipError(
      'invalid-argument',
      `options.tuning must be a clipper.tuning object, got ${describe(value)}`,
    );
  const t = readOptions(value, OPTION_KEYS.tuning, 'options.tuning') as Record<string, unknown>;
  if (!SOURCES.includes(t.source as (typeof SOURCES)[number])) fail('source', SOURCES.join(', '), t.source);
  if (typeof t.adapterKey !== 'string' || t.adapterKey === '') fail('adapterKey', 'a non-empty string', t.adapterKey);
  if (!TIMERS.includes(t.timer as (typeof TIMERS)[number])) fail('timer', "'timestamps', 'wall' or null", t.timer);
  if (!Array.isArray(t.candidates)) fail('candidates', 'an array', t.candidates);
  const nullable = (name: string) => (t[name] === null ? null : positiveInteger(name, t[name]));
  return {
    maxWorkgroups: positiveInteger('maxWorkgroups', t.maxWorkgroups),
    source: t.source as ClipperTuning['source'],
    adapterKey: t.adapterKey,
    chosen: nullable('chosen'),
    candidates: (t.candidates as unknown[]).map(candidateOf),
    prior: nullable('prior'),
    timer: t.timer as ClipperTuning['timer'],
    elements: nonNegative('elements', t.elements),
    elapsedMs: nonNegative('elapsedMs', t.elapsedMs),
  };
}
