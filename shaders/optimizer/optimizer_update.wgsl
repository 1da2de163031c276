// The fused optimizer step, pass 2 of 2: clips the gradients (by the GPU's coefficient or by
// value), then applies PyTorch's SGD (momentum, dampening, nesterov, weight decay), Adam (L2
// decay) or AdamW (decoupled decay) to the parameters and their state in place. The gradients are
// only read. Nothing is written when optimizer_prepare.wgsl marked the step skipped.
//
// Specialised by override constants (`kind`, `clipKind`, `momentum`, `nesterov`, and the window
// slots when one pair serves the whole dispatch): the emulators run every side of a branch they
// cannot prove uniform, so the hot loop holds one update rule and, for an arena, no slot switch.
//
// Bindings: group(0) = table + window_0 .. window_{K-1} (read_write array<f32>, or array<f16> for
// the f16 gradients' buffers, which come last: the buffers that hold the gradients and the
// parameters, one window per buffer; parameters are f32, the master weights); group(1) = settings (uniform,
// dynamic offset), state (OptimizerStep, read-only), first (momentum buffer / Adam's m), second
// (Adam's v), both vec4: each view's state starts at a multiple of four elements. Table: header
// (viewCount, quadCount, -, -), then per view (gradient slot, element offset in its window,
// parameter slot, element offset), then per view (state vec4 offset, length, first quad, -)
// (view_search.wgsl).

override kind: u32;
override clipKind: u32;
/** SGD with momentum != 0: the momentum buffer is read and written. */
override momentum: bool = false;
override nesterov: bool = false;
/** A GradScaler's step: the gradients are unscaled by state.coef (times the clip's) before a clip by value. */
override scaled: bool = false;
/** Every view's gradient / parameter window slot, or OPT_WINDOW_FROM_TABLE: each view's own. */
override gradSlot: u32 = OPT_WINDOW_FROM_TABLE;
override paramSlot: u32 = OPT_WINDOW_FROM_TABLE;

struct UpdateTable {
  viewCount: u32,
  laneCount: u32,
  _pad0: u32,
  _pad1: u32,
  entries: array<vec4<u32>>,
}

@group(0) @binding(OPTIMIZER_DATA_TABLE) var<storage, read> table: UpdateTable;
@group(1) @binding(OPTIMIZER_STATE_SETTINGS) var<uniform> settings: OptimizerSettings;
@group(1) @binding(OPTIMIZER_STATE_STEP) var<storage, read> state: OptimizerStep;
@group(1) @binding(OPTIMIZER_STATE_FIRST) var<storage, read_write> first: array<vec4<f32>>;
@group(1) @binding(OPTIMIZER_STATE_SECOND) var<storage, read_write> second: array<vec4<f32>>;

// @per-scalar-binding-begin
@group(0) @binding(SLOT_BINDING) var<storage, read_write> window_SLOT: array<GRAD_T>;

fn load4_SLOT(index: u32) -> vec4<f32> {
  return vec4<f32>(f32(window_SLOT[index]), f32(window_SLOT[index + 1u]), f32(window_SLOT[index + 2u]), f32(window_SLOT[index + 3u]));
}

fn store4_SLOT(index: u32, value: vec4<f32>) {
  window_SLOT[index] = GRAD_T(value.x);
  window_SLOT[index + 1u] = GRAD_T(value.y);
  window_SLOT[index + 2u] = GRAD_T(value.z);
  window_SLOT[index + 3u] = GRAD_T(value.w);
}

// Elements index .. index + count - 1 (count < 4; the rest read as 0).
fn loadPart_SLOT(index: u32, count: u32) -> vec4<f32> {
  var r = vec4<f32>(0.0);
  for (var k = 0u; k < count; k++) { r[k] = f32(window_SLOT[index + k]); }
  return r;
}

fn storePart_SLOT(index: u32, value: vec4<f32>, count: u32) {
  for (var k = 0u; k < count; k++) { window_SLOT[index + k] = GRAD_T(value[k]); }
}
// @per-scalar-binding-end

// The new parameters from the clipped gradient `g` and the parameters `w`; updates the state at `s`.
fn update(gradient: vec4<f32>, w: vec4<f32>, s: u32) -> vec4<f32> {
  var g = gradient;
  if (clipKind == CLIP_NORM || scaled) {
    g *= state.coef;
  }
  if (clipKind == CLIP_VALUE) {
    g = clamp(g, vec4<f32>(-settings.clipValue), vec4<f32>(settings.clipValue));
  }
  if (kind == OPT_SGD) {
    g = fma(vec4<f32>(settings.weightDecay), w, g);
    if (momentum) {
      var velocity = g;
      if (state.firstStep == 0u) { velocity = settings.momentum * first[s] + settings.oneMinusDampening * g; }
      first[s] = velocity;
      if (nesterov) { g = fma(vec4<f32>(settings.momentum), velocity, g); } else { g = velocity; }
    }
    return w - settings.lr * g;
  }
  var decayed = w;
  if (kind == OPT_ADAMW) {
    decayed = w * state.decay;
  } else {
    g = fma(vec4<f32>(settings.weightDecay), w, g);
  }
  let m = settings.beta1 * first[s] + settings.oneMinusBeta1 * g;
  let v2 = settings.beta2 * second[s] + settings.oneMinusBeta2 * g * g;
  first[s] = m;
  second[s] = v2;
  return decayed - state.stepSize * m / (sqrt(v2) / state.correction2Sqrt + settings.eps);
}

// Each workgroup takes one contiguous range of the dispatch's quads (four consecutive elements
// of one view) and walks the views it overlaps; per view its lanes stride over the whole quads,
// so the view's slots and offsets are the same for every lane, and one lane takes the last,
// partial quad.
@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) group: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) local: u32) {
  if (state.skip != 0u) { return; }
  let quads = table.laneCount;
  let perGroup = (quads + groups.x - 1u) / groups.x;
  let begin = min(group.x * perGroup, quads);
  let end = min(begin + perGroup, quads);
  if (begin >= end) { return; }
  for (var v = viewOfLane(begin); v < table.viewCount; v++) {
    let entry = table.entries[v];
    let place = vec4<u32>(
      select(entry.x, gradSlot, gradSlot != OPT_WINDOW_FROM_TABLE),
      entry.y,
      select(entry.z, paramSlot, paramSlot != OPT_WINDOW_FROM_TABLE),
      entry.w,
    );
    let extent = table.entries[table.viewCount + v];
    let firstQuad = extent.z;
    if (firstQuad >= end) { break; }
    let lo = max(begin, firstQuad) - firstQuad;
    let hi = min(end - firstQuad, (extent.y + 3u) / 4u);
    let whole = min(hi, extent.y / 4u);
    for (var q = lo + local; q < whole; q += WG) {
      let j = 4u * q;
      store4(place.z, place.w + j, update(load4(place.x, place.y + j), load4(place.z, place.w + j), extent.x + q));
    }
    if (hi > whole && local == 0u) {
      let j = 4u * whole;
      let count = extent.y - j;
      let w = update(loadPart(place.x, place.y + j, count), loadPart(place.z, place.w + j, count), extent.x + whole);
      storePart(place.z, place.w + j, w, count);
    }
  }
}
