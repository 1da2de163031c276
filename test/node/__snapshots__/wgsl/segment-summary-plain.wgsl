// ⟨shaders/common/prelude_plain.wgsl⟩

// ⟨the ABI prelude (src/core/abi.ts, src/kernels/layouts.ts)⟩

// ⟨shaders/common/common.wgsl⟩

// ⟨shaders/common/accumulator.wgsl⟩

// ⟨shaders/segment/segment_summary.wgsl⟩
