// Workgroup-combine prelude without subgroups: every lane is its own "subgroup" and goes
// through workgroup memory.

struct LaneIds {
  @builtin(local_invocation_index) local: u32,
  @builtin(workgroup_id) group: vec3<u32>,
}

fn reduceSubgroup(acc: Acc, p: f32) -> Acc {
  return acc;
}

fn isSubgroupLeader(ids: LaneIds) -> bool {
  return true;
}

// Lanes per subgroup leader at least (every lane leads).
const LANES_PER_LEADER: u32 = 1u;
