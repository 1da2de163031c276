// Which view a lane works on, for kernels whose lanes run over the elements of several views
// (optimizer_update.wgsl): its `table` lists, after one section of
// per-view entries, a second section whose `.z` is each view's first lane, in increasing order.

// The last view whose first lane is at or before `index` (a binary search over table.viewCount).
fn viewOfLane(index: u32) -> u32 {
  var lo = 0u;
  var hi = table.viewCount;
  while (hi - lo > 1u) {
    let mid = (lo + hi) / 2u;
    if (table.entries[table.viewCount + mid].z <= index) { lo = mid; } else { hi = mid; }
  }
  return lo;
}
