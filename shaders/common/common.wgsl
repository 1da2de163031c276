// Declarations shared by every gradclip kernel: the per-call parameters (a uniform slot chosen
// by dynamic offset), the plan table of a dispatch group, and the GPU-resident norm result.

override WG: u32 = 256u;   // workgroup size, from the device's limits

// FLAG_* (NormResult.flags), MODE_* (Params.mode) and every other value TypeScript shares come
// from the generated prelude (src/kernels/abi.ts).
const ABS_MASK: u32 = 0x7fffffffu;
const INF_BITS: u32 = 0x7f800000u;
const NAN_BITS: u32 = 0x7fc00000u;

struct Params {
  p: f32,          // norm type for normKind NORM_KIND_P
  maxNorm: f32,
  clipMin: f32,
  clipMax: f32,
  givenNorm: f32,  // the norm passed as a number to clipGradsWithNorm
  mode: u32,       // MODE_* bits
  eps: f32,        // AGC: floor on a unit's parameter norm (maxNorm is then AGC's `clipping`)
  segmentLimit: u32,  // per-segment kernels: segments from here on are padding, never read (clipPerExample's `examples`)
  noiseStd: f32,   // per-example sums: the Gaussian noise's standard deviation (0: none)
  divisor: f32,    // per-example sums: the noisy sum is divided by this
  seedLo: u32,     // per-example sums: the noise's Philox key (the 64-bit seed) and counter high half (the step)
  seedHi: u32,
  stepLo: u32,
  stepHi: u32,
  _pad0: u32,
  _pad1: u32,
}

// One dispatch group's table, in vec4 units (every gradient binding is array<vec4<f32>>):
//   entries[0 .. workgroupCount)          (first chunk, end chunk, first small chunk, -) per
//                                         workgroup: chunks before the first small one are
//                                         swept by all the workgroup's lanes, small ones by one
//   entries[chunkBase + c]                (binding slot, vec4 offset, vec4 count, view): whole
//                                         vec4s inside one view, spread over the workgroups
//   entries[boundaryBase + b]             (binding slot, vec4 index, component mask, view): each
//                                         vec4 that views cover only partly (or two views share),
//                                         owned by exactly one lane so that writes never race
struct Plan {
  workgroupCount: u32,
  partialBase: u32,   // index of this group's first partial in the partials buffer
  chunkBase: u32,
  boundaryBase: u32,
  boundaryCount: u32,
  _pad0: u32,
  _pad1: u32,
  _pad2: u32,
  entries: array<vec4<u32>>,
}

// A dispatch group's table for per-segment kernels (a segment: a view, a row, an example):
//   entries[0 .. pieceCount)                 (slot | EDGE_PIECE | mask << 28, offset, count,
//                                            first | stride << 16): vec4s first, first + stride,
//                                            ... of [offset, offset + count) (elements in a scalar
//                                            window), or, flagged EDGE_PIECE, one vec4 of which
//                                            `mask` belongs to the segment
//   entries[edgeBase + e]                    (slot, vec4 index, mask, segment): the masked vec4s
//                                            again, sorted by vec4, for the write kernel
//   entries[segmentBase + i / 4][i % 4]      piece i's segment
//   entries[partialBase + i / 4][i % 4]      piece i's partial
//   entries[laneBase + l / 4][l % 4]         lane l's first piece (| SHARED_LANE when its partial
//                                            is merged with its neighbours'); lane l + 1's first
//                                            ends it
struct SegmentTable {
  laneCount: u32,
  edgeBase: u32,
  edgeCount: u32,
  segmentBase: u32,
  partialBase: u32,
  laneBase: u32,
  _pad1: u32,
  _pad2: u32,
  entries: array<vec4<u32>>,
}


// The builtins of a kernel whose dispatch is folded into x and y (maxComputeWorkgroupsPerDimension).
struct GridIds {
  @builtin(workgroup_id) group: vec3<u32>,
  @builtin(num_workgroups) groups: vec3<u32>,
  @builtin(local_invocation_index) local: u32,
}

// The flat index of this invocation in a folded dispatch.
fn foldedIndex(ids: GridIds) -> u32 {
  return (ids.group.y * ids.groups.x + ids.group.x) * WG + ids.local;
}

// The components of a vec4 that `mask` (bit i = component i) selects.
fn maskLanes(mask: u32) -> vec4<bool> {
  return (vec4<u32>(mask) & vec4<u32>(1u, 2u, 4u, 8u)) != vec4<u32>(0u);
}

struct NormResult {
  norm: f32,
  coef: f32,
  flags: u32,       // FLAG_* bits
  foundInf: u32,    // 1 when the norm was NaN or ±Inf (AMP's found_inf), else 0
  threshold: f32,   // the maxNorm the decision used (AutoClip/ZClip: this step's threshold)
  _pad0: u32,
  _pad1: u32,
  _pad2: u32,
}

// FLAG_NAN or FLAG_INF for a non-finite value, by bit pattern.
fn classify(x: f32) -> u32 {
  let bits = bitcast<u32>(x) & ABS_MASK;
  if (bits > INF_BITS) { return FLAG_NAN; }
  if (bits == INF_BITS) { return FLAG_INF; }
  return 0u;
}

// PyTorch's coefficient for a norm being clipped (above maxNorm, or NaN/Inf): maxNorm / (norm +
// 1e-6), NaN for a NaN norm, 0 for an infinite one (NaN when maxNorm is itself +Inf).
fn clipCoefficient(norm: f32, flags: u32, maxNorm: f32) -> f32 {
  if ((flags & FLAG_NAN) != 0u) { return floatFromBits(NAN_BITS); }
  if ((flags & FLAG_INF) != 0u) { return select(0.0, floatFromBits(NAN_BITS), classify(maxNorm) != 0u); }
  return maxNorm / (norm + 1e-6);
}

// AGC's coefficient for a unit (segment_finalize.wgsl, agc_rows.wgsl): NaN when either norm is
// NaN; 1 when ‖g‖ <= clipping · max(‖w‖, eps), else that bound / max(‖g‖, 1e-6).
fn agcCoefficient(gradNorm: f32, gradFlags: u32, weightNorm: f32, clipping: f32, eps: f32) -> f32 {
  if ((gradFlags & FLAG_NAN) != 0u || classify(weightNorm) == FLAG_NAN) { return floatFromBits(NAN_BITS); }
  let unitMax = clipping * max(weightNorm, eps);
  if (gradNorm <= unitMax) { return 1.0; }
  return unitMax / max(gradNorm, 1e-6);
}

// NaN and +Inf are made at run time: a constant expression that evaluates to either is a
// shader-creation error, so they never appear as `bitcast` of a constant.
fn floatFromBits(bits: u32) -> f32 {
  return bitcast<f32>(bits);
}
