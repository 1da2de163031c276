// ⟨shaders/common/prelude_subgroups.wgsl⟩

// ⟨the ABI prelude (src/core/abi.ts, src/kernels/layouts.ts)⟩

// ⟨shaders/common/common.wgsl⟩

// ⟨shaders/common/accumulator.wgsl⟩

// Per-binding reads of gradient windows for the norm kernels (norm_partials.wgsl,
// segment_norm.wgsl). WGSL cannot index bindings, so src/shaders.ts repeats a block for each slot:
// the vec4 block (array<vec4<T>>, offsets and counts in vec4s) for a dispatch group's first
// slots, the scalar block (array<T>, in elements) for the rest, which bind the last bytes of
// buffers whose size is not a whole vec4; generated `sweep` and `loadVec` switch on the slot
// once per chunk or piece, never per element. Each copy's element type T (f32 or f16) is filled in
// per slot: every load widens to f32 (a no-op for f32), so f16 gradients accumulate like f32 ones.
// The windows are read_write because the same bind group serves the in-place write kernels.
//
// A sweep covers elements first, first + stride, ... of [offset, offset + count): a workgroup
// shares a chunk with stride WG (coalesced), a lane owns a piece with stride 1.

@group(0) @binding(1) var<storage, read_write> grad_0: array<vec4<f32>>;

fn loadVec_0(index: u32) -> vec4<f32> {
  return vec4<f32>(grad_0[index]);
}

// The accumulator of whole vec4s of [offset, offset + count) (this lane's share), for the caller
// to combine (once per call site, not once per return here: every call is inlined, and code size
// is compile time on CPU adapters). The first pass sums unscaled, and for p = 1 touches nothing
// else: one load and one add per vec4; p = 2 adds one OR per vec4 of the bits seen, so that an
// all-zero share (a zero sum, like a share of tiny values) is told apart without reading it
// again. Only a share whose sum leaves the safe band (or is NaN/Inf) and is not all zeros is read
// again, for its largest |x| and, where needed, a sum scaled by a power of two.
fn sweep_0(offset: u32, count: u32, first: u32, stride: u32, p: f32) -> Acc {
  let tracksMax = normKind == NORM_KIND_MAX || normKind == NORM_KIND_P;
  let tracksBits = normKind == NORM_KIND_L2;
  var sum = vec4<f32>(0.0);
  var seen = vec4<u32>(0u);
  var i = first;
  // Four independent loads per turn (each coalesced across lanes) keep more memory in flight.
  for (; i + 3u * stride < count; i += 4u * stride) {
    let x0 = loadVec_0(offset + i);
    let x1 = loadVec_0(offset + i + stride);
    let x2 = loadVec_0(offset + i + 2u * stride);
    let x3 = loadVec_0(offset + i + 3u * stride);
    if (tracksMax) {
      seen = max(max(seen, max(magnitudeBits(x0), magnitudeBits(x1))), max(magnitudeBits(x2), magnitudeBits(x3)));
    }
    if (tracksBits) {
      seen = seen | ((bitcast<vec4<u32>>(x0) | bitcast<vec4<u32>>(x1)) | (bitcast<vec4<u32>>(x2) | bitcast<vec4<u32>>(x3)));
    }
    sum = addPowers(sum, x0, abs(x0), p);
    sum = addPowers(sum, x1, abs(x1), p);
    sum = addPowers(sum, x2, abs(x2), p);
    sum = addPowers(sum, x3, abs(x3), p);
  }
  for (; i < count; i += stride) {
    let x = loadVec_0(offset + i);
    if (tracksMax) { seen = max(seen, magnitudeBits(x)); }
    if (tracksBits) { seen = seen | bitcast<vec4<u32>>(x); }
    sum = addPowers(sum, x, abs(x), p);
  }
  if (!tracksMax) {
    if (sumInBand(sum)) { return Acc(sum, 0, 0u); }
    // Only ±0 in this share (no magnitude bit was ever set): nothing to rescale, no second read.
    if (tracksBits && largest(seen & vec4<u32>(ABS_MASK)) == 0u) {
      return Acc(vec4<f32>(0.0), MIN_SCALE_EXP, 0u);
    }
    seen = vec4<u32>(0u);
    for (var j = first; j < count; j += stride) { seen = max(seen, magnitudeBits(loadVec_0(offset + j))); }
  }
  let m = largest(seen);
  // Nothing (or only zeros) in this lane's share: the smallest scale, so that it cannot pull a
  // tiny scaled sum of another lane up to its own scale and flush it. NaN/Inf: the scale no longer matters.
  if (m == 0u || m >= INF_BITS) { return Acc(vec4<f32>(0.0), MIN_SCALE_EXP, m); }
  if (!needsScaling(m, p) && sumInBand(sum)) { return Acc(sum, 0, m); }
  let e = scaleExpFor(m);
  let inverse = inverseScale(e);
  sum = vec4<f32>(0.0);
  for (var j = first; j < count; j += stride) {
    let magnitude = abs(loadVec_0(offset + j)) * inverse;
    sum = addPowers(sum, magnitude, magnitude, p);
  }
  return Acc(sum, e, m);
}

