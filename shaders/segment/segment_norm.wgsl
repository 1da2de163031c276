// Per-segment norms, pass 1: each lane reduces its pieces (see SegmentTable in common.wgsl). A
// lane with small segments writes each one's partial itself; the lanes of a long segment (its runs
// interleaved over them, so loads are coalesced) merge into one partial per workgroup. A
// segment's partials are few and contiguous for segment_finalize.wgsl.
//
// Bindings: group(0) = the group's SegmentTable + grad_0 .. grad_{K-1} (grad_read.wgsl), the
// layout of the whole-set kernels; group(1) = params (uniform, dynamic offset) + partials.

@group(0) @binding(DATA_TABLE) var<storage, read> table: SegmentTable;
@group(1) @binding(PARTIALS_PARAMS) var<uniform> params: Params;
@group(1) @binding(PARTIALS_PARTIALS) var<storage, read_write> partials: array<Acc>;

const NO_PARTIAL: u32 = 0xffffffffu;

// Each lane's accumulator, packed (accumulator.wgsl).
var<workgroup> laneSums: array<f32, WG>;
var<workgroup> laneExps: array<i32, WG>;
var<workgroup> laneBits: array<u32, WG>;
var<workgroup> lanePartials: array<u32, WG>;

fn tableWord(base: u32, i: u32) -> u32 {
  return table.entries[base + i / 4u][i % 4u];
}

@compute @workgroup_size(WG)
fn main(ids: GridIds) {
  let p = params.p;
  let lane = foldedIndex(ids);
  var acc = emptyAcc();
  var partial = NO_PARTIAL;
  var sharing = false;
  if (lane < table.laneCount) {
    let start = tableWord(table.laneBase, lane);
    let end = tableWord(table.laneBase, lane + 1u) & ~SHARED_LANE;
    sharing = (start & SHARED_LANE) != 0u;
    for (var i = start & ~SHARED_LANE; i < end; i++) {
      let next = tableWord(table.partialBase, i);
      // A private lane writes each of its segments' partials as it moves on.
      if (next != partial) {
        if (partial != NO_PARTIAL) { partials[partial] = acc; }
        acc = emptyAcc();
        partial = next;
      }
      // A piece of a padding segment (params.segmentLimit on: clipPerExample's unused examples) is
      // never read; its partial stays empty.
      if (tableWord(table.segmentBase, i) >= params.segmentLimit) { continue; }
      let piece = table.entries[i];
      let slot = piece.x & PIECE_WINDOW_BITS;
      if ((piece.x & EDGE_PIECE) == 0u) {
        acc = combine(acc, sweep(slot, piece.y, piece.z, piece.w & 0xffffu, piece.w >> 16u, p), p);
      } else {
        acc = combine(acc, accOfVec(select(vec4<f32>(0.0), loadVec(slot, piece.y), maskLanes(piece.x >> 28u)), p), p);
      }
    }
    if (!sharing && partial != NO_PARTIAL) {
      partials[partial] = acc;
      partial = NO_PARTIAL;
    }
  }
  laneSums[ids.local] = packedSum(acc);
  laneExps[ids.local] = acc.scaleExp;
  laneBits[ids.local] = acc.maxBits;
  lanePartials[ids.local] = partial;
  workgroupBarrier();
  // Shared lanes: the first lane of each run of one partial merges the run.
  if (partial != NO_PARTIAL && (ids.local == 0u || lanePartials[ids.local - 1u] != partial)) {
    var merged = acc;
    for (var k = ids.local + 1u; k < WG; k++) {
      if (lanePartials[k] != partial) { break; }
      merged = combine(merged, unpackedAcc(laneSums[k], laneExps[k], laneBits[k]), p);
    }
    partials[partial] = merged;
  }
}
