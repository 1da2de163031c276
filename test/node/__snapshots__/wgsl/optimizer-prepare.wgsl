// ⟨the ABI prelude (src/core/abi.ts, src/kernels/layouts.ts)⟩

// ⟨shaders/common/common.wgsl⟩

// ⟨shaders/amp/scaler.wgsl⟩

// ⟨shaders/optimizer/optimizer_common.wgsl⟩

// ⟨shaders/optimizer/optimizer_prepare.wgsl⟩