// The unscaled sum of the p-th powers (L1 and L2 only) of a lane's share of a chunk, as `sweep`
// reads it, with none of its exact path: the fast path of small and medium chunks, whose caller
// checks the lane's total against the band and sweeps the chunks again where it left it.
fn quickSum_0(offset: u32, count: u32, first: u32, stride: u32, p: f32) -> vec4<f32> {
  var sum = vec4<f32>(0.0);
  var i = first;
  for (; i + 3u * stride < count; i += 4u * stride) {
    let x0 = loadVec_0(offset + i);
    let x1 = loadVec_0(offset + i + stride);
    let x2 = loadVec_0(offset + i + 2u * stride);
    let x3 = loadVec_0(offset + i + 3u * stride);
    sum = addPowers(sum, x0, abs(x0), p);
    sum = addPowers(sum, x1, abs(x1), p);
    sum = addPowers(sum, x2, abs(x2), p);
    sum = addPowers(sum, x3, abs(x3), p);
  }
  for (; i < count; i += stride) {
    let x = loadVec_0(offset + i);
    sum = addPowers(sum, x, abs(x), p);
  }
  return sum;
}

@group(0) @binding(2) var<storage, read_write> grad_1: array<vec4<f32>>;

fn loadVec_1(index: u32) -> vec4<f32> {
  return vec4<f32>(grad_1[index]);
}

// The accumulator of whole vec4s of [offset, offset + count) (this lane's share), for the caller
// to combine (once per call site, not once per return here: every call is inlined, and code size
// is compile time on CPU adapters). The first pass sums unscaled, and for p = 1 touches nothing
// else: one load and one add per vec4; p = 2 adds one OR per vec4 of the bits seen, so that an
// all-zero share (a zero sum, like a share of tiny values) is told apart without reading it
// again. Only a share whose sum leaves the safe band (or is NaN/Inf) and is not all zeros is read
// again, for its largest |x| and, where needed, a sum scaled by a power of two.
fn sweep_1(offset: u32, count: u32, first: u32, stride: u32, p: f32) -> Acc {
  let tracksMax = normKind == NORM_KIND_MAX || normKind == NORM_KIND_P;
  let tracksBits = normKind == NORM_KIND_L2;
  var sum = vec4<f32>(0.0);
  var seen = vec4<u32>(0u);
  var i = first;
  // Four independent loads per turn (each coalesced across lanes) keep more memory in flight.
  for (; i + 3u * stride < count; i += 4u * stride) {
    let x0 = loadVec_1(offset + i);
    let x1 = loadVec_1(offset + i + stride);
    let x2 = loadVec_1(offset + i + 2u * stride);
    let x3 = loadVec_1(offset + i + 3u * stride);
    if (tracksMax) {
      seen = max(max(seen, max(magnitudeBits(x0), magnitudeBits(x1))), max(magnitudeBits(x2), magnitudeBits(x3)));
    }
    if (tracksBits) {
      seen = seen | ((bitcast<vec4<u32>>(x0) | bitcast<vec4<u32>>(x1)) | (bitcast<vec4<u32>>(x2) | bitcast<vec4<u32>>(x3)));
    }
    sum = addPowers(sum, x0, abs(x0), p);
    sum = addPowers(sum, x1, abs(x1), p);
    sum = addPowers(sum, x2, abs(x2), p);
    sum = addPowers(sum, x3, abs(x3), p);
  }
  for (; i < count; i += stride) {
    let x = loadVec_1(offset + i);
    if (tracksMax) { seen = max(seen, magnitudeBits(x)); }
    if (tracksBits) { seen = seen | bitcast<vec4<u32>>(x); }
    sum = addPowers(sum, x, abs(x), p);
  }
  if (!tracksMax) {
    if (sumInBand(sum)) { return Acc(sum, 0, 0u); }
    // Only ±0 in this share (no magnitude bit was ever set): nothing to rescale, no second read.
    if (tracksBits && largest(seen & vec4<u32>(ABS_MASK)) == 0u) {
      return Acc(vec4<f32>(0.0), MIN_SCALE_EXP, 0u);
    }
    seen = vec4<u32>(0u);
    for (var j = first; j < count; j += stride) { seen = max(seen, magnitudeBits(loadVec_1(offset + j))); }
  }
  let m = largest(seen);
  // Nothing (or only zeros) in this lane's share: the smallest scale, so that it cannot pull a
  // tiny scaled sum of another lane up to its own scale and flush it. NaN/Inf: the scale no longer matters.
  if (m == 0u || m >= INF_BITS) { return Acc(vec4<f32>(0.0), MIN_SCALE_EXP, m); }
  if (!needsScaling(m, p) && sumInBand(sum)) { return Acc(sum, 0, m); }
  let e = scaleExpFor(m);
  let inverse = inverseScale(e);
  sum = vec4<f32>(0.0);
  for (var j = first; j < count; j += stride) {
    let magnitude = abs(loadVec_1(offset + j)) * inverse;
    sum = addPowers(sum, magnitude, magnitude, p);
  }
  return Acc(sum, e, m);
}

// The unscaled sum of the p-th powers (L1 and L2 only) of a lane's share of a chunk, as `sweep`
// reads it, with none of its exact path: the fast path of small and medium chunks, whose caller
// checks the lane's total against the band and sweeps the chunks again where it left it.
fn quickSum_1(offset: u32, count: u32, first: u32, stride: u32, p: f32) -> vec4<f32> {
  var sum = vec4<f32>(0.0);
  var i = first;
  for (; i + 3u * stride < count; i += 4u * stride) {
    let x0 = loadVec_1(offset + i);
    let x1 = loadVec_1(offset + i + stride);
    let x2 = loadVec_1(offset + i + 2u * stride);
    let x3 = loadVec_1(offset + i + 3u * stride);
    sum = addPowers(sum, x0, abs(x0), p);
    sum = addPowers(sum, x1, abs(x1), p);
    sum = addPowers(sum, x2, abs(x2), p);
    sum = addPowers(sum, x3, abs(x3), p);
  }
  for (; i < count; i += stride) {
    let x = loadVec_1(offset + i);
    sum = addPowers(sum, x, abs(x), p);
  }
  return sum;
}

