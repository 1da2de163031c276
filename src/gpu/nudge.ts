// Firefox (153 ESR and later, Mozilla bug 1870699) learns that GPU work finished only from a
// ~100 ms timer or at the device's next `queue.submit`, so a map or `onSubmittedWorkDone`
// resolves up to 100 ms late however little work there was. Submitting an empty command list
// while one waits lets it resolve within a few ms (docs/benchmarks/2026-11-28-read-latency.md).
// Where results arrive on time (Chromium) the wait usually ends before the first submit.
// Remove once Firefox ships the fix.

/** How often the empty submits come while a wait is pending. */
export const NUDGE_INTERVAL_MS = 4;

/** Resolves or rejects as `pending` does, submitting an empty command list every few ms meanwhile. */
export async function whileNudging<T>(device: GPUDevice, pending: Promise<T>): Promise<T> {
  const timer = setInterval(() => device.queue.submit([]), NUDGE_INTERVAL_MS);
  try {
    return await pending;
  } finally {
    clearInterval(timer);
  }
}
