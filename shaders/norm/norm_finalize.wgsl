// Multi-tensor norm, pass 2 (one workgroup): merges the partials into the total norm, decides on
// the GPU whether to clip, and writes the scale pass's indirect dispatch arguments (decision.wgsl).
//
// Bindings: group(0) = params (uniform, dynamic offset), partials (read-only), result (one
// NormResult slot of the set's result ring, dynamic offset), dispatch (see decision.wgsl).
// `source` picks where the norm comes from: 0 the partials, 1 the result slot itself (a norm
// computed earlier, copied in), 2 params.givenNorm. `scaled` (a GradScaler's clip or optimizer
// step): the partials are of scaled gradients; the norm is unscaled by the scaler's factor, a
// NaN or ±Inf sets the scaler's found-inf flag, and the coefficient unscales as it clips
// (group(1) = scaler, ScalerState; bound, unread, without a scaler).

override source: u32 = SOURCE_PARTIALS;
override scaled: bool = false;

@group(0) @binding(FINALIZE_PARAMS) var<uniform> params: Params;
@group(0) @binding(FINALIZE_PARTIALS) var<storage, read> partials: array<Acc>;
@group(0) @binding(FINALIZE_RESULT) var<storage, read_write> result: NormResult;
@group(0) @binding(FINALIZE_DISPATCH) var<storage, read_write> dispatch: array<u32>;
@group(1) @binding(SCALER_STATE) var<storage, read_write> scaler: ScalerState;

@compute @workgroup_size(WG)
fn main(ids: LaneIds) {
  let p = params.p;
  let merged = mergePartials(ids, p, source == SOURCE_PARTIALS);
  if (ids.local != 0u) { return; }

  var unscale = 1.0;
  if (scaled) { unscale = scaler.inverse; }
  var norm: f32;
  var flags: u32;
  switch source {
    case SOURCE_PARTIALS: { norm = normTimes(merged, p, unscale); flags = flagsOf(merged); }
    case SOURCE_RESULT: { norm = result.norm; flags = result.flags & (FLAG_NAN | FLAG_INF); }
    default: { norm = params.givenNorm; flags = classify(norm); }
  }

  writeDecision(norm, flags, params.maxNorm, unscale);
  if (scaled && result.foundInf != 0u) { atomicStore(&scaler.foundInf, 1u); }
}