@group(0) @binding(3) var<storage, read_write> grad_2: array<vec4<f32>>;

fn loadVec_2(index: u32) -> vec4<f32> {
  return vec4<f32>(grad_2[index]);
}

// The accumulator of whole vec4s of [offset, offset + count) (this lane's share), for the caller
// to combine (once per call site, not once per return here: every call is inlined, and code size
// is compile time on CPU adapters). The first pass sums unscaled, and for p = 1 touches nothing
// else: one load and one add per vec4; p = 2 adds one OR per vec4 of the bits seen, so that an
// all-zero share (a zero sum, like a share of tiny values) is told apart without reading it
// again. Only a share whose sum leaves the safe band (or is NaN/Inf) and is not all zeros is read
// again, for its largest |x| and, where needed, a sum scaled by a power of two.
fn sweep_2(offset: u32, count: u32, first: u32, stride: u32, p: f32) -> Acc {
  let tracksMax = normKind == NORM_KIND_MAX || normKind == NORM_KIND_P;
  let tracksBits = normKind == NORM_KIND_L2;
  var sum = vec4<f32>(0.0);
  var seen = vec4<u32>(0u);
  var i = first;
  // Four independent loads per turn (each coalesced across lanes) keep more memory in flight.
  for (; i + 3u * stride < count; i += 4u * stride) {
    let x0 = loadVec_2(offset + i);
    let x1 = loadVec_2(offset + i + stride);
    let x2 = loadVec_2(offset + i + 2u * stride);
    let x3 = loadVec_2(offset + i + 3u * stride);
    if (tracksMax) {
      seen = max(max(seen, max(magnitudeBits(x0), magnitudeBits(x1))), max(magnitudeBits(x2), magnitudeBits(x3)));
    }
    if (tracksBits) {
      seen = seen | ((bitcast<vec4<u32>>(x0) | bitcast<vec4<u32>>(x1)) | (bitcast<vec4<u32>>(x2) | bitcast<vec4<u32>>(x3)));
    }
    sum = addPowers(sum, x0, abs(x0), p);
    sum = addPowers(sum, x1, abs(x1), p);
    sum = addPowers(sum, x2, abs(x2), p);
    sum = addPowers(sum, x3, abs(x3), p);
  }
  for (; i < count; i += stride) {
    let x = loadVec_2(offset + i);
    if (tracksMax) { seen = max(seen, magnitudeBits(x)); }
    if (tracksBits) { seen = seen | bitcast<vec4<u32>>(x); }
    sum = addPowers(sum, x, abs(x), p);
  }
  if (!tracksMax) {
    if (sumInBand(sum)) { return Acc(sum, 0, 0u); }
    // Only ±0 in this share (no magnitude bit was ever set): nothing to rescale, no second read.
    if (tracksBits && largest(seen & vec4<u32>(ABS_MASK)) == 0u) {
      return Acc(vec4<f32>(0.0), MIN_SCALE_EXP, 0u);
    }
    seen = vec4<u32>(0u);
    for (var j = first; j < count; j += stride) { seen = max(seen, magnitudeBits(loadVec_2(offset + j))); }
  }
  let m = largest(seen);
  // Nothing (or only zeros) in this lane's share: the smallest scale, so that it cannot pull a
  // tiny scaled sum of another lane up to its own scale and flush it. NaN/Inf: the scale no longer matters.
  if (m == 0u || m >= INF_BITS) { return Acc(vec4<f32>(0.0), MIN_SCALE_EXP, m); }
  if (!needsScaling(m, p) && sumInBand(sum)) { return Acc(sum, 0, m); }
  let e = scaleExpFor(m);
  let inverse = inverseScale(e);
  sum = vec4<f32>(0.0);
  for (var j = first; j < count; j += stride) {
    let magnitude = abs(loadVec_2(offset + j)) * inverse;
    sum = addPowers(sum, magnitude, magnitude, p);
  }
  return Acc(sum, e, m);
}

// The unscaled sum of the p-th powers (L1 and L2 only) of a lane's share of a chunk, as `sweep`
// reads it, with none of its exact path: the fast path of small and medium chunks, whose caller
// checks the lane's total against the band and sweeps the chunks again where it left it.
fn quickSum_2(offset: u32, count: u32, first: u32, stride: u32, p: f32) -> vec4<f32> {
  var sum = vec4<f32>(0.0);
  var i = first;
  for (; i + 3u * stride < count; i += 4u * stride) {
    let x0 = loadVec_2(offset + i);
    let x1 = loadVec_2(offset + i + stride);
    let x2 = loadVec_2(offset + i + 2u * stride);
    let x3 = loadVec_2(offset + i + 3u * stride);
    sum = addPowers(sum, x0, abs(x0), p);
    sum = addPowers(sum, x1, abs(x1), p);
    sum = addPowers(sum, x2, abs(x2), p);
    sum = addPowers(sum, x3, abs(x3), p);
  }
  for (; i < count; i += stride) {
    let x = loadVec_2(offset + i);
    sum = addPowers(sum, x, abs(x), p);
  }
  return sum;
}

@group(0) @binding(4) var<storage, read_write> grad_3: array<vec4<f32>>;

