// ⟨the ABI prelude (src/kernels/abi.ts)⟩

// ⟨shaders/common/common.wgsl⟩

// ⟨shaders/optimizer/optimizer_common.wgsl⟩

// ⟨shaders/optimizer/optimizer_prepare.wgsl⟩
