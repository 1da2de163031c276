// Declarations shared by optimizer_prepare.wgsl and optimizer_update.wgsl: the optimizer's
// settings (a uniform slot, dynamic offset) and its step state on the GPU.

struct OptimizerSettings {
  kind: u32,            // OPT_* (optimizer_update.wgsl is specialised for it: its `kind` override)
  clipKind: u32,        // CLIP_*
  lr: f32,
  beta1: f32,
  beta2: f32,
  oneMinusBeta1: f32,   // 1 - beta and 1 - dampening rounded once, on the host, from float64
  oneMinusBeta2: f32,
  eps: f32,
  weightDecay: f32,
  momentum: f32,
  oneMinusDampening: f32,
  nesterov: u32,
  clipValue: f32,
  _pad0: u32,
  _pad1: u32,
  _pad2: u32,
}

struct OptimizerStep {
  count: u32,            // steps taken (skipped ones not counted): PyTorch's state['step']
  skip: u32,             // 1 when this step's gradients held a NaN or ±Inf: nothing is updated
  firstStep: u32,        // 1 on the first step taken (SGD's momentum buffer starts as the gradient)
  _pad: u32,
  coef: f32,             // the clip-by-norm coefficient (1 when not clipping)
  stepSize: f32,         // Adam: lr / (1 - beta1^t)
  correction2Sqrt: f32,  // Adam: sqrt(1 - beta2^t)
  decay: f32,            // AdamW: 1 - lr · weightDecay
  correction1: f32,      // 1 - beta1^t and 1 - beta2^t, kept by a recurrence (see optimizer_prepare.wgsl)
  correction2: f32,
  _pad1: u32,
  _pad2: u32,
}
