/**
 * `gradclip/tfjs`: Keras's gradient clipping (`clipnorm`, `clipvalue`, `global_clipnorm`) for
 * TF.js optimizers, usable in `model.compile` and `model.fit`. Imports `@tensorflow/tfjs-core`
 * (a peer dependency); the main `gradclip` entry never does.
 *
 * @example
 * import { clippedOptimizer } from 'gradclip/tfjs';
 * model.compile({ optimizer: clippedOptimizer(clipper, tf.train.adam(1e-3), { globalClipnorm: 1 }), loss: 'meanSquaredError' });
 * @packageDocumentation
 */
export { FusedOptimizer, fusedOptimizer, type FusedOptimizerOptions } from './fused-optimizer';
export { ClippedOptimizer, clippedOptimizer, clipWithOps, type KerasClipOptions } from './keras-optimizer';
export {
  gradientsFromTfjs,
  submitTfjsWork,
  tfjsTensorBuffer,
  type TfjsTensorLike,
  type TfjsWebGPUBackendLike,
} from './tfjs';
