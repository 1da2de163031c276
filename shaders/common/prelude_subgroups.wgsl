// Workgroup-combine prelude for devices with the `subgroups` feature: lanes merge with
// subgroup operations first, so only one value per subgroup goes through workgroup memory.
enable subgroups;

struct LaneIds {
  @builtin(local_invocation_index) local: u32,
  @builtin(workgroup_id) group: vec3<u32>,
  @builtin(subgroup_invocation_id) lane: u32,
}

fn reduceSubgroup(acc: Acc, p: f32) -> Acc {
  let e = subgroupMax(acc.scaleExp);
  return Acc(subgroupAdd(rescaleSum(acc.sum, acc.scaleExp - e, p)), e, subgroupMax(acc.maxBits));
}

fn isSubgroupLeader(ids: LaneIds) -> bool {
  return ids.lane == 0u;
}

// Lanes per subgroup leader at least (WebGPU's smallest subgroup size: at most WG / 4 leaders).
const LANES_PER_LEADER: u32 = 4u;