fn loadVec_3(index: u32) -> vec4<f32> {
  return vec4<f32>(grad_3[index]);
}

// The accumulator of whole vec4s of [offset, offset + count) (this lane's share), for the caller
// to combine (once per call site, not once per return here: every call is inlined, and code size
// is compile time on CPU adapters). The first pass sums unscaled, and for p = 1 touches nothing
// else: one load and one add per vec4; p = 2 adds one OR per vec4 of the bits seen, so that an
// all-zero share (a zero sum, like a share of tiny values) is told apart without reading it
// again. Only a share whose sum leaves the safe band (or is NaN/Inf) and is not all zeros is read
// again, for its largest |x| and, where needed, a sum scaled by a power of two.
fn sweep_3(offset: u32, count: u32, first: u32, stride: u32, p: f32) -> Acc {
  let tracksMax = normKind == NORM_KIND_MAX || normKind == NORM_KIND_P;
  let tracksBits = normKind == NORM_KIND_L2;
  var sum = vec4<f32>(0.0);
  var seen = vec4<u32>(0u);
  var i = first;
  // Four independent loads per turn (each coalesced across lanes) keep more memory in flight.
  for (; i + 3u * stride < count; i += 4u * stride) {
    let x0 = loadVec_3(offset + i);
    let x1 = loadVec_3(offset + i + stride);
    let x2 = loadVec_3(offset + i + 2u * stride);
    let x3 = loadVec_3(offset + i + 3u * stride);
    if (tracksMax) {
      seen = max(max(seen, max(magnitudeBits(x0), magnitudeBits(x1))), max(magnitudeBits(x2), magnitudeBits(x3)));
    }
    if (tracksBits) {
      seen = seen | ((bitcast<vec4<u32>>(x0) | bitcast<vec4<u32>>(x1)) | (bitcast<vec4<u32>>(x2) | bitcast<vec4<u32>>(x3)));
    }
    sum = addPowers(sum, x0, abs(x0), p);
    sum = addPowers(sum, x1, abs(x1), p);
    sum = addPowers(sum, x2, abs(x2), p);
    sum = addPowers(sum, x3, abs(x3), p);
  }
  for (; i < count; i += stride) {
    let x = loadVec_3(offset + i);
    if (tracksMax) { seen = max(seen, magnitudeBits(x)); }
    if (tracksBits) { seen = seen | bitcast<vec4<u32>>(x); }
    sum = addPowers(sum, x, abs(x), p);
  }
  if (!tracksMax) {
    if (sumInBand(sum)) { return Acc(sum, 0, 0u); }
    // Only ±0 in this share (no magnitude bit was ever set): nothing to rescale, no second read.
    if (tracksBits && largest(seen & vec4<u32>(ABS_MASK)) == 0u) {
      return Acc(vec4<f32>(0.0), MIN_SCALE_EXP, 0u);
    }
    seen = vec4<u32>(0u);
    for (var j = first; j < count; j += stride) { seen = max(seen, magnitudeBits(loadVec_3(offset + j))); }
  }
  let m = largest(seen);
  // Nothing (or only zeros) in this lane's share: the smallest scale, so that it cannot pull a
  // tiny scaled sum of another lane up to its own scale and flush it. NaN/Inf: the scale no longer matters.
  if (m == 0u || m >= INF_BITS) { return Acc(vec4<f32>(0.0), MIN_SCALE_EXP, m); }
  if (!needsScaling(m, p) && sumInBand(sum)) { return Acc(sum, 0, m); }
  let e = scaleExpFor(m);
  let inverse = inverseScale(e);
  sum = vec4<f32>(0.0);
  for (var j = first; j < count; j += stride) {
    let magnitude = abs(loadVec_3(offset + j)) * inverse;
    sum = addPowers(sum, magnitude, magnitude, p);
  }
  return Acc(sum, e, m);
}

// The unscaled sum of the p-th powers (L1 and L2 only) of a lane's share of a chunk, as `sweep`
// reads it, with none of its exact path: the fast path of small and medium chunks, whose caller
// checks the lane's total against the band and sweeps the chunks again where it left it.
fn quickSum_3(offset: u32, count: u32, first: u32, stride: u32, p: f32) -> vec4<f32> {
  var sum = vec4<f32>(0.0);
  var i = first;
  for (; i + 3u * stride < count; i += 4u * stride) {
    let x0 = loadVec_3(offset + i);
    let x1 = loadVec_3(offset + i + stride);
    let x2 = loadVec_3(offset + i + 2u * stride);
    let x3 = loadVec_3(offset + i + 3u * stride);
    sum = addPowers(sum, x0, abs(x0), p);
    sum = addPowers(sum, x1, abs(x1), p);
    sum = addPowers(sum, x2, abs(x2), p);
    sum = addPowers(sum, x3, abs(x3), p);
  }
  for (; i < count; i += stride) {
    let x = loadVec_3(offset + i);
    sum = addPowers(sum, x, abs(x), p);
  }
  return sum;
}

@group(0) @binding(5) var<storage, read_write> grad_4: array<vec4<f32>>;

fn loadVec_4(index: u32) -> vec4<f32> {
  return vec4<f32>(grad_4[index]);
}

