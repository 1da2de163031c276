// Per-segment scale, in place: each lane multiplies its piece's whole vec4s by its segment's
// coefficient (skipped when the coefficient is 1); the masked vec4s (edges), which
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

@compute @workgroup_size(WG)
fn main(ids: GridIds) {
  let index = foldedIndex(ids);
  if (index < table.pieceCount) {
    let piece = table.entries[index];
    if ((piece.x & EDGE_PIECE) != 0u) { return; }
    let segment = table.entries[table.segmentBase + index / 4u][index % 4u];
    let coef = segmentNorms[segment].y;
    if (coef == 1.0) { return; }
    apply(piece.x & PIECE_WINDOW_BITS, piece.y, piece.z, piece.w & 0xffffu, piece.w >> 16u, coef, 0.0, 0.0);
    return;
  }
  let e = index - table.pieceCount;
  if (e >= table.edgeCount) { return; }
  let edge = table.entries[table.edgeBase + e];
  if (e > 0u && sameVec4(table.entries[table.edgeBase + e - 1u], edge)) { return; }
  for (var k = e; k < table.edgeCount; k++) {
    let part = table.entries[table.edgeBase + k];
    if (!sameVec4(part, edge)) { break; }
    let coef = segmentNorms[part.w].y;
    if (coef != 1.0) { applyMasked(part.x, part.y, maskLanes(part.z), coef, 0.0, 0.0); }
  }
}
