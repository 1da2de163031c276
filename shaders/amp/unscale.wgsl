// GradScaler.unscale(), in place over a gradient set: every element × the scaler's unscale factor
// (f32(1 / scale)); any NaN or ±Inf among the inputs sets the scaler's found-inf flag (PyTorch's
// `_amp_foreach_non_finite_check_and_unscale_`). One read and one write of each element.
//
// Bindings: group(0) = plan + grad_0 .. grad_{K-1} (grad_write.wgsl), the data bind group of the
// norm kernels; group(1) = scaler (ScalerState, read-write). Built with `op` = OP_UNSCALE, whose
// transform notes a non-finite input in `sawNonfinite` (grad_write.wgsl).

@group(0) @binding(DATA_TABLE) var<storage, read> plan: Plan;
@group(1) @binding(SCALER_STATE) var<storage, read_write> scaler: ScalerState;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) groupId: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
  let coef = scaler.inverse;
  let group = groupId.x;
  let range = plan.entries[group];
  let wide = range.z - range.x;
  for (var turn = 0u; turn < wide + (range.y - range.z + WG - 1u) / WG; turn++) {
    let own = turn >= wide;
    let c = select(range.x + turn, range.z + (turn - wide) * WG + lane, own);
    // The last turn's lanes past the end sweep nothing.
    let chunk = plan.entries[plan.chunkBase + min(c, range.y - 1u)];
    let count = select(chunk.z, 0u, c >= range.y);
    apply(chunk.x, chunk.y, count, select(lane, 0u, own), select(WG, 1u, own), coef, 0.0, 0.0);
  }
  let stride = plan.workgroupCount * WG;
  for (var b = group * WG + lane; b < plan.boundaryCount; b += stride) {
    let entry = plan.entries[plan.boundaryBase + b];
    applyMasked(entry.x, entry.y, maskLanes(entry.z), coef, 0.0, 0.0);
  }
  if (sawNonfinite) { atomicStore(&scaler.foundInf, 1u); }
}