// The accumulator of whole vec4s of [offset, offset + count) (this lane's share), for the caller
// to combine (once per call site, not once per return here: every call is inlined, and code size
// is compile time on CPU adapters). The first pass sums unscaled, and for p = 1 touches nothing
// else: one load and one add per vec4; p = 2 adds one OR per vec4 of the bits seen, so that an
// all-zero share (a zero sum, like a share of tiny values) is told apart without reading it
// again. Only a share whose sum leaves the safe band (or is NaN/Inf) and is not all zeros is read
// again, for its largest |x| and, where needed, a sum scaled by a power of two.
fn sweep_4(offset: u32, count: u32, first: u32, stride: u32, p: f32) -> Acc {
  let tracksMax = normKind == NORM_KIND_MAX || normKind == NORM_KIND_P;
  let tracksBits = normKind == NORM_KIND_L2;
  var sum = vec4<f32>(0.0);
  var seen = vec4<u32>(0u);
  var i = first;
  // Four independent loads per turn (each coalesced across lanes) keep more memory in flight.
  for (; i + 3u * stride < count; i += 4u * stride) {
    let x0 = loadVec_4(offset + i);
    let x1 = loadVec_4(offset + i + stride);
    let x2 = loadVec_4(offset + i + 2u * stride);
    let x3 = loadVec_4(offset + i + 3u * stride);
    if (tracksMax) {
      seen = max(max(seen, max(magnitudeBits(x0), magnitudeBits(x1))), max(magnitudeBits(x2), magnitudeBits(x3)));
    }
    if (tracksBits) {
      seen = seen | ((bitcast<vec4<u32>>(x0) | bitcast<vec4<u32>>(x1)) | (bitcast<vec4<u32>>(x2) | bitcast<vec4<u32>>(x3)));
    }
    sum = addPowers(sum, x0, abs(x0), p);
    sum = addPowers(sum, x1, abs(x1), p);
    sum = addPowers(sum, x2, abs(x2), p);
    sum = addPowers(sum, x3, abs(x3), p);
  }
  for (; i < count; i += stride) {
    let x = loadVec_4(offset + i);
    if (tracksMax) { seen = max(seen, magnitudeBits(x)); }
    if (tracksBits) { seen = seen | bitcast<vec4<u32>>(x); }
    sum = addPowers(sum, x, abs(x), p);
  }
  if (!tracksMax) {
    if (sumInBand(sum)) { return Acc(sum, 0, 0u); }
    // Only ±0 in this share (no magnitude bit was ever set): nothing to rescale, no second read.
    if (tracksBits && largest(seen & vec4<u32>(ABS_MASK)) == 0u) {
      return Acc(vec4<f32>(0.0), MIN_SCALE_EXP, 0u);
    }
    seen = vec4<u32>(0u);
    for (var j = first; j < count; j += stride) { seen = max(seen, magnitudeBits(loadVec_4(offset + j))); }
  }
  let m = largest(seen);
  // Nothing (or only zeros) in this lane's share: the smallest scale, so that it cannot pull a
  // tiny scaled sum of another lane up to its own scale and flush it. NaN/Inf: the scale no longer matters.
  if (m == 0u || m >= INF_BITS) { return Acc(vec4<f32>(0.0), MIN_SCALE_EXP, m); }
  if (!needsScaling(m, p) && sumInBand(sum)) { return Acc(sum, 0, m); }
  let e = scaleExpFor(m);
  let inverse = inverseScale(e);
  sum = vec4<f32>(0.0);
  for (var j = first; j < count; j += stride) {
    let magnitude = abs(loadVec_4(offset + j)) * inverse;
    sum = addPowers(sum, magnitude, magnitude, p);
  }
  return Acc(sum, e, m);
}

// The unscaled sum of the p-th powers (L1 and L2 only) of a lane's share of a chunk, as `sweep`
// reads it, with none of its exact path: the fast path of small and medium chunks, whose caller
// checks the lane's total against the band and sweeps the chunks again where it left it.
fn quickSum_4(offset: u32, count: u32, first: u32, stride: u32, p: f32) -> vec4<f32> {
  var sum = vec4<f32>(0.0);
  var i = first;
  for (; i + 3u * stride < count; i += 4u * stride) {
    let x0 = loadVec_4(offset + i);
    let x1 = loadVec_4(offset + i + stride);
    let x2 = loadVec_4(offset + i + 2u * stride);
    let x3 = loadVec_4(offset + i + 3u * stride);
    sum = addPowers(sum, x0, abs(x0), p);
    sum = addPowers(sum, x1, abs(x1), p);
    sum = addPowers(sum, x2, abs(x2), p);
    sum = addPowers(sum, x3, abs(x3), p);
  }
  for (; i < count; i += stride) {
    let x = loadVec_4(offset + i);
    sum = addPowers(sum, x, abs(x), p);
  }
  return sum;
}

@group(0) @binding(6) var<storage, read_write> grad_5: array<vec4<f32>>;

fn loadVec_5(index: u32) -> vec4<f32> {
  return vec4<f32>(grad_5[index]);
}

