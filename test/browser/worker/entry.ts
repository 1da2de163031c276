// The dedicated module worker of the worker suite: runs the job the page names and posts its
// result back, or the error as data.
import { errorData, JOBS, type JobName } from './jobs';

self.onmessage = async (event: MessageEvent<{ job: JobName }>) => {
  try {
    self.postMessage({ ok: true, value: await JOBS[event.data.job]() });
  } catch (error) {
    self.postMessage({ ok: false, error: errorData(error) });
  }
};
