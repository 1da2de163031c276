// The float64 reference of the fused clip + optimizer step: PyTorch's torch.optim.SGD (momentum,
// dampening, nesterov, weight decay), Adam (L2 weight decay) and AdamW (decoupled), after
// clip_grad_norm_ or clip_grad_value_, with AMP's skip: a step whose gradients hold a NaN or ±Inf
// changes nothing, not even the step count. The CPU backend runs it; the GPU tests compare with it.
import type { OptimizerSettings } from '../core/optimizer-types';
import { clipDecision, totalNormReference } from './norms';

export interface ReferenceStepResult {
  /** The gradients' total norm before clipping (p of the clip, else 2). */
  norm: number;
  skipped: boolean;
}

export class OptimizerReference {
  /** Steps taken (skipped ones not counted), as PyTorch's `state['step']`. */
  step = 0;
  /** SGD's momentum buffers or Adam's first moments; Adam's second moments. */
  readonly first: Float64Array[];
  readonly second: Float64Array[];

  constructor(
    readonly settings: OptimizerSettings,
    lengths: readonly number[],
  ) {
    this.first = lengths.map((n) => new Float64Array(n));
    this.second = lengths.map((n) => new Float64Array(n));
  }

  /** One step: `params` updated in place (rounded to their element type), `grads` only read. */
  apply(
    params: Array<Float32Array | Float64Array>,
    grads: readonly ArrayLike<number>[],
    lr = this.settings.lr,
  ): ReferenceStepResult {
    const { kind, momentum, dampening, nesterov, betas, eps, weightDecay, clip } = this.settings;
    // The norm as the GPU keeps it (float32): one that overflows it skips the step there too.
    const norm = Math.fround(totalNormReference(grads, clip && 'maxNorm' in clip ? clip.normType : 2));
    if (!Number.isFinite(norm)) return { norm, skipped: true };
    this.step++;
    let coef = 1;
    if (clip && 'maxNorm' in clip) {
      const decision = clipDecision(norm, clip.maxNorm);
      if (decision.scale) coef = decision.coef;
    }
    const clipped = (g: number) =>
      clip && 'value' in clip ? Math.min(Math.max(g, -clip.value), clip.value) : g * coef;
    const [beta1, beta2] = betas;
    const correction1 = 1 - beta1 ** this.step;
    const correction2 = 1 - beta2 ** this.step;
    params.forEach((p, t) => {
      const g = grads[t];
      const m = this.first[t];
      const v = this.second[t];
      for (let i = 0; i < p.length; i++) {
        let d = clipped(g[i]);
        let w = p[i];
        if (kind === 'sgd') {
          d += weightDecay * w;
          if (momentum !== 0) {
            m[i] = this.step === 1 ? d : momentum * m[i] + (1 - dampening) * d;
            d = nesterov ? d + momentum * m[i] : m[i];
          }
          p[i] = w - lr * d;
          continue;
        }
        if (kind === 'adamw') w *= 1 - lr * weightDecay;
        else d += weightDecay * w;
        m[i] = beta1 * m[i] + (1 - beta1) * d;
        v[i] = beta2 * v[i] + (1 - beta2) * d * d;
        p[i] = w - ((lr / correction1) * m[i]) / (Math.sqrt(v[i]) / Math.sqrt(correction2) + eps);
      }
    });
    return { norm, skipped: false };
  }
}