// The accumulator of whole vec4s of [offset, offset + count) (this lane's share), for the caller
// to combine (once per call site, not once per return here: every call is inlined, and code size
// is compile time on CPU adapters). The first pass sums unscaled, and for p = 1 touches nothing
// else: one load and one add per vec4; p = 2 adds one OR per vec4 of the bits seen, so that an
// all-zero share (a zero sum, like a share of tiny values) is told apart without reading it
// again. Only a share whose sum leaves the safe band (or is NaN/Inf) and is not all zeros is read
// again, for its largest |x| and, where needed, a sum scaled by a power of two.
fn sweep_5(offset: u32, count: u32, first: u32, stride: u32, p: f32) -> Acc {
  let tracksMax = normKind == NORM_KIND_MAX || normKind == NORM_KIND_P;
  let tracksBits = normKind == NORM_KIND_L2;
  var sum = vec4<f32>(0.0);
  var seen = vec4<u32>(0u);
  var i = first;
  // Four independent loads per turn (each coalesced across lanes) keep more memory in flight.
  for (; i + 3u * stride < count; i += 4u * stride) {
    let x0 = loadVec_5(offset + i);
    let x1 = loadVec_5(offset + i + stride);
    let x2 = loadVec_5(offset + i + 2u * stride);
    let x3 = loadVec_5(offset + i + 3u * stride);
    if (tracksMax) {
      seen = max(max(seen, max(magnitudeBits(x0), magnitudeBits(x1))), max(magnitudeBits(x2), magnitudeBits(x3)));
    }
    if (tracksBits) {
      seen = seen | ((bitcast<vec4<u32>>(x0) | bitcast<vec4<u32>>(x1)) | (bitcast<vec4<u32>>(x2) | bitcast<vec4<u32>>(x3)));
    }
    sum = addPowers(sum, x0, abs(x0), p);
    sum = addPowers(sum, x1, abs(x1), p);
    sum = addPowers(sum, x2, abs(x2), p);
    sum = addPowers(sum, x3, abs(x3), p);
  }
  for (; i < count; i += stride) {
    let x = loadVec_5(offset + i);
    if (tracksMax) { seen = max(seen, magnitudeBits(x)); }
    if (tracksBits) { seen = seen | bitcast<vec4<u32>>(x); }
    sum = addPowers(sum, x, abs(x), p);
  }
  if (!tracksMax) {
    if (sumInBand(sum)) { return Acc(sum, 0, 0u); }
    // Only ±0 in this share (no magnitude bit was ever set): nothing to rescale, no second read.
    if (tracksBits && largest(seen & vec4<u32>(ABS_MASK)) == 0u) {
      return Acc(vec4<f32>(0.0), MIN_SCALE_EXP, 0u);
    }
    seen = vec4<u32>(0u);
    for (var j = first; j < count; j += stride) { seen = max(seen, magnitudeBits(loadVec_5(offset + j))); }
  }
  let m = largest(seen);
  // Nothing (or only zeros) in this lane's share: the smallest scale, so that it cannot pull a
  // tiny scaled sum of another lane up to its own scale and flush it. NaN/Inf: the scale no longer matters.
  if (m == 0u || m >= INF_BITS) { return Acc(vec4<f32>(0.0), MIN_SCALE_EXP, m); }
  if (!needsScaling(m, p) && sumInBand(sum)) { return Acc(sum, 0, m); }
  let e = scaleExpFor(m);
  let inverse = inverseScale(e);
  sum = vec4<f32>(0.0);
  for (var j = first; j < count; j += stride) {
    let magnitude = abs(loadVec_5(offset + j)) * inverse;
    sum = addPowers(sum, magnitude, magnitude, p);
  }
  return Acc(sum, e, m);
}

// The unscaled sum of the p-th powers (L1 and L2 only) of a lane's share of a chunk, as `sweep`
// reads it, with none of its exact path: the fast path of small and medium chunks, whose caller
// checks the lane's total against the band and sweeps the chunks again where it left it.
fn quickSum_5(offset: u32, count: u32, first: u32, stride: u32, p: f32) -> vec4<f32> {
  var sum = vec4<f32>(0.0);
  var i = first;
  for (; i + 3u * stride < count; i += 4u * stride) {
    let x0 = loadVec_5(offset + i);
    let x1 = loadVec_5(offset + i + stride);
    let x2 = loadVec_5(offset + i + 2u * stride);
    let x3 = loadVec_5(offset + i + 3u * stride);
    sum = addPowers(sum, x0, abs(x0), p);
    sum = addPowers(sum, x1, abs(x1), p);
    sum = addPowers(sum, x2, abs(x2), p);
    sum = addPowers(sum, x3, abs(x3), p);
  }
  for (; i < count; i += stride) {
    let x = loadVec_5(offset + i);
    sum = addPowers(sum, x, abs(x), p);
  }
  return sum;
}

@group(0) @binding(7) var<storage, read_write> grad_6: array<vec4<f32>>;

fn loadVec_6(index: u32) -> vec4<f32> {
  return vec4<f32>(grad_6[index]);
}

