// Multi-tensor norm, pass 2 (one workgroup): merges the partials into the total norm, decides on
// the GPU whether to clip, and writes the scale pass's indirect dispatch arguments
// (0 workgroups when nothing is to be clipped, so no gradient memory is written).
//
// Bindings: group(0) = params (uniform, dynamic offset), partials (read-only), result (one
// NormResult slot of the set's result ring, dynamic offset), dispatch (u32 words:
// [partialCount, groupCount, -, -, template (x, 1, 1) per group, live (x, y, z) per group]).
// `source` picks where the norm comes from: 0 the partials, 1 the result slot itself (a norm
// computed earlier, copied in), 2 params.givenNorm.

override source: u32 = 0u;

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> partials: array<Acc>;
@group(0) @binding(2) var<storage, read_write> result: NormResult;
@group(0) @binding(3) var<storage, read_write> dispatch: array<u32>;

const DISPATCH_HEADER: u32 = 4u;

@compute @workgroup_size(WG)
fn main(ids: LaneIds) {
  let p = params.p;
  var acc = emptyAcc();
  if (source == 0u) {
    let count = dispatch[0];
    for (var i = ids.local; i < count; i += WG) {
      acc = combine(acc, partials[i], p);
    }
  }
  let merged = combineWorkgroup(acc, ids, p);
  if (ids.local != 0u) { return; }

  var norm: f32;
  var flags: u32;
  switch source {
    case 0u: { norm = normOf(merged, p); flags = flagsOf(merged); }
    case 1u: { norm = result.norm; flags = result.flags & (FLAG_NAN | FLAG_INF); }
    default: { norm = params.givenNorm; flags = classify(norm); }
  }

  let nonfinite = (flags & (FLAG_NAN | FLAG_INF)) != 0u;
  var scale = nonfinite || norm > params.maxNorm;
  if (nonfinite && (params.mode & MODE_ERROR_IF_NONFINITE) != 0u) {
    scale = false;
    flags |= FLAG_NONFINITE_ERROR;
  }
  if ((params.mode & MODE_NO_SCALE) != 0u) { scale = false; }
  if (nonfinite && (params.mode & MODE_SKIP_NONFINITE) != 0u) { scale = false; }

  var coef = 1.0;
  if (scale) {
    if ((flags & FLAG_NAN) != 0u) {
      coef = floatFromBits(NAN_BITS);
    } else if ((flags & FLAG_INF) != 0u) {
      // maxNorm / Inf: 0, or NaN when maxNorm is itself +Inf (as PyTorch computes it).
      coef = select(0.0, floatFromBits(NAN_BITS), classify(params.maxNorm) != 0u);
    } else {
      coef = params.maxNorm / (norm + 1e-6);
    }
    flags |= FLAG_SCALED;
  }
  result.norm = norm;
  result.coef = coef;
  result.flags = flags;
  result.foundInf = select(0u, 1u, nonfinite);

  let groups = dispatch[1];
  let liveBase = DISPATCH_HEADER + 3u * groups;
  for (var g = 0u; g < groups; g++) {
    dispatch[liveBase + 3u * g] = select(0u, dispatch[DISPATCH_HEADER + 3u * g], scale);
    dispatch[liveBase + 3u * g + 1u] = 1u;
    dispatch[liveBase + 3u * g + 2u] = 1u;
  }
}

// FLAG_NAN or FLAG_INF for a non-finite value, by bit pattern.
fn classify(x: f32) -> u32 {
  let bits = bitcast<u32>(x) & ABS_MASK;
  if (bits > INF_BITS) { return FLAG_NAN; }
  if (bits == INF_BITS) { return FLAG_INF; }
  return 0u;
}
