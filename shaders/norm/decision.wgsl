// The second pass of a total norm, shared by norm_finalize.wgsl and adaptive_threshold.wgsl
// (which declare `params`, `partials`, `result` and `dispatch`): the partials merged on one
// workgroup, and the clipping decision written where the scale pass finds it, the NormResult slot
// and the indirect dispatch arguments (0 workgroups when nothing is to be clipped, so no gradient
// memory is written). `dispatch` holds (u32 words: [partialCount, groupCount, -, -, template
// (x, 1, 1) per group, live (x, y, z) per group]).


// Every partial merged (when `fromPartials`; else nothing), valid in local invocation 0 only.
// Must be called from uniform control flow.
fn mergePartials(ids: LaneIds, p: f32, fromPartials: bool) -> Acc {
  var acc = emptyAcc();
  if (fromPartials) {
    let count = dispatch[0];
    for (var i = ids.local; i < count; i += WG) {
      acc = combine(acc, partials[i], p);
    }
  }
  return combineWorkgroup(acc, ids, p);
}

// Decides whether `norm` (with its FLAG_NAN / FLAG_INF `flags`) is clipped at `maxNorm`, as
// params.mode asks, and writes the result and the scale pass's dispatch arguments. A norm of
// finite elements that overflowed float32 counts as non-finite too (PyTorch's error_if_nonfinite
// sees the same +Inf), so errorIfNonfinite rejects it and 'skip' skips it. `unscale` (a
// GradScaler's 1 / scale, else 1) multiplies the coefficient of finite gradients: the scale pass
// then unscales and clips in one write (getTotalNorm, MODE_NO_SCALE, still writes nothing).
fn writeDecision(norm: f32, normFlags: u32, maxNorm: f32, unscale: f32) {
  var flags = normFlags | classify(norm);
  let nonfinite = (flags & (FLAG_NAN | FLAG_INF)) != 0u;
  var scale = nonfinite || norm > maxNorm;
  if (nonfinite && (params.mode & MODE_ERROR_IF_NONFINITE) != 0u) {
    scale = false;
    flags |= FLAG_NONFINITE_ERROR;
  }
  if ((params.mode & MODE_NO_SCALE) != 0u) { scale = false; }
  if (nonfinite && (params.mode & MODE_SKIP_NONFINITE) != 0u) { scale = false; }

  var coef = 1.0;
  if (scale) {
    coef = clipCoefficient(norm, flags, maxNorm);
    flags |= FLAG_SCALED;
  }
  if (unscale != 1.0 && !nonfinite) {
    coef *= unscale;
    flags |= FLAG_SCALED;
    scale = (params.mode & MODE_NO_SCALE) == 0u;
  }
  result.norm = norm;
  result.coef = coef;
  result.flags = flags;
  result.foundInf = select(0u, 1u, nonfinite);
  result.threshold = maxNorm;

  let groups = dispatch[1];
  let liveBase = DISPATCH_HEADER + 3u * groups;
  for (var g = 0u; g < groups; g++) {
    dispatch[liveBase + 3u * g] = select(0u, dispatch[DISPATCH_HEADER + 3u * g], scale);
    dispatch[liveBase + 3u * g + 1u] = 1u;
    dispatch[liveBase + 3u * g + 2u] = 1u;
  }
}
