// GradScaler.update(), one invocation: PyTorch's `_amp_update_scale_`. With a NaN or ±Inf found
// since the last update, scale ← scale · backoffFactor and the growth tracker restarts; otherwise
// the tracker counts the step, and at growthInterval steps scale ← scale · growthFactor, kept only
// if finite (the scale never becomes +Inf), and the tracker restarts. Then the found-inf flag is
// cleared and the unscale factor worked out again.
//
// Bindings: group(0) = scaler (ScalerState, read-write).

@group(0) @binding(SCALER_STATE) var<storage, read_write> scaler: ScalerState;

@compute @workgroup_size(1)
fn main() {
  if (atomicLoad(&scaler.foundInf) != 0u) {
    scaler.scale = mulRounded(scaler.scale, scaler.backoffHi, scaler.backoffLo, scaler.backoffExp);
    scaler.growthTracker = 0u;
  } else {
    let successful = scaler.growthTracker + 1u;
    if (successful == scaler.growthInterval) {
      let grown = mulRounded(scaler.scale, scaler.growthHi, scaler.growthLo, scaler.growthExp);
      if (classify(grown) == 0u) { scaler.scale = grown; }
      scaler.growthTracker = 0u;
    } else {
      scaler.growthTracker = successful;
    }
  }
  atomicStore(&scaler.foundInf, 0u);
  scaler.inverse = reciprocalRounded(scaler.scale);
}
