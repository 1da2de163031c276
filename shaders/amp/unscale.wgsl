// GradScaler.unscale(), in place over a gradient set: every element × the scaler's unscale factor
// (f32(1 / scale)); any NaN or ±Inf among the inputs sets the scaler's found-inf flag (PyTorch's
// `_amp_foreach_non_finite_check_and_unscale_`). One read and one write of each element.
//
// Bindings: group(0) = plan (plan_chunks.wgsl) + grad_0 .. grad_{K-1} (grad_write.wgsl), the data
// bind group of the norm kernels; group(1) = scaler (ScalerState, read-write). Built with `op` =
// OP_UNSCALE, whose transform notes a non-finite input in `sawNonfinite` (grad_write.wgsl).

@group(1) @binding(SCALER_STATE) var<storage, read_write> scaler: ScalerState;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) groupId: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
  let coef = scaler.inverse;
  let group = groupId.x;
  let range = plan.entries[group];
  for (var turn = 0u; turn < chunkTurns(range); turn++) {
    let share = chunkShare(range, turn, lane);
    apply(share.slot, share.offset, share.count, share.first, share.stride, coef, 0.0, 0.0);
  }
  let stride = plan.workgroupCount * WG;
  for (var b = group * WG + lane; b < plan.boundaryCount; b += stride) {
    let entry = plan.entries[plan.boundaryBase + b];
    applyMasked(entry.x, entry.y, maskLanes(entry.z), coef, 0.0, 0.0);
  }
  if (sawNonfinite) { atomicStore(&scaler.foundInf, 1u); }
}
