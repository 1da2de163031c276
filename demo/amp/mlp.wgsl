// The AMP demo's model, forward and backward in WGSL: a 16 → 32 (tanh) → 1 MLP regressing a
// teacher's outputs, its loss weighted by `lossWeight` so that its gradients are as small as the
// deep layers' of a large model (about 1e-8, where f16 flushes to zero). `GRAD_T` (f32 or f16) is
// the gradients' storage type, filled in by demo/amp/model.ts; the loss scale (a GradScaler's
// scale, or 1) multiplies the gradients before they are stored, as a scaled loss's backward does.
//
// Bindings (group 0): settings (uniform), inputs, targets, params (W1 32×16, b1 32, W2 32, b2),
// scratch (per example: 32 hidden activations, the residual), grads (GRAD_T, as params), scale
// (the f32 loss scale), stats (the flushed count, then the history).

const INPUTS: u32 = 16u;
const HIDDEN: u32 = 32u;
const PARAMS: u32 = 577u;      // 512 + 32 + 32 + 1
const B1: u32 = 512u;
const W2: u32 = 544u;
const B2: u32 = 576u;
const SCRATCH: u32 = 33u;      // per example: h[32], residual

struct Settings {
  batch: u32,
  first: u32,        // index of the batch's first example in the data set
  step: u32,         // the history row this step writes
  lossWeight: f32,
}

struct Stats {
  flushed: atomic<u32>,   // gradients non-zero in f32 and zero once stored as GRAD_T, this step
  _pad0: u32,
  _pad1: u32,
  _pad2: u32,
  history: array<vec4<f32>>,  // per step: loss, fraction flushed, loss scale, -
}

@group(0) @binding(0) var<uniform> settings: Settings;
@group(0) @binding(1) var<storage, read> inputs: array<f32>;
@group(0) @binding(2) var<storage, read> targets: array<f32>;
@group(0) @binding(3) var<storage, read> params: array<f32>;
@group(0) @binding(4) var<storage, read_write> scratch: array<f32>;
@group(0) @binding(5) var<storage, read_write> grads: array<GRAD_T>;
@group(0) @binding(6) var<storage, read> scale: f32;
@group(0) @binding(7) var<storage, read_write> stats: Stats;

// One invocation per example: the hidden activations and the residual y - t.
@compute @workgroup_size(64)
fn forward(@builtin(global_invocation_id) id: vec3<u32>) {
  let b = id.x;
  if (b >= settings.batch) { return; }
  let x = (settings.first + b) * INPUTS;
  var y = params[B2];
  for (var j = 0u; j < HIDDEN; j++) {
    var a = params[B1 + j];
    for (var k = 0u; k < INPUTS; k++) { a += params[j * INPUTS + k] * inputs[x + k]; }
    let h = tanh(a);
    scratch[b * SCRATCH + j] = h;
    y += params[W2 + j] * h;
  }
  scratch[b * SCRATCH + HIDDEN] = y - targets[settings.first + b];
}

// One invocation per parameter: its gradient of lossWeight · mean((y - t)² / 2), times the loss
// scale, stored as GRAD_T (a value f16 cannot hold flushes to zero, and is counted).
@compute @workgroup_size(64)
fn backward(@builtin(global_invocation_id) id: vec3<u32>) {
  let p = id.x;
  if (p >= PARAMS) { return; }
  var sum = 0.0;
  for (var b = 0u; b < settings.batch; b++) {
    let r = scratch[b * SCRATCH + HIDDEN];
    if (p == B2) {
      sum += r;
    } else if (p >= W2) {
      sum += r * scratch[b * SCRATCH + (p - W2)];
    } else {
      let j = select(p / INPUTS, p - B1, p >= B1);
      let h = scratch[b * SCRATCH + j];
      let back = r * params[W2 + j] * (1.0 - h * h);
      if (p >= B1) {
        sum += back;
      } else {
        sum += back * inputs[(settings.first + b) * INPUTS + (p % INPUTS)];
      }
    }
  }
  let g = sum * (settings.lossWeight / f32(settings.batch)) * scale;
  let stored = GRAD_T(g);
  grads[p] = stored;
  if (g != 0.0 && f32(stored) == 0.0) { atomicAdd(&stats.flushed, 1u); }
}

// One invocation: the step's loss, the fraction of gradients flushed and the scale, into the history.
@compute @workgroup_size(1)
fn record() {
  var loss = 0.0;
  for (var b = 0u; b < settings.batch; b++) {
    let r = scratch[b * SCRATCH + HIDDEN];
    loss += r * r;
  }
  let flushed = f32(atomicLoad(&stats.flushed)) / f32(PARAMS);
  stats.history[settings.step] = vec4<f32>(0.5 * loss / f32(settings.batch), flushed, scale, 0.0);
  atomicStore(&stats.flushed, 0u);
}
