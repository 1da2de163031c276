// Adaptive clipping thresholds, pass 2 of a step (one workgroup): merges the norm's partials, feeds
// the norm to the rule's state in GPU memory, and writes the decision at the rule's threshold
// (decision.wgsl) for the indirect scale pass. Non-finite norms are not recorded.
//   rule 0, AutoClip: a ring of the latest `capacity` finite norms; the threshold is their
//     `percentile` (numpy's linear interpolation), ranked by counting on every lane.
//   rule 1, ZClip: the first `warmupSteps` finite norms are kept (their mean and population
//     variance are the statistics so far, no clipping); after that an EMA of mean and variance,
//     and a norm with z = (norm - mean) / (std + 1e-6) above zThreshold is clipped to
//     mean + zThreshold · std (mode 0) or mean + zThreshold² · std / z (mode 1); the EMA takes the
//     clipped value.
//
// Bindings: group(0) = params (uniform, dynamic offset), partials (read-only), result (NormResult
// slot, dynamic offset), dispatch (decision.wgsl), state (AdaptiveState, read-write).

override rule: u32 = ADAPTIVE_AUTOCLIP;

struct AdaptiveState {
  count: u32,         // norms held in `values`
  head: u32,          // AutoClip: where the next norm goes
  capacity: u32,      // AutoClip: history; ZClip: warmupSteps
  mode: u32,          // ZClip: 0 zscore, 1 adaptive
  threshold: f32,     // the latest step's threshold (+Inf when none)
  mean: f32,          // ZClip statistics (NaN before any norm)
  variance: f32,
  percentile: f32,    // AutoClip
  alpha: f32,         // ZClip EMA weight of the old value, and 1 - alpha rounded once on the host
  oneMinusAlpha: f32,
  zThreshold: f32,
  _pad: u32,
  values: array<f32>,
}

@group(0) @binding(ADAPTIVE_PARAMS) var<uniform> params: Params;
@group(0) @binding(ADAPTIVE_PARTIALS) var<storage, read> partials: array<Acc>;
@group(0) @binding(ADAPTIVE_RESULT) var<storage, read_write> result: NormResult;
@group(0) @binding(ADAPTIVE_DISPATCH) var<storage, read_write> dispatch: array<u32>;
@group(0) @binding(ADAPTIVE_STATE) var<storage, read_write> state: AdaptiveState;

const ZCLIP_EPS: f32 = 1e-6;

var<workgroup> stepNorm: f32;
var<workgroup> stepFlags: u32;
var<workgroup> rankedLow: f32;
var<workgroup> rankedHigh: f32;

// The values at sorted positions `low` and `high` of the history: each lane ranks its values by
// counting (ties broken by index), O(count² / WG), fine for the few thousand norms a history holds.
fn rankHistory(local: u32, count: u32, low: u32, high: u32) {
  for (var i = local; i < count; i += WG) {
    let v = state.values[i];
    var rank = 0u;
    for (var j = 0u; j < count; j++) {
      let w = state.values[j];
      if (w < v || (w == v && j < i)) { rank++; }
    }
    if (rank == low) { rankedLow = v; }
    if (rank == high) { rankedHigh = v; }
  }
}

fn recordAutoClip(norm: f32) {
  state.values[state.head] = norm;
  state.head = (state.head + 1u) % state.capacity;
  state.count = min(state.count + 1u, state.capacity);
}

// ZClip's update for a finite norm; returns the threshold (+Inf when it does not clip).
fn observeZClip(norm: f32) -> f32 {
  let none = floatFromBits(INF_BITS);
  if (state.count < state.capacity) {
    state.values[state.count] = norm;
    state.count++;
    let n = state.count;
    var sum = 0.0;
    for (var i = 0u; i < n; i++) { sum += state.values[i]; }
    let mean = sum / f32(n);
    var squares = 0.0;
    for (var i = 0u; i < n; i++) {
      let d = state.values[i] - mean;
      squares += d * d;
    }
    state.mean = mean;
    state.variance = squares / f32(n);
    return none;
  }
  let deviation = sqrt(state.variance);
  let z = (norm - state.mean) / (deviation + ZCLIP_EPS);
  var threshold = none;
  var effective = norm;
  if (z > state.zThreshold) {
    if (state.mode == ZCLIP_ZSCORE) {
      threshold = state.mean + state.zThreshold * deviation;
    } else {
      threshold = state.mean + state.zThreshold * state.zThreshold * deviation / z;
    }
    effective = threshold;
  }
  let mean = state.alpha * state.mean + state.oneMinusAlpha * effective;
  let d = effective - mean;
  state.mean = mean;
  state.variance = state.alpha * state.variance + state.oneMinusAlpha * d * d;
  return threshold;
}

@compute @workgroup_size(WG)
fn main(ids: LaneIds) {
  let p = params.p;
  let merged = mergePartials(ids, p, true);
  if (ids.local == 0u) {
    stepNorm = normOf(merged, p);
    stepFlags = flagsOf(merged) | classify(stepNorm);
    if (rule == ADAPTIVE_AUTOCLIP && stepFlags == 0u) { recordAutoClip(stepNorm); }
  }
  storageBarrier();
  workgroupBarrier();

  var threshold = floatFromBits(INF_BITS);
  if (rule == ADAPTIVE_AUTOCLIP) {
    let count = state.count;
    let position = f32(max(count, 1u) - 1u) * state.percentile / 100.0;
    let low = u32(floor(position));
    let high = min(low + 1u, max(count, 1u) - 1u);
    rankHistory(ids.local, count, low, high);
    workgroupBarrier();
    if (count > 0u) { threshold = rankedLow + (rankedHigh - rankedLow) * (position - f32(low)); }
  }
  if (ids.local != 0u) { return; }
  let norm = stepNorm;
  let flags = stepFlags;
  if (rule == ADAPTIVE_ZCLIP && flags == 0u) { threshold = observeZClip(norm); }
  state.threshold = threshold;
  writeDecision(norm, flags, threshold, 1.0);
}
