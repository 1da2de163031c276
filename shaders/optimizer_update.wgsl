// The fused optimizer step, pass 2 of 2: one lane per element clips the gradient (by the GPU's
// coefficient or by value), then applies PyTorch's SGD (momentum, dampening, nesterov, weight
// decay), Adam (L2 decay) or AdamW (decoupled decay) to the parameter and its state in place. The
// gradients are only read. Nothing is written when optimizer_prepare.wgsl marked the step skipped.
//
// Bindings: group(0) = table + window_0 .. window_{K-1} (read_write array<f32>: the buffers that
// hold the gradients and the parameters, one window per buffer); group(1) = settings (uniform,
// dynamic offset), state (OptimizerStep, read-only), first (momentum buffer / Adam's m), second
// (Adam's v). Table: header (viewCount, laneCount, -, -), then per view (gradient slot, element
// offset in its window, parameter slot, element offset), then per view (state element offset,
// length, first lane, -) (view_search.wgsl).

struct UpdateTable {
  viewCount: u32,
  laneCount: u32,
  _pad0: u32,
  _pad1: u32,
  entries: array<vec4<u32>>,
}

@group(0) @binding(0) var<storage, read> table: UpdateTable;
@group(1) @binding(0) var<uniform> settings: OptimizerSettings;
@group(1) @binding(1) var<storage, read> state: OptimizerStep;
@group(1) @binding(2) var<storage, read_write> first: array<f32>;
@group(1) @binding(3) var<storage, read_write> second: array<f32>;

// @per-scalar-binding-begin
@group(0) @binding(SLOT_BINDING) var<storage, read_write> window_SLOT: array<f32>;

fn load_SLOT(index: u32) -> f32 {
  return window_SLOT[index];
}

fn store_SLOT(index: u32, value: f32) {
  window_SLOT[index] = value;
}
// @per-scalar-binding-end

@compute @workgroup_size(WG)
fn main(ids: GridIds) {
  if (state.skip != 0u) { return; }
  let index = foldedIndex(ids);
  if (index >= table.laneCount) { return; }
  let v = viewOfLane(index);
  let place = table.entries[v];
  let extent = table.entries[table.viewCount + v];
  let j = index - extent.z;
  let s = extent.x + j;

  var g = load(place.x, place.y + j);
  if (settings.clipKind == CLIP_VALUE) {
    g = clamp(g, -settings.clipValue, settings.clipValue);
  } else {
    g *= state.coef;
  }
  var w = load(place.z, place.w + j);
  if (settings.kind == OPT_SGD) {
    g = fma(settings.weightDecay, w, g);
    if (settings.momentum != 0.0) {
      var velocity = g;
      if (state.firstStep == 0u) { velocity = settings.momentum * first[s] + settings.oneMinusDampening * g; }
      first[s] = velocity;
      g = select(velocity, fma(settings.momentum, velocity, g), settings.nesterov != 0u);
    }
    w -= settings.lr * g;
  } else {
    if (settings.kind == OPT_ADAMW) {
      w *= state.decay;
    } else {
      g = fma(settings.weightDecay, w, g);
    }
    let m = settings.beta1 * first[s] + settings.oneMinusBeta1 * g;
    let v = settings.beta2 * second[s] + settings.oneMinusBeta2 * g * g;
    first[s] = m;
    second[s] = v;
    w -= state.stepSize * m / (sqrt(v) / state.correction2Sqrt + settings.eps);
  }
  store(place.z, place.w + j, w);
}
