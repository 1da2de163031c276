// The fused optimizer step, pass 1 of 2 (one invocation, after the gradients' norm): reads the
// norm's result slot (clip coefficient and found-inf flag) and advances the step state: skip on a
// non-finite gradient, else count the step and work out its bias corrections once for every lane
// of optimizer_update.wgsl.
//
// With a GradScaler (`scaled`): the step is skipped while the scaler's found-inf flag is set (this
// step's gradients, or any check since its last update()), and the coefficient the gradients'
// norm pass left (1 / scale, times the clip's) unscales them in the update.
//
// Bindings: group(0) = settings (uniform, dynamic offset), result (NormResult slot, dynamic
// offset, read-only), state (OptimizerStep); group(1) = scaler (ScalerState; bound, unread,
// without a scaler).

@group(0) @binding(OPTIMIZER_PREPARE_SETTINGS) var<uniform> settings: OptimizerSettings;
@group(0) @binding(OPTIMIZER_PREPARE_RESULT) var<storage, read> result: NormResult;
@group(0) @binding(OPTIMIZER_PREPARE_STEP) var<storage, read_write> state: OptimizerStep;
@group(1) @binding(SCALER_STATE) var<storage, read_write> scaler: ScalerState;

override scaled: bool = false;

@compute @workgroup_size(1)
fn main() {
  if (result.foundInf != 0u || (scaled && atomicLoad(&scaler.foundInf) != 0u)) {
    state.skip = 1u;
    return;
  }
  let count = state.count + 1u;
  state.count = count;
  state.skip = 0u;
  state.firstStep = select(0u, 1u, count == 1u);
  state.coef = select(1.0, result.coef, (settings.clipKind == CLIP_NORM || scaled) && (result.flags & FLAG_SCALED) != 0u);
  // 1 - beta^t as c_t = (1 - beta) + beta · c_(t-1): no cancellation, where 1 - pow(beta, t) in
  // f32 loses about 1e-5 of its value on the first steps for beta2 = 0.999 (measured against
  // float64 in the benchmark's check).
  let correction1 = settings.oneMinusBeta1 + settings.beta1 * state.correction1;
  let correction2 = settings.oneMinusBeta2 + settings.beta2 * state.correction2;
  state.correction1 = correction1;
  state.correction2 = correction2;
  state.stepSize = settings.lr / correction1;
  state.correction2Sqrt = sqrt(correction2);
  state.decay = 1.0 - settings.lr * settings.weightDecay;
}
