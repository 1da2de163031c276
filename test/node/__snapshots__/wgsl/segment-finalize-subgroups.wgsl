// ⟨shaders/common/prelude_subgroups.wgsl⟩

// ⟨the ABI prelude (src/core/abi.ts, src/kernels/layouts.ts)⟩

// ⟨shaders/common/common.wgsl⟩

// ⟨shaders/common/accumulator.wgsl⟩

// ⟨shaders/segment/segment_finalize.wgsl⟩