// The accumulator of whole vec4s of [offset, offset + count) (this lane's share), for the caller
// to combine (once per call site, not once per return here: every call is inlined, and code size
// is compile time on CPU adapters). The first pass sums unscaled, and for p = 1 touches nothing
// else: one load and one add per vec4; p = 2 adds one OR per vec4 of the bits seen, so that an
// all-zero share (a zero sum, like a share of tiny values) is told apart without reading it
// again. Only a share whose sum leaves the safe band (or is NaN/Inf) and is not all zeros is read
// again, for its largest |x| and, where needed, a sum scaled by a power of two.
fn sweep_6(offset: u32, count: u32, first: u32, stride: u32, p: f32) -> Acc {
  let tracksMax = normKind == NORM_KIND_MAX || normKind == NORM_KIND_P;
  let tracksBits = normKind == NORM_KIND_L2;
  var sum = vec4<f32>(0.0);
  var seen = vec4<u32>(0u);
  var i = first;
  // Four independent loads per turn (each coalesced across lanes) keep more memory in flight.
  for (; i + 3u * stride < count; i += 4u * stride) {
    let x0 = loadVec_6(offset + i);
    let x1 = loadVec_6(offset + i + stride);
    let x2 = loadVec_6(offset + i + 2u * stride);
    let x3 = loadVec_6(offset + i + 3u * stride);
    if (tracksMax) {
      seen = max(max(seen, max(magnitudeBits(x0), magnitudeBits(x1))), max(magnitudeBits(x2), magnitudeBits(x3)));
    }
    if (tracksBits) {
      seen = seen | ((bitcast<vec4<u32>>(x0) | bitcast<vec4<u32>>(x1)) | (bitcast<vec4<u32>>(x2) | bitcast<vec4<u32>>(x3)));
    }
    sum = addPowers(sum, x0, abs(x0), p);
    sum = addPowers(sum, x1, abs(x1), p);
    sum = addPowers(sum, x2, abs(x2), p);
    sum = addPowers(sum, x3, abs(x3), p);
  }
  for (; i < count; i += stride) {
    let x = loadVec_6(offset + i);
    if (tracksMax) { seen = max(seen, magnitudeBits(x)); }
    if (tracksBits) { seen = seen | bitcast<vec4<u32>>(x); }
    sum = addPowers(sum, x, abs(x), p);
  }
  if (!tracksMax) {
    if (sumInBand(sum)) { return Acc(sum, 0, 0u); }
    // Only ±0 in this share (no magnitude bit was ever set): nothing to rescale, no second read.
    if (tracksBits && largest(seen & vec4<u32>(ABS_MASK)) == 0u) {
      return Acc(vec4<f32>(0.0), MIN_SCALE_EXP, 0u);
    }
    seen = vec4<u32>(0u);
    for (var j = first; j < count; j += stride) { seen = max(seen, magnitudeBits(loadVec_6(offset + j))); }
  }
  let m = largest(seen);
  // Nothing (or only zeros) in this lane's share: the smallest scale, so that it cannot pull a
  // tiny scaled sum of another lane up to its own scale and flush it. NaN/Inf: the scale no longer matters.
  if (m == 0u || m >= INF_BITS) { return Acc(vec4<f32>(0.0), MIN_SCALE_EXP, m); }
  if (!needsScaling(m, p) && sumInBand(sum)) { return Acc(sum, 0, m); }
  let e = scaleExpFor(m);
  let inverse = inverseScale(e);
  sum = vec4<f32>(0.0);
  for (var j = first; j < count; j += stride) {
    let magnitude = abs(loadVec_6(offset + j)) * inverse;
    sum = addPowers(sum, magnitude, magnitude, p);
  }
  return Acc(sum, e, m);
}

// The unscaled sum of the p-th powers (L1 and L2 only) of a lane's share of a chunk, as `sweep`
// reads it, with none of its exact path: the fast path of small and medium chunks, whose caller
// checks the lane's total against the band and sweeps the chunks again where it left it.
fn quickSum_6(offset: u32, count: u32, first: u32, stride: u32, p: f32) -> vec4<f32> {
  var sum = vec4<f32>(0.0);
  var i = first;
  for (; i + 3u * stride < count; i += 4u * stride) {
    let x0 = loadVec_6(offset + i);
    let x1 = loadVec_6(offset + i + stride);
    let x2 = loadVec_6(offset + i + 2u * stride);
    let x3 = loadVec_6(offset + i + 3u * stride);
    sum = addPowers(sum, x0, abs(x0), p);
    sum = addPowers(sum, x1, abs(x1), p);
    sum = addPowers(sum, x2, abs(x2), p);
    sum = addPowers(sum, x3, abs(x3), p);
  }
  for (; i < count; i += stride) {
    let x = loadVec_6(offset + i);
    sum = addPowers(sum, x, abs(x), p);
  }
  return sum;
}

@group(0) @binding(8) var<storage, read_write> grad_7: array<vec4<f32>>;

fn loadVec_7(index: u32) -> vec4<f32> {
  return vec4<f32>(grad_7[index]);
}

