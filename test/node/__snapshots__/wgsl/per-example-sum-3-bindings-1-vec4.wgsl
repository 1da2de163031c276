// ⟨the ABI prelude (src/core/abi.ts, src/kernels/layouts.ts)⟩

// ⟨shaders/common/common.wgsl⟩

// ⟨shaders/privacy/noise.wgsl⟩

// Per-example clipping, the sum over the batch: out[j] = (Σ_e coefficient_e · view[e · L + j] +
// noiseStd · n_i) / divisor for each element j of a view's per-example slice (length L), e over the
// first params.segmentLimit examples (the rest are padding, never read), the coefficients from
// segment_finalize.wgsl (rule 2, one segment per example), n_i the standard normal of the sum's
// coordinate i (its float index in the sums: view.w + j) under params' seed and step (noise.wgsl),
// computed as Σ_e (coefficient_e / divisor) · view[e · L + j] + (noiseStd / divisor) · n_i. A
// vec4 of output at a time: vector loads for views whose offset and L are multiples of 4 bytes × 4
// (bound as array<vec4<f32>>), four element loads per example for the rest (array<f32>, any
// offset and size). The views are read-only.
//
// Bindings: group(0) = table + view_0 .. view_{K-1} (the first table.vec4Slots as vec4);
// group(1) = params (uniform, dynamic offset) + segmentNorms (vec2: norm, coefficient per example;
// read-only) + sums (array<vec4<f32>>, the output buffer from its byte offset; each view's sum
// starts on a vec4 and the elements past its end in its last vec4 are written 0). Table: header
// (viewCount, batchSize, laneCount, vec4Slots), then per view (slot, offset in its window, L,
// output element offset) in the window's units (vec4s or elements), then per lane (view, first,
// stride, -) (plan/sum-plan.ts).

struct SumTable {
  viewCount: u32,
  batchSize: u32,
  laneCount: u32,
  vec4Slots: u32,
  entries: array<vec4<u32>>,
}

@group(0) @binding(SUM_DATA_TABLE) var<storage, read> table: SumTable;
@group(1) @binding(SUM_OUTPUT_PARAMS) var<uniform> params: Params;
@group(1) @binding(SUM_OUTPUT_SEGMENT_NORMS) var<storage, read> segmentNorms: array<vec2<f32>>;
@group(1) @binding(SUM_OUTPUT_SUMS) var<storage, read_write> sums: array<vec4<f32>>;

// The loops live in the per-slot functions, so the slot is chosen once per lane, not per load.
// `view` is the view's table entry (slot, offset, L, output offset); the lane takes output vec4s
// first, first + stride, ... In a vec4 view examples come four a turn, their coefficients
// (divided by the divisor) read once a turn rather than once per load; between turns the running
// sums wait in the output. (A scalar view, rare, keeps its loops simple.) Then, where the pipeline
// is `noisy`, main adds the noise (its std divided too) in a loop of its own. No branch sits inside
// a loop over outputs: an adapter that runs lanes in lockstep (a CPU one) would pay for every side
// of it.

override noisy: bool = false;

@group(0) @binding(1) var<storage, read> view_0: array<vec4<f32>>;

fn sumLane_0(view: vec4<u32>, first: u32, stride: u32) {
  let count = examples();
  let length = view.z;
  let out = view.w / 4u;
  let full = count / 4u;
  for (var turn = 0u; turn < full; turn++) {
    let e = 4u * turn;
    let c = coefficients(e, 4u);
    let at = view.y + e * length;
    if (turn == 0u) {
      for (var j = first; j < length; j += stride) {
        let a = at + j;
        sums[out + j] = c.x * view_0[a] + c.y * view_0[a + length] + c.z * view_0[a + 2u * length]
          + c.w * view_0[a + 3u * length];
      }
    } else {
      for (var j = first; j < length; j += stride) {
        let a = at + j;
        sums[out + j] += c.x * view_0[a] + c.y * view_0[a + length] + c.z * view_0[a + 2u * length]
          + c.w * view_0[a + 3u * length];
      }
    }
  }
  // The last count % 4 examples (or none at all: zeros).
  let e = 4u * full;
  let n = count - e;
  if (n > 0u || full == 0u) {
    let c = coefficients(e, n);
    let at = view.y + e * length;
    for (var j = first; j < length; j += stride) {
      var sum = vec4<f32>(0.0);
      for (var k = 0u; k < n; k++) { sum += c[k] * view_0[at + j + k * length]; }
      if (full > 0u) { sum += sums[out + j]; }
      sums[out + j] = sum;
    }
  }
}

