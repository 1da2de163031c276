// Per-segment scale, in place: each lane multiplies its pieces' whole vec4s by their segments'
// coefficients (skipped where the coefficient is 1); the masked vec4s (edges), which
// neighbouring segments may share, are rewritten by the lane of the first edge of each vec4,
// which applies every segment's part of that vec4 in turn, so no two lanes write one vec4.
//
// Bindings: group(0) = the group's SegmentTable + grad_0 .. grad_{K-1} (grad_write.wgsl, op 0);
// group(1) = segmentNorms (vec2: norm, coefficient per segment; read-only).

@group(0) @binding(DATA_TABLE) var<storage, read> table: SegmentTable;
@group(1) @binding(SEGMENT_SCALE_SEGMENT_NORMS) var<storage, read> segmentNorms: array<vec2<f32>>;

fn sameVec4(a: vec4<u32>, b: vec4<u32>) -> bool {
  return a.x == b.x && a.y == b.y;
}

fn tableWord(base: u32, i: u32) -> u32 {
  return table.entries[base + i / 4u][i % 4u];
}

// Lane `lane` of the table: its pieces, or, past the lanes, one edge.
fn scaleLane(lane: u32) {
  if (lane < table.laneCount) {
    let end = tableWord(table.laneBase, lane + 1u) & ~SHARED_LANE;
    for (var i = tableWord(table.laneBase, lane) & ~SHARED_LANE; i < end; i++) {
      let piece = table.entries[i];
      if ((piece.x & EDGE_PIECE) != 0u) { continue; }
      let coef = segmentNorms[tableWord(table.segmentBase, i)].y;
      if (coef == 1.0) { continue; }
      apply(piece.x & PIECE_WINDOW_BITS, piece.y, piece.z, piece.w & 0xffffu, piece.w >> 16u, coef, 0.0, 0.0);
    }
    return;
  }
  let e = lane - table.laneCount;
  let edge = table.entries[table.edgeBase + e];
  if (e > 0u && sameVec4(table.entries[table.edgeBase + e - 1u], edge)) { return; }
  for (var k = e; k < table.edgeCount; k++) {
    let part = table.entries[table.edgeBase + k];
    if (!sameVec4(part, edge)) { break; }
    let coef = segmentNorms[part.w].y;
    if (coef != 1.0) { applyMasked(part.x, part.y, maskLanes(part.z), coef, 0.0, 0.0); }
  }
}

// The dispatch is capped at the tuned workgroup count; invocations stride over lanes and edges.
@compute @workgroup_size(WG)
fn main(ids: GridIds) {
  let invocations = ids.groups.x * ids.groups.y * WG;
  for (var lane = foldedIndex(ids); lane < table.laneCount + table.edgeCount; lane += invocations) {
    scaleLane(lane);
  }
}
