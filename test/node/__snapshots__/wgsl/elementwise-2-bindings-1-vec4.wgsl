// ⟨the ABI prelude (src/core/abi.ts, src/kernels/layouts.ts)⟩

// ⟨shaders/common/common.wgsl⟩

// Per-binding in-place writes of gradient windows for the write kernels (elementwise.wgsl,
// segment_scale.wgsl, unscale.wgsl): OP_SCALE multiplies by a coefficient, OP_CLAMP clamps to
// [lo, hi] keeping NaN, OP_UNSCALE multiplies and notes in `sawNonfinite` whether any element it
// read (inside the views: a masked vec4's other components are not looked at) was NaN or ±Inf.
// f16 slots (the element type is filled in per slot) are widened, transformed in f32 and rounded back.
// src/shaders.ts repeats the vec4 block for a dispatch group's first slots and the scalar block
// for the rest (the same windows and bindings as grad_read.wgsl, so one bind group serves the
// norm and the write kernels). An `apply` covers elements first, first + stride, ... of
// [offset, offset + count); a masked vec4 is rewritten whole by the one lane that owns it, its
// components outside the mask with their own bits.

override op: u32 = OP_SCALE;

var<private> sawNonfinite: bool = false;

// OP_UNSCALE: notes a NaN or ±Inf among the components of `x` that `mask` selects.
fn note(x: vec4<f32>, mask: vec4<bool>) {
  if (op == OP_UNSCALE) {
    let nonfinite = (bitcast<vec4<u32>>(x) & vec4<u32>(ABS_MASK)) >= vec4<u32>(INF_BITS);
    sawNonfinite = sawNonfinite || any(nonfinite & mask);
  }
}

fn transform(x: vec4<f32>, coef: f32, lo: f32, hi: f32) -> vec4<f32> {
  if (op != OP_CLAMP) { return x * coef; }
  // min/max take ±Inf to the bounds; NaN, whose min/max WGSL leaves open, is kept by bit pattern.
  let clamped = min(max(x, vec4<f32>(lo)), vec4<f32>(hi));
  return select(clamped, x, (bitcast<vec4<u32>>(x) & vec4<u32>(ABS_MASK)) > vec4<u32>(INF_BITS));
}

@group(0) @binding(1) var<storage, read_write> grad_0: array<vec4<f32>>;

fn load_0(index: u32) -> vec4<f32> {
  return vec4<f32>(grad_0[index]);
}

fn store_0(index: u32, value: vec4<f32>) {
  grad_0[index] = vec4<f32>(value);
}

fn apply_0(offset: u32, count: u32, first: u32, stride: u32, coef: f32, lo: f32, hi: f32) {
  var i = first;
  // Four independent loads per turn (each coalesced across lanes) keep more memory in flight.
  for (; i + 3u * stride < count; i += 4u * stride) {
    let j = offset + i;
    let x0 = load_0(j);
    let x1 = load_0(j + stride);
    let x2 = load_0(j + 2u * stride);
    let x3 = load_0(j + 3u * stride);
    note(x0, vec4<bool>(true));
    note(x1, vec4<bool>(true));
    note(x2, vec4<bool>(true));
    note(x3, vec4<bool>(true));
    store_0(j, transform(x0, coef, lo, hi));
    store_0(j + stride, transform(x1, coef, lo, hi));
    store_0(j + 2u * stride, transform(x2, coef, lo, hi));
    store_0(j + 3u * stride, transform(x3, coef, lo, hi));
  }
  for (; i < count; i += stride) {
    let x = load_0(offset + i);
    note(x, vec4<bool>(true));
    store_0(offset + i, transform(x, coef, lo, hi));
  }
}

// The components outside the mask (another view's, or bytes no view covers) keep their bits.
fn applyMasked_0(index: u32, mask: vec4<bool>, coef: f32, lo: f32, hi: f32) {
  let raw = grad_0[index];
  note(vec4<f32>(raw), mask);
  grad_0[index] = select(raw, vec4<f32>(transform(vec4<f32>(raw), coef, lo, hi)), mask);
}

@group(0) @binding(2) var<storage, read_write> grad_1: array<f32>;

fn apply_1(offset: u32, count: u32, first: u32, stride: u32, coef: f32, lo: f32, hi: f32) {
  for (var i = first; i < count; i += stride) {
    let x = vec4<f32>(f32(grad_1[offset + i]), 0.0, 0.0, 0.0);
    note(x, vec4<bool>(true, false, false, false));
    grad_1[offset + i] = f32(transform(x, coef, lo, hi).x);
  }
}

fn apply(slot: u32, offset: u32, count: u32, first: u32, stride: u32, coef: f32, lo: f32, hi: f32) {
  switch slot {
    case 0u: { apply_0(offset, count, first, stride, coef, lo, hi); }
    case 1u: { apply_1(offset, count, first, stride, coef, lo, hi); }
    default: {  }
  }
}

fn applyMasked(slot: u32, index: u32, mask: vec4<bool>, coef: f32, lo: f32, hi: f32) {
  switch slot {
    case 0u: { applyMasked_0(index, mask, coef, lo, hi); }
    default: {  }
  }
}


// ⟨shaders/common/plan_chunks.wgsl⟩

// ⟨shaders/norm/elementwise.wgsl⟩
