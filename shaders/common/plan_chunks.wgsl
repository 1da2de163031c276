// The whole-set kernels' walk over their workgroup's chunks (norm_partials.wgsl, elementwise.wgsl,
// unscale.wgsl share it, and the plan table it reads: Plan in common.wgsl). A workgroup takes its
// large chunks one a turn with all its lanes (coalesced loads), then its medium ones several a
// turn, MEDIUM_CHUNK_LANES lanes each, then its small ones WG a turn, one a lane: a chunk of a few
// loads a lane does not cost a whole turn of every lane (planWindows' assignWorkgroups).

@group(0) @binding(DATA_TABLE) var<storage, read> plan: Plan;

// A lane's share of one chunk: vec4s first, first + stride, ... of [offset, offset + count).
struct ChunkShare {
  slot: u32,
  offset: u32,
  count: u32,
  first: u32,
  stride: u32,
}

// Lanes that sweep one medium chunk together, and the medium chunks a turn covers.
fn mediumLanes() -> u32 {
  return min(MEDIUM_CHUNK_LANES, WG);
}

// The walk's turns for a workgroup's range (first chunk, end chunk, first medium, first small):
// a turn per large chunk, then WG / mediumLanes() medium chunks a turn, then WG small ones.
fn chunkTurns(range: vec4<u32>) -> u32 {
  let perMediumTurn = WG / mediumLanes();
  let mediumTurns = (range.w - range.z + perMediumTurn - 1u) / perMediumTurn;
  return range.z - range.x + mediumTurns + (range.y - range.w + WG - 1u) / WG;
}

fn chunkShare(range: vec4<u32>, turn: u32, lane: u32) -> ChunkShare {
  let lanes = mediumLanes();
  let perMediumTurn = WG / lanes;
  let wide = range.z - range.x;
  let mediumTurns = (range.w - range.z + perMediumTurn - 1u) / perMediumTurn;
  let small = turn >= wide + mediumTurns;
  let medium = turn >= wide && !small;
  let group = lane / lanes;
  var c = select(range.x + turn, range.z + (turn - wide) * perMediumTurn + group, medium);
  c = select(c, range.w + (turn - wide - mediumTurns) * WG + lane, small);
  // Lanes past their kind's end (or past the last whole medium group) have nothing to do.
  let end = select(select(range.z, range.w, medium), range.y, small);
  let idle = c >= end || (medium && group >= perMediumTurn);
  let chunk = plan.entries[plan.chunkBase + min(c, range.y - 1u)];
  let first = select(select(lane, lane % lanes, medium), 0u, small);
  let stride = select(select(WG, lanes, medium), 1u, small);
  return ChunkShare(chunk.x, chunk.y, select(chunk.z, 0u, idle), first, stride);
}
