// The whole-set kernels' walk over their workgroup's chunks (norm_partials.wgsl, elementwise.wgsl,
// unscale.wgsl share it, and the plan table it reads: Plan in common.wgsl). A workgroup takes its
// large chunks one a turn with all its lanes (coalesced loads), then its small chunks WG a turn,
// one a lane, so a chunk of a few vec4s does not leave most lanes idle for a whole turn.

@group(0) @binding(DATA_TABLE) var<storage, read> plan: Plan;

// A lane's share of one chunk: vec4s first, first + stride, ... of [offset, offset + count).
struct ChunkShare {
  slot: u32,
  offset: u32,
  count: u32,
  first: u32,
  stride: u32,
}

// The walk's turns for a workgroup's range (first chunk, end chunk, first small chunk).
fn chunkTurns(range: vec4<u32>) -> u32 {
  return range.z - range.x + (range.y - range.z + WG - 1u) / WG;
}

fn chunkShare(range: vec4<u32>, turn: u32, lane: u32) -> ChunkShare {
  let wide = range.z - range.x;
  let own = turn >= wide;
  let c = select(range.x + turn, range.z + (turn - wide) * WG + lane, own);
  let chunk = plan.entries[plan.chunkBase + min(c, range.y - 1u)];
  // In the last turn, lanes past the end have nothing to do.
  return ChunkShare(chunk.x, chunk.y, select(chunk.z, 0u, c >= range.y), select(lane, 0u, own), select(WG, 1u, own));
}
