// The stream roofline: a grid-stride vec4 copy, the most any compute shader can move per byte.
// Bindings: group(0) = src, dst (array<vec4<f32>>).

@group(0) @binding(0) var<storage, read> src: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> dst: array<vec4<f32>>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let stride = groups.x * 256u;
  for (var i = id.x; i < arrayLength(&src); i += stride) {
    dst[i] = src[i];
  }
}
