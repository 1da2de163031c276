// The transformer demo's model: a small GPT (token and position embeddings, pre-norm blocks of
// causal multi-head self-attention and a ReLU MLP, a final layer norm and a linear head) as a
// TF.js Layers model, so `model.fit` trains it like any Keras model. The blocks are one custom
// layer each, written in TF.js ops; every weight starts from a seeded normal (std 0.02, GPT-2's
// residual projections scaled by 1/sqrt(2 · layers)), so every run starts from the same weights.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { Initializer } from '@tensorflow/tfjs-layers/dist/initializers';

export interface GptConfig {
  /** Tokens in the vocabulary. */
  vocab: number;
  /** Tokens per window (the attention span). */
  context: number;
  /** Model width; a multiple of `heads`. */
  width: number;
  heads: number;
  layers: number;
}

/** Seeded normal initialisers: the n-th weight of a model built with `seed` is always the same. */
class Initialisers {
  private next = 0;

  constructor(private readonly seed: number) {}

  normal(stddev: number): Initializer {
    return tfl.initializers.randomNormal({ mean: 0, stddev, seed: this.seed * 1000 + this.next++ });
  }
}

function layerNorm(rows: tf.Tensor2D, gain: tf.Tensor, bias: tf.Tensor): tf.Tensor2D {
  const { mean, variance } = tf.moments(rows, 1, true);
  return tf.add(tf.mul(tf.div(tf.sub(rows, mean), tf.sqrt(tf.add(variance, 1e-5))), gain), bias);
}

/** 0 on and below the diagonal, -1e9 above: added to attention scores, it hides later tokens. */
function causalMask(length: number): tf.Tensor2D {
  const mask = new Float32Array(length * length);
  for (let row = 0; row < length; row++) mask.fill(-1e9, row * length + row + 1, (row + 1) * length);
  return tf.tensor2d(mask, [length, length]);
}

interface BlockArgs {
  width: number;
  heads: number;
  /** Initialisers of the block's matrices: the attention/MLP inputs, then the residual projections. */
  inner: Initializer[];
  residual: Initializer[];
  name?: string;
}

/** x + attention(norm(x)), then x + mlp(norm(x)), on [batch, tokens, width]. */
class TransformerBlock extends tfl.layers.Layer {
  static readonly className = 'GptTransformerBlock';
  private readonly width: number;
  private readonly heads: number;
  private readonly initialisers: BlockArgs;
  private params: Record<string, tfl.LayerVariable> = {};

  constructor(args: BlockArgs) {
    super({ name: args.name });
    this.width = args.width;
    this.heads = args.heads;
    this.initialisers = args;
  }

