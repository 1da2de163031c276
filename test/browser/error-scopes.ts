// Setup file of the browser and stress projects: every test runs inside a validation and an
// out-of-memory error scope on the shared device, which must come back empty. Tests still wrap
// their own work in withErrorScopes to name the failing step; this catches what falls outside.
import { afterEach, beforeEach, expect } from 'vitest';
import { sharedDevice } from './gpu';

beforeEach(async () => {
  const device = await sharedDevice();
  device.pushErrorScope('validation');
  device.pushErrorScope('out-of-memory');
});

afterEach(async () => {
  const device = await sharedDevice();
  const outOfMemory = await device.popErrorScope();
  const validation = await device.popErrorScope();
  expect(outOfMemory?.message ?? null, 'out-of-memory error').toBeNull();
  expect(validation?.message ?? null, 'validation error').toBeNull();
});
