// The clipping guide's stored tuning (docs/guide/clipping.md): keep `clipper.tuning` across page
// reloads so that only the first visit pays the autotune. The `tuning` region is the guide's block
// (test/node/readme-examples.test.ts keeps them equal); test/browser/examples.test.ts runs it twice
// on fresh devices of one adapter, as two page loads would.
import { createClipper, type Clipper } from 'gradclip';

/** One page load: a clipper on `device`, tuned or taken from `localStorage`. */
export async function load(device: GPUDevice): Promise<Clipper> {
  // #region tuning
  const kept = localStorage.getItem('gradclip-tuning');
  const clipper = await createClipper({ device, ...(kept ? { tuning: JSON.parse(kept) } : {}) });
  localStorage.setItem('gradclip-tuning', JSON.stringify(clipper.tuning));
  // #endregion tuning
  return clipper;
}
