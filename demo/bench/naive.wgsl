// The benchmark's naive baseline, what a first attempt at clipping looks like: one single-workgroup
// reduction per tensor (read back to the CPU), then one scale dispatch per tensor.
// Bindings: group(0) = grad (array<f32>), out (partial result), params (uniform: coef).

override maxNorm: bool = false;  // false: sum of squares, true: max |g|

struct ScaleParams { coef: f32 }

@group(0) @binding(0) var<storage, read_write> grad: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> params: ScaleParams;

var<workgroup> partial: array<f32, 256>;

@compute @workgroup_size(256)
fn reduce(@builtin(local_invocation_index) lane: u32) {
  var acc = 0.0;
  for (var i = lane; i < arrayLength(&grad); i += 256u) {
    let g = grad[i];
    acc = select(acc + g * g, max(acc, abs(g)), maxNorm);
  }
  partial[lane] = acc;
  for (var stride = 128u; stride > 0u; stride /= 2u) {
    workgroupBarrier();
    if (lane < stride) {
      partial[lane] = select(partial[lane] + partial[lane + stride], max(partial[lane], partial[lane + stride]), maxNorm);
    }
  }
  if (lane == 0u) { out[0] = partial[0]; }
}

@compute @workgroup_size(256)
fn scale(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = id.x + id.y * groups.x * 256u;
  if (i < arrayLength(&grad)) { grad[i] = grad[i] * params.coef; }
}
