// ⟨shaders/common/prelude_plain.wgsl⟩

// ⟨the ABI prelude (src/core/abi.ts, src/kernels/layouts.ts)⟩

// ⟨shaders/common/common.wgsl⟩

// ⟨shaders/common/accumulator.wgsl⟩

// ⟨shaders/amp/scaler.wgsl⟩

// ⟨shaders/norm/decision.wgsl⟩

// ⟨shaders/norm/norm_finalize.wgsl⟩
