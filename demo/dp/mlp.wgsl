// The DP-SGD demo's classifier, in WGSL: an MLP (INPUTS → HIDDEN, tanh → CLASSES, softmax with
// cross-entropy). `perExampleGradients` writes each example's own gradient (DP-SGD clips them one by
// one, so the batch is never summed here); `evaluate` counts the test examples the current weights
// classify right. INPUTS, HIDDEN and CLASSES are `const`s that demo/dp/model.ts prepends from
// DP_MODEL (function-scope arrays take only const sizes, so they cannot be overrides).
//
// Bindings (group 0): batch (uniform: the batch's size, the evaluation's row), run (uniform: where
// each tensor starts in params and grads, the clip bound), the batch's inputs and labels, the test
// set's inputs and labels, params (W1 HIDDEN×INPUTS, b1, W2 CLASSES×HIDDEN, b2, each at its arena
// offset), grads (per tensor, `capacity` example slices one after another: example-major, as
// gradclip's private optimizer reads them), stats (clip counts, then per evaluation the test
// examples classified right).

struct Batch {
  examples: u32,   // rows [0, examples) of the batch are this step's; the rest is padding, never touched
  evalRow: u32,    // the stats.correct entry `evaluate` counts into
}

struct Run {
  paramsAt: vec4<u32>,  // element offsets of W1, b1, W2, b2 in params
  gradsAt: vec4<u32>,   // element offsets of the same tensors' per-example gradients in grads
  maxNorm: f32,         // the optimizer's clip bound (only counted here)
}

struct Stats {
  clipped: atomic<u32>,      // examples whose gradient the optimizer scales down (norm + 1e-6 > maxNorm)
  seen: atomic<u32>,         // examples whose gradient was written
  largestNorm: atomic<u32>,  // bits of the largest gradient norm: non-negative f32s order as their bits do
  _pad: u32,
  correct: array<atomic<u32>>,
}

struct Activations {
  hidden: array<f32, HIDDEN>,
  logits: array<f32, CLASSES>,
}

@group(0) @binding(0) var<uniform> batch: Batch;
@group(0) @binding(1) var<uniform> run: Run;
@group(0) @binding(2) var<storage, read> batchInputs: array<f32>;
@group(0) @binding(3) var<storage, read> batchLabels: array<u32>;
@group(0) @binding(4) var<storage, read> testInputs: array<f32>;
@group(0) @binding(5) var<storage, read> testLabels: array<u32>;
@group(0) @binding(6) var<storage, read> params: array<f32>;
@group(0) @binding(7) var<storage, read_write> grads: array<f32>;
@group(0) @binding(8) var<storage, read_write> stats: Stats;

fn forward(x: ptr<function, array<f32, INPUTS>>) -> Activations {
  var a: Activations;
  for (var j = 0u; j < HIDDEN; j++) {
    var s = params[run.paramsAt.y + j];
    for (var k = 0u; k < INPUTS; k++) { s += params[run.paramsAt.x + j * INPUTS + k] * (*x)[k]; }
    // Clamped: some implementations compute tanh from exp, which overflows to NaN for large arguments.
    a.hidden[j] = tanh(clamp(s, -15.0, 15.0));
  }
  for (var c = 0u; c < CLASSES; c++) {
    var s = params[run.paramsAt.w + c];
    for (var j = 0u; j < HIDDEN; j++) { s += params[run.paramsAt.z + c * HIDDEN + j] * a.hidden[j]; }
    a.logits[c] = s;
  }
  return a;
}

// One invocation per example: the forward pass, then the gradient of its cross-entropy loss with
// respect to every parameter, stored in its own slice of each tensor's per-example gradients.
@compute @workgroup_size(64)
fn perExampleGradients(@builtin(global_invocation_id) id: vec3<u32>) {
  let e = id.x;
  if (e >= batch.examples) { return; }
  var x: array<f32, INPUTS>;
  for (var k = 0u; k < INPUTS; k++) { x[k] = batchInputs[e * INPUTS + k]; }
  var a = forward(&x);
  // d loss / d logits = softmax(logits) − one-hot(label); the maximum subtracted so exp cannot overflow.
  var top = a.logits[0];
  for (var c = 1u; c < CLASSES; c++) { top = max(top, a.logits[c]); }
  var delta: array<f32, CLASSES>;
  var total = 0.0;
  for (var c = 0u; c < CLASSES; c++) {
    delta[c] = exp(a.logits[c] - top);
    total += delta[c];
  }
  let label = batchLabels[e];
  var sumOfSquares = 0.0;
  for (var c = 0u; c < CLASSES; c++) {
    delta[c] = delta[c] / total - select(0.0, 1.0, c == label);
    grads[run.gradsAt.w + e * CLASSES + c] = delta[c];
    sumOfSquares += delta[c] * delta[c];
    for (var j = 0u; j < HIDDEN; j++) {
      let g = delta[c] * a.hidden[j];
      grads[run.gradsAt.z + (e * CLASSES + c) * HIDDEN + j] = g;
      sumOfSquares += g * g;
    }
  }
  for (var j = 0u; j < HIDDEN; j++) {
    var back = 0.0;
    for (var c = 0u; c < CLASSES; c++) { back += params[run.paramsAt.z + c * HIDDEN + j] * delta[c]; }
    back *= 1.0 - a.hidden[j] * a.hidden[j];
    grads[run.gradsAt.y + e * HIDDEN + j] = back;
    sumOfSquares += back * back;
    for (var k = 0u; k < INPUTS; k++) {
      let g = back * x[k];
      grads[run.gradsAt.x + (e * HIDDEN + j) * INPUTS + k] = g;
      sumOfSquares += g * g;
    }
  }
  // Counted as the optimizer decides (its own sum may round the other way at the boundary: a statistic).
  let norm = sqrt(sumOfSquares);
  if (norm + 1e-6 > run.maxNorm) { atomicAdd(&stats.clipped, 1u); }
  atomicAdd(&stats.seen, 1u);
  atomicMax(&stats.largestNorm, bitcast<u32>(norm));
}

// One invocation per test example: counts it into stats.correct[evalRow] when the arg-max logit is its label.
@compute @workgroup_size(64)
fn evaluate(@builtin(global_invocation_id) id: vec3<u32>) {
  let e = id.x;
  if (e >= arrayLength(&testLabels) || batch.evalRow >= arrayLength(&stats.correct)) { return; }
  var x: array<f32, INPUTS>;
  for (var k = 0u; k < INPUTS; k++) { x[k] = testInputs[e * INPUTS + k]; }
  var a = forward(&x);
  var best = 0u;
  for (var c = 1u; c < CLASSES; c++) {
    if (a.logits[c] > a.logits[best]) { best = c; }
  }
  if (best == testLabels[e]) { atomicAdd(&stats.correct[batch.evalRow], 1u); }
}
