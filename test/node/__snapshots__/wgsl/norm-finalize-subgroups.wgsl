// ⟨shaders/common/prelude_subgroups.wgsl⟩

// ⟨the ABI prelude (src/core/abi.ts, src/kernels/layouts.ts)⟩

// ⟨shaders/common/common.wgsl⟩

// ⟨shaders/common/accumulator.wgsl⟩

// ⟨shaders/amp/scaler.wgsl⟩

// ⟨shaders/norm/decision.wgsl⟩

// ⟨shaders/norm/norm_finalize.wgsl⟩
