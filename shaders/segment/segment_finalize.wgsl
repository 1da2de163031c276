// Per-segment norms, pass 2: one invocation per segment merges its partials into the segment's norm and
// its coefficient, by `rule`:
//   0  norms only (coefficient 1)
//   1  clip by norm (Keras clipnorm): PyTorch's decision per segment at params.maxNorm
//   2  per-example (Opacus): min(1, maxNorm / (norm + 1e-6)), 1 for a NaN norm, 0 for an infinite one;
//      a padding segment (from params.segmentLimit on) gets norm and coefficient 0
//   3  AGC (agcCoefficient, with params.maxNorm as the clipping factor); ‖w‖ is this unit's norm
//      in paramNorms
//
// Bindings: group(0) = params (uniform, dynamic offset), partials (read-only), segments (u32:
// [segmentCount, partialCount, -, -, first partial of each segment, then partialCount]),
// segmentNorms (vec2: norm, coefficient per segment), paramNorms (AGC; read-only).

override rule: u32 = RULE_NORMS;

@group(0) @binding(SEGMENT_FINALIZE_PARAMS) var<uniform> params: Params;
@group(0) @binding(SEGMENT_FINALIZE_PARTIALS) var<storage, read> partials: array<Acc>;
@group(0) @binding(SEGMENT_FINALIZE_SEGMENTS) var<storage, read> segments: array<u32>;
@group(0) @binding(SEGMENT_FINALIZE_SEGMENT_NORMS) var<storage, read_write> segmentNorms: array<vec2<f32>>;
@group(0) @binding(SEGMENT_FINALIZE_PARAM_NORMS) var<storage, read> paramNorms: array<vec2<f32>>;

fn coefficient(norm: f32, flags: u32, segment: u32) -> f32 {
  let maxNorm = params.maxNorm;
  switch rule {
    case RULE_CLIP_BY_NORM: {
      if (flags == 0u && !(norm > maxNorm)) { return 1.0; }
      return clipCoefficient(norm, flags, maxNorm);
    }
    case RULE_PER_EXAMPLE: {
      if ((flags & FLAG_NAN) != 0u) { return 1.0; }
      if ((flags & FLAG_INF) != 0u) { return select(0.0, 1.0, classify(maxNorm) != 0u); }
      return min(1.0, maxNorm / (norm + 1e-6));
    }
    case RULE_AGC: { return agcCoefficient(norm, flags, paramNorms[segment].x, maxNorm, params.eps); }
    default: { return 1.0; }
  }
}

fn finalizeSegment(segment: u32) {
  if (segment >= params.segmentLimit) {
    segmentNorms[segment] = vec2<f32>(0.0);
    return;
  }
  let p = params.p;
  var acc = emptyAcc();
  let end = segments[SEGMENTS_HEADER + segment + 1u];
  for (var i = segments[SEGMENTS_HEADER + segment]; i < end; i++) {
    acc = combine(acc, partials[i], p);
  }
  let norm = normOf(acc, p);
  segmentNorms[segment] = vec2<f32>(norm, coefficient(norm, flagsOf(acc), segment));
}

// The dispatch is capped at the tuned workgroup count; invocations stride over the segments.
@compute @workgroup_size(WG)
fn main(ids: GridIds) {
  let invocations = ids.groups.x * ids.groups.y * WG;
  for (var segment = foldedIndex(ids); segment < segments[0]; segment += invocations) {
    finalizeSegment(segment);
  }
}
