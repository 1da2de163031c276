// The global-norm clip as a TF.js user writes it, as a benchmark method.
import type * as TF from '@tensorflow/tfjs-core';
import { addAll, tfjsOn } from '../../tfjs-device';
import type { CaseData, Method } from './method';

/** The global-norm clip as a TF.js user writes it, reading the norm each step. */
export class TfjsMethod implements Method {
  readonly name = 'tfjs';
  readonly expectation = 'clipped';
  private tf!: typeof TF;
  private tensors: TF.Tensor[] = [];
  private clipped: TF.Tensor[] = [];

  constructor(private readonly data: CaseData) {}

  async prepare() {
    this.tf = await tfjsOn(this.data.device);
    this.tensors = this.data.grads.map((g) => this.tf.tensor1d(g));
  }

  async reset() {
    this.tf.dispose(this.clipped);
    this.clipped = [];
  }

  async step() {
    const { tf } = this;
    const { operation, normType, threshold, device } = this.data;
    if (operation === 'clip-value') {
      this.clipped = tf.tidy(() => this.tensors.map((t) => tf.clipByValue(t, -threshold, threshold)));
      // Wait for completion the TF.js way: read one element (the read is queued after the clip).
      const probe = tf.slice(this.clipped[this.clipped.length - 1], 0, 1);
      await probe.data();
      probe.dispose();
      return;
    }
    const norm = tf.tidy(() => {
      if (normType === Infinity) return tf.max(tf.stack(this.tensors.map((t) => tf.max(tf.abs(t)))));
      return tf.sqrt(
        addAll(
          tf,
          this.tensors.map((t) => tf.sum(tf.square(t))),
          device,
        ),
      );
    });
    this.clipped = tf.tidy(() => {
      const coef = tf.minimum(1, tf.div(threshold, tf.add(norm, 1e-6)));
      return this.tensors.map((t) => tf.mul(t, coef));
    });
    await norm.data();
    norm.dispose();
  }

  async result() {
    return Promise.all(this.clipped.map(async (t) => (await t.data()) as Float32Array));
  }

  destroy() {
    this.tf?.dispose(this.clipped);
    this.tf?.dispose(this.tensors);
  }
}
