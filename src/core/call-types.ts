/// <reference types="@webgpu/types" />
// What every call names: a planned set of gradient views, and the encoder option of the calls that
// record GPU work (the rest of the public types are in types.ts and its neighbours).

/** A validated, planned set of gradient views; build once with `clipper.gradients()`, reuse every step. */
export interface GradSet {
  /** Number of views in the set. */
  readonly viewCount: number;
  /** Total elements over all views (f32 and f16 alike). */
  readonly elementCount: number;
  /** Compute dispatches one norm pass records (grows with buffer groups, not with views). */
  readonly dispatchGroups: number;
  /** True once the set or its clipper was destroyed. */
  readonly destroyed: boolean;
  /**
   * Releases what the set alone holds (its per-example sum buffers and tables) and its share of
   * the GPU resources it shares with sets of the same plan shape; its handles and later
   * calls on it then throw 'destroyed'. Optional: a set that is simply dropped is collected, and a
   * set built every step over new tensors reuses the resources of the previous step's set.
   */
  destroy(): void;
}

export interface EncoderOption {
  /** Record into this encoder instead of submitting; the caller submits. */
  encoder?: GPUCommandEncoder;
  /** Timestamps around the one compute pass the call records (profiling; needs `timestamp-query`). */
  timestampWrites?: GPUComputePassTimestampWrites;
}