// The accumulator of whole vec4s of [offset, offset + count) (this lane's share), for the caller
// to combine (once per call site, not once per return here: every call is inlined, and code size
// is compile time on CPU adapters). The first pass sums unscaled, and for p = 1 touches nothing
// else: one load and one add per vec4; p = 2 adds one OR per vec4 of the bits seen, so that an
// all-zero share (a zero sum, like a share of tiny values) is told apart without reading it
// again. Only a share whose sum leaves the safe band (or is NaN/Inf) and is not all zeros is read
// again, for its largest |x| and, where needed, a sum scaled by a power of two.
fn sweep_7(offset: u32, count: u32, first: u32, stride: u32, p: f32) -> Acc {
  let tracksMax = normKind == NORM_KIND_MAX || normKind == NORM_KIND_P;
  let tracksBits = normKind == NORM_KIND_L2;
  var sum = vec4<f32>(0.0);
  var seen = vec4<u32>(0u);
  var i = first;
  // Four independent loads per turn (each coalesced across lanes) keep more memory in flight.
  for (; i + 3u * stride < count; i += 4u * stride) {
    let x0 = loadVec_7(offset + i);
    let x1 = loadVec_7(offset + i + stride);
    let x2 = loadVec_7(offset + i + 2u * stride);
    let x3 = loadVec_7(offset + i + 3u * stride);
    if (tracksMax) {
      seen = max(max(seen, max(magnitudeBits(x0), magnitudeBits(x1))), max(magnitudeBits(x2), magnitudeBits(x3)));
    }
    if (tracksBits) {
      seen = seen | ((bitcast<vec4<u32>>(x0) | bitcast<vec4<u32>>(x1)) | (bitcast<vec4<u32>>(x2) | bitcast<vec4<u32>>(x3)));
    }
    sum = addPowers(sum, x0, abs(x0), p);
    sum = addPowers(sum, x1, abs(x1), p);
    sum = addPowers(sum, x2, abs(x2), p);
    sum = addPowers(sum, x3, abs(x3), p);
  }
  for (; i < count; i += stride) {
    let x = loadVec_7(offset + i);
    if (tracksMax) { seen = max(seen, magnitudeBits(x)); }
    if (tracksBits) { seen = seen | bitcast<vec4<u32>>(x); }
    sum = addPowers(sum, x, abs(x), p);
  }
  if (!tracksMax) {
    if (sumInBand(sum)) { return Acc(sum, 0, 0u); }
    // Only ±0 in this share (no magnitude bit was ever set): nothing to rescale, no second read.
    if (tracksBits && largest(seen & vec4<u32>(ABS_MASK)) == 0u) {
      return Acc(vec4<f32>(0.0), MIN_SCALE_EXP, 0u);
    }
    seen = vec4<u32>(0u);
    for (var j = first; j < count; j += stride) { seen = max(seen, magnitudeBits(loadVec_7(offset + j))); }
  }
  let m = largest(seen);
  // Nothing (or only zeros) in this lane's share: the smallest scale, so that it cannot pull a
  // tiny scaled sum of another lane up to its own scale and flush it. NaN/Inf: the scale no longer matters.
  if (m == 0u || m >= INF_BITS) { return Acc(vec4<f32>(0.0), MIN_SCALE_EXP, m); }
  if (!needsScaling(m, p) && sumInBand(sum)) { return Acc(sum, 0, m); }
  let e = scaleExpFor(m);
  let inverse = inverseScale(e);
  sum = vec4<f32>(0.0);
  for (var j = first; j < count; j += stride) {
    let magnitude = abs(loadVec_7(offset + j)) * inverse;
    sum = addPowers(sum, magnitude, magnitude, p);
  }
  return Acc(sum, e, m);
}

// The unscaled sum of the p-th powers (L1 and L2 only) of a lane's share of a chunk, as `sweep`
// reads it, with none of its exact path: the fast path of small and medium chunks, whose caller
// checks the lane's total against the band and sweeps the chunks again where it left it.
fn quickSum_7(offset: u32, count: u32, first: u32, stride: u32, p: f32) -> vec4<f32> {
  var sum = vec4<f32>(0.0);
  var i = first;
  for (; i + 3u * stride < count; i += 4u * stride) {
    let x0 = loadVec_7(offset + i);
    let x1 = loadVec_7(offset + i + stride);
    let x2 = loadVec_7(offset + i + 2u * stride);
    let x3 = loadVec_7(offset + i + 3u * stride);
    sum = addPowers(sum, x0, abs(x0), p);
    sum = addPowers(sum, x1, abs(x1), p);
    sum = addPowers(sum, x2, abs(x2), p);
    sum = addPowers(sum, x3, abs(x3), p);
  }
  for (; i < count; i += stride) {
    let x = loadVec_7(offset + i);
    sum = addPowers(sum, x, abs(x), p);
  }
  return sum;
}

fn sweep(slot: u32, offset: u32, count: u32, first: u32, stride: u32, p: f32) -> Acc {
  switch slot {
    case 0u: { return sweep_0(offset, count, first, stride, p); }
    case 1u: { return sweep_1(offset, count, first, stride, p); }
    case 2u: { return sweep_2(offset, count, first, stride, p); }
    case 3u: { return sweep_3(offset, count, first, stride, p); }
    case 4u: { return sweep_4(offset, count, first, stride, p); }
    case 5u: { return sweep_5(offset, count, first, stride, p); }
    case 6u: { return sweep_6(offset, count, first, stride, p); }
    case 7u: { return sweep_7(offset, count, first, stride, p); }
    default: { return emptyAcc(); }
  }
}

fn quickSum(slot: u32, offset: u32, count: u32, first: u32, stride: u32, p: f32) -> vec4<f32> {
  switch slot {
    case 0u: { return quickSum_0(offset, count, first, stride, p); }
    case 1u: { return quickSum_1(offset, count, first, stride, p); }
    case 2u: { return quickSum_2(offset, count, first, stride, p); }
    case 3u: { return quickSum_3(offset, count, first, stride, p); }
    case 4u: { return quickSum_4(offset, count, first, stride, p); }
    case 5u: { return quickSum_5(offset, count, first, stride, p); }
    case 6u: { return quickSum_6(offset, count, first, stride, p); }
    case 7u: { return quickSum_7(offset, count, first, stride, p); }
    default: { return vec4<f32>(0.0); }
  }
}

fn loadVec(slot: u32, index: u32) -> vec4<f32> {
  switch slot {
    case 0u: { return loadVec_0(index); }
    case 1u: { return loadVec_1(index); }
    case 2u: { return loadVec_2(index); }
    case 3u: { return loadVec_3(index); }
    case 4u: { return loadVec_4(index); }
    case 5u: { return loadVec_5(index); }
    case 6u: { return loadVec_6(index); }
    case 7u: { return loadVec_7(index); }
    default: { return vec4<f32>(0.0); }
  }
}


// ⟨shaders/common/plan_chunks.wgsl⟩

// ⟨shaders/norm/norm_partials.wgsl⟩