@group(0) @binding(2) var<storage, read> view_1: array<f32>;

fn sumLane_1(view: vec4<u32>, first: u32, stride: u32) {
  let count = examples();
  let length = view.z;
  let out = view.w / 4u;
  for (var b = first; 4u * b < length; b += stride) {
    var sum = vec4<f32>(0.0);
    for (var e = 0u; e < count; e += 4u) {
      let n = min(count - e, 4u);
      let c = coefficients(e, n);
      for (var i = 0u; i < 4u && 4u * b + i < length; i++) {
        let at = view.y + 4u * b + i + e * length;
        for (var k = 0u; k < n; k++) { sum[i] += c[k] * view_1[at + k * length]; }
      }
    }
    sums[out + b] = sum;
  }
}

@group(0) @binding(3) var<storage, read> view_2: array<f32>;

fn sumLane_2(view: vec4<u32>, first: u32, stride: u32) {
  let count = examples();
  let length = view.z;
  let out = view.w / 4u;
  for (var b = first; 4u * b < length; b += stride) {
    var sum = vec4<f32>(0.0);
    for (var e = 0u; e < count; e += 4u) {
      let n = min(count - e, 4u);
      let c = coefficients(e, n);
      for (var i = 0u; i < 4u && 4u * b + i < length; i++) {
        let at = view.y + 4u * b + i + e * length;
        for (var k = 0u; k < n; k++) { sum[i] += c[k] * view_2[at + k * length]; }
      }
    }
    sums[out + b] = sum;
  }
}

fn sumLane(slot: u32, view: vec4<u32>, first: u32, stride: u32) {
  switch slot {
    case 0u: { sumLane_0(view, first, stride); }
    case 1u: { sumLane_1(view, first, stride); }
    case 2u: { sumLane_2(view, first, stride); }
    default: {  }
  }
}


// The coefficients of examples e .. e + n - 1 (n <= 4) over the divisor, 0 past them.
fn coefficients(e: u32, n: u32) -> vec4<f32> {
  var c = vec4<f32>(0.0);
  for (var k = 0u; k < n; k++) { c[k] = segmentNorms[e + k].y; }
  return c / params.divisor;
}

// The examples summed: the first segmentLimit of the batch.
fn examples() -> u32 {
  return min(table.batchSize, params.segmentLimit);
}

// Adds the noise to a lane's output vec4s (first, first + stride, ...) of a view; elements past the
// view's end in its last vec4 stay 0. One loop for every slot, outside the per-slot functions: lanes
// that run in lockstep over views of different slots would otherwise draw the noise once per slot.
fn addNoise(view: vec4<u32>, first: u32, stride: u32) {
  let elements = select(view.z, 4u * view.z, view.x < table.vec4Slots);
  let out = view.w / 4u;
  for (var b = first; 4u * b < elements; b += stride) {
    let inView = vec4<u32>(4u * b) + vec4<u32>(0u, 1u, 2u, 3u) < vec4<u32>(elements);
    sums[out + b] += select(vec4<f32>(0.0), noise(out + b), inView);
  }
}

// The noise of the four coordinates of block `block`, times its standard deviation over the divisor.
fn noise(block: u32) -> vec4<f32> {
  return (params.noiseStd / params.divisor) * gaussians(block, vec2<u32>(params.seedLo, params.seedHi), vec2<u32>(params.stepLo, params.stepHi));
}

// Each lane takes the outputs of its table entry (view, first, stride); a dispatch capped below
// the lane count has its invocations stride over the lanes.
@compute @workgroup_size(WG)
fn main(ids: GridIds) {
  let invocations = ids.groups.x * ids.groups.y * WG;
  for (var lane = foldedIndex(ids); lane < table.laneCount; lane += invocations) {
    let piece = table.entries[table.viewCount + lane];
    let view = table.entries[piece.x];
    sumLane(view.x, view, piece.y, piece.z);
    if (noisy) { addNoise(view, piece.y, piece.z); }
  }
}
