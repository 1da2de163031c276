// The benchmark's wait for a step's GPU work. Firefox learns that work finished only from a
// ~100 ms poll or at the next submit (src/gpu/nudge.ts), which would floor every timed step there
// at ~100 ms: it waits with the nudge. Elsewhere it waits plainly, so Chromium's timings carry no
// empty submits.
import { whileNudging } from '../../src/gpu/nudge';

const FIREFOX = typeof navigator !== 'undefined' && /\bFirefox\//.test(navigator.userAgent);

/** Resolves once the work submitted to `device` so far has finished. */
export function settled(device: GPUDevice): Promise<undefined> {
  const done = device.queue.onSubmittedWorkDone();
  return FIREFOX ? whileNudging(device, done) : done;
}