  override build(): void {
    const d = this.width;
    const [qkv, up] = this.initialisers.inner;
    const [projection, down] = this.initialisers.residual;
    const ones = tfl.initializers.ones();
    const zeros = tfl.initializers.zeros();
    const add = (name: string, shape: number[], init: Initializer) => {
      this.params[name] = this.addWeight(name, shape, 'float32', init);
    };
    add('norm1_gain', [d], ones);
    add('norm1_bias', [d], zeros);
    add('qkv', [d, 3 * d], qkv);
    add('projection', [d, d], projection);
    add('norm2_gain', [d], ones);
    add('norm2_bias', [d], zeros);
    add('up', [d, 4 * d], up);
    add('up_bias', [4 * d], zeros);
    add('down', [4 * d, d], down);
    add('down_bias', [d], zeros);
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor3D;
      const [batch, tokens, d] = x.shape;
      const heads = this.heads;
      const headWidth = d / heads;
      const w = (name: string) => this.params[name].read();
      const rows = tf.reshape(x, [batch * tokens, d]) as tf.Tensor2D;
      // [batch · tokens, d] → [batch · heads, tokens, headWidth]
      const perHead = (t: tf.Tensor) =>
        tf.reshape(tf.transpose(tf.reshape(t, [batch, tokens, heads, headWidth]), [0, 2, 1, 3]), [
          batch * heads,
          tokens,
          headWidth,
        ]);
      const qkv = tf.matMul(layerNorm(rows, w('norm1_gain'), w('norm1_bias')), w('qkv') as tf.Tensor2D);
      const [q, k, v] = tf.split(qkv, 3, 1).map(perHead);
      const scores = tf.add(tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(headWidth)), causalMask(tokens));
      const attended = tf.matMul(tf.softmax(scores), v);
      const merged = tf.reshape(tf.transpose(tf.reshape(attended, [batch, heads, tokens, headWidth]), [0, 2, 1, 3]), [
        batch * tokens,
        d,
      ]) as tf.Tensor2D;
      const afterAttention = tf.add(rows, tf.matMul(merged, w('projection') as tf.Tensor2D)) as tf.Tensor2D;
      const normed = layerNorm(afterAttention, w('norm2_gain'), w('norm2_bias'));
      const hidden = tf.relu(tf.add(tf.matMul(normed, w('up') as tf.Tensor2D), w('up_bias'))) as tf.Tensor2D;
      const mlp = tf.add(tf.matMul(hidden, w('down') as tf.Tensor2D), w('down_bias'));
      return tf.reshape(tf.add(afterAttention, mlp), [batch, tokens, d]);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), width: this.width, heads: this.heads };
  }
}

/** A learnt position embedding added to [batch, tokens, width] (tokens ≤ context). */
class PositionEmbedding extends tfl.layers.Layer {
  static readonly className = 'GptPositionEmbedding';
  private positions: tfl.LayerVariable | null = null;

  constructor(
    private readonly context: number,
    private readonly width: number,
    private readonly initialiser: Initializer,
  ) {
    super({});
  }

  override build(): void {
    this.positions = this.addWeight('positions', [this.context, this.width], 'float32', this.initialiser);
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor3D;
      return tf.add(x, tf.slice(this.positions!.read(), [0, 0], [x.shape[1], this.width]));
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), context: this.context, width: this.width };
  }
}

/** The GPT as a tf.Sequential: int32 tokens [batch, context] in, logits [batch, context, vocab] out. */
export function buildGpt(config: GptConfig, seed = 1): tfl.Sequential {
  const { vocab, context, width, heads, layers } = config;
  if (width % heads !== 0) throw new Error(`width ${width} is not a multiple of heads ${heads}`);
  const init = new Initialisers(seed);
  const residualStd = 0.02 / Math.sqrt(2 * layers);
  const model = tfl.sequential({
    layers: [
      tfl.layers.embedding({
        inputDim: vocab,
        outputDim: width,
        inputShape: [context],
        embeddingsInitializer: init.normal(0.02),
      }),
      new PositionEmbedding(context, width, init.normal(0.02)),
      ...Array.from(
        { length: layers },
        () =>
          new TransformerBlock({
            width,
            heads,
            inner: [init.normal(0.02), init.normal(0.02)],
            residual: [init.normal(residualStd), init.normal(residualStd)],
          }),
      ),
      tfl.layers.layerNormalization({ axis: -1, epsilon: 1e-5 }),
      tfl.layers.dense({ units: vocab, kernelInitializer: init.normal(0.02) }),
    ],
  });
  return model;
}

/** Mean cross-entropy of the next token: one-hot targets and logits, both [batch, context, vocab]. */
export function nextTokenLoss(targets: tf.Tensor, logits: tf.Tensor): tf.Scalar {
  return tf.losses.softmaxCrossEntropy(targets, logits) as tf.Scalar;
}

/** The model's trainable variables, in layer order (what an optimizer updates). */
export function trainableVariables(model: tfl.LayersModel): tf.Variable[] {
  return model.trainableWeights.map((w) => w.read() as tf.Variable);
}

/** Parameters in the model. */
export function parameterCount(model: tfl.LayersModel): number {
  return model.trainableWeights.reduce((sum, w) => sum + w.read().size, 0);
}
