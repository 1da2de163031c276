// Per-segment norms, pass 1: each lane reduces its piece (see SegmentTable in common.wgsl; the
// lanes sharing a run interleave, so loads are coalesced) and the lanes of a workgroup that share
// a partial (consecutive pieces of one segment) merge into it,
// so a segment's partials are few and contiguous for segment_finalize.wgsl.
//
// Bindings: group(0) = the group's SegmentTable + grad_0 .. grad_{K-1} (grad_read.wgsl), the
// layout of the whole-set kernels; group(1) = params (uniform, dynamic offset) + partials.

@group(0) @binding(DATA_TABLE) var<storage, read> table: SegmentTable;
@group(1) @binding(PARTIALS_PARAMS) var<uniform> params: Params;
@group(1) @binding(PARTIALS_PARTIALS) var<storage, read_write> partials: array<Acc>;

const NO_PARTIAL: u32 = 0xffffffffu;

var<workgroup> laneAccs: array<Acc, WG>;
var<workgroup> lanePartials: array<u32, WG>;

@compute @workgroup_size(WG)
fn main(ids: GridIds) {
  let p = params.p;
  let index = foldedIndex(ids);
  var acc = emptyAcc();
  var partial = NO_PARTIAL;
  // A piece of a padding segment (params.segmentLimit on: clipPerExample's unused examples) is
  // never read; its partial stays empty.
  if (index < table.pieceCount && table.entries[table.segmentBase + index / 4u][index % 4u] < params.segmentLimit) {
    let piece = table.entries[index];
    let slot = piece.x & PIECE_WINDOW_BITS;
    if ((piece.x & EDGE_PIECE) == 0u) {
      acc = sweep(slot, acc, piece.y, piece.z, piece.w & 0xffffu, piece.w >> 16u, p);
    } else {
      acc = accOfVec(select(vec4<f32>(0.0), loadVec(slot, piece.y), maskLanes(piece.x >> 28u)), p);
    }
  }
  if (index < table.pieceCount) { partial = table.entries[table.partialBase + index / 4u][index % 4u]; }
  laneAccs[ids.local] = acc;
  lanePartials[ids.local] = partial;
  workgroupBarrier();
  // The first lane of each run of one partial merges the run.
  if (partial != NO_PARTIAL && (ids.local == 0u || lanePartials[ids.local - 1u] != partial)) {
    var merged = acc;
    for (var k = ids.local + 1u; k < WG; k++) {
      if (lanePartials[k] != partial) { break; }
      merged = combine(merged, laneAccs[k], p);
    }
    partials[partial] = merged;
  }
}
