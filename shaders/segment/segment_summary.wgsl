// Per-segment norms, pass 3 (one workgroup): the set's totals into one NormResult slot, from the
// same partials: `summary` 0 writes the total norm, 1 the number of segments whose norm exceeds
// params.maxNorm as the slot's norm (clipPerExample's numClipped: the +1e-6 in its coefficient
// scales every example a hair, but only those over the bound count). The found-inf flag covers
// the set.
//
// Bindings: group(0) = params (uniform, dynamic offset), partials (read-only), segments (as in
// segment_finalize.wgsl), segmentNorms (read-only), result (NormResult slot, dynamic offset).

override summary: u32 = SUMMARY_TOTAL_NORM;

@group(0) @binding(SEGMENT_SUMMARY_PARAMS) var<uniform> params: Params;
@group(0) @binding(SEGMENT_SUMMARY_PARTIALS) var<storage, read> partials: array<Acc>;
@group(0) @binding(SEGMENT_SUMMARY_SEGMENTS) var<storage, read> segments: array<u32>;
@group(0) @binding(SEGMENT_SUMMARY_SEGMENT_NORMS) var<storage, read> segmentNorms: array<vec2<f32>>;
@group(0) @binding(SEGMENT_SUMMARY_RESULT) var<storage, read_write> result: NormResult;

var<workgroup> clippedCount: atomic<u32>;

@compute @workgroup_size(WG)
fn main(ids: LaneIds) {
  let p = params.p;
  var acc = emptyAcc();
  for (var i = ids.local; i < segments[1]; i += WG) {
    acc = combine(acc, partials[i], p);
  }
  if (summary == SUMMARY_COUNT_CLIPPED) {
    var clipped = 0u;
    for (var s = ids.local; s < min(segments[0], params.segmentLimit); s += WG) {
      if (segmentNorms[s].x > params.maxNorm) { clipped++; }
    }
    atomicAdd(&clippedCount, clipped);
  }
  let merged = combineWorkgroup(acc, ids, p);
  if (ids.local != 0u) { return; }
  let flags = flagsOf(merged);
  var value = normOf(merged, p);
  if (summary == SUMMARY_COUNT_CLIPPED) { value = f32(atomicLoad(&clippedCount)); }
  result.norm = value;
  result.coef = 1.0;
  result.flags = flags;
  result.foundInf = select(0u, 1u, flags != 0u);
  result.threshold = params.maxNorm;
}
