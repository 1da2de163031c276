// The interface between TypeScript and WGSL, declared once: every flag, mode, variant selector,
// struct size and byte offset both sides use (binding indices come from the layout table,
// kernels/layouts.ts). TypeScript imports these; WGSL gets them, with the binding indices, as the
// generated const prelude (kernels/prelude.ts) prepended to every shader, and a test fails if a
// shader file writes one of these values itself.

/** NormResult.flags bits. */
export const FLAGS = {
  /** Some element (or the norm) was NaN. */
  FLAG_NAN: 1,
  /** Some element (or the norm) was ±Inf. */
  FLAG_INF: 2,
  /** The scale pass must run (coefficient < 1, NaN or 0). */
  FLAG_SCALED: 4,
  /** errorIfNonfinite tripped: nothing was changed and read() rejects. */
  FLAG_NONFINITE_ERROR: 8,
} as const;

/** Params.mode bits: what a norm call asks of the decision. */
export const MODES = {
  MODE_ERROR_IF_NONFINITE: 1,
  /** getTotalNorm: never scale. */
  MODE_NO_SCALE: 2,
  /** onNonfinite 'skip': leave every gradient as it was. */
  MODE_SKIP_NONFINITE: 4,
} as const;

/** Where norm_finalize takes the norm from (its `source` override). */
export const SOURCES = { SOURCE_PARTIALS: 0, SOURCE_RESULT: 1, SOURCE_PARAMS: 2 } as const;
/** What the elementwise kernels do (their `op` override): scale, clamp, or a GradScaler's unscale with its found-inf check. */
export const OPS = { OP_SCALE: 0, OP_CLAMP: 1, OP_UNSCALE: 2 } as const;
/** What segment_finalize makes of a segment's norm (its `rule` override). */
export const SEGMENT_RULES = { RULE_NORMS: 0, RULE_CLIP_BY_NORM: 1, RULE_PER_EXAMPLE: 2, RULE_AGC: 3 } as const;
/** What segment_summary writes to the result slot (its `summary` override). */
export const SUMMARIES = { SUMMARY_TOTAL_NORM: 0, SUMMARY_COUNT_CLIPPED: 1 } as const;
/** adaptive_threshold's `rule` override. */
export const ADAPTIVE_RULES = { ADAPTIVE_AUTOCLIP: 0, ADAPTIVE_ZCLIP: 1 } as const;
/** Words before the per-group templates in a set's dispatch-arguments buffer (decision.wgsl). */
export const DISPATCH = { DISPATCH_HEADER: 4 } as const;
/** The accumulator's `normKind` override: which p-norm the kernels are specialised for. */
export const NORM_KINDS = { NORM_KIND_MAX: 0, NORM_KIND_L1: 1, NORM_KIND_L2: 2, NORM_KIND_P: 3 } as const;
/** AdaptiveState.mode of a ZClip rule. */
export const ZCLIP_MODES = { ZCLIP_ZSCORE: 0, ZCLIP_ADAPTIVE: 1 } as const;
/**
 * OptimizerSettings.kind and .clipKind (optimizer_update's `kind` and `clipKind` overrides), and
 * its `gradSlot` / `paramSlot` overrides' "each view's slot from the table".
 */
export const OPTIMIZER = {
  OPT_SGD: 0,
  OPT_ADAM: 1,
  OPT_ADAMW: 2,
  CLIP_NONE: 0,
  CLIP_NORM: 1,
  CLIP_VALUE: 2,
  OPT_WINDOW_FROM_TABLE: 0xffff,
} as const;
/** A SegmentTable piece's first word: the binding slot in the low bits, this flag for an edge piece, the mask above. */
export const SEGMENT_TABLE = {
  EDGE_PIECE: 1 << 27,
  PIECE_WINDOW_BITS: (1 << 27) - 1,
  SEGMENTS_HEADER: 4,
  /** A lane's first-piece word: set when its partial is shared with neighbouring lanes. */
  SHARED_LANE: 2 ** 31,
} as const;

/** Struct sizes and offsets in bytes (the WGSL structs in shaders/common/common.wgsl and accumulator.wgsl). */
export const LAYOUT = {
  /** One `Acc` in the partials buffer: 24 bytes, rounded to its 16-byte alignment. */
  PARTIAL_BYTES: 32,
  /** The `Params` uniform. */
  PARAMS_BYTES: 64,
  /** One `NormResult`. */
  RESULT_BYTES: 32,
  /** NormResult.coef. */
  COEF_OFFSET: 4,
  /** NormResult.flags. */
  FLAGS_OFFSET: 8,
  /** NormResult.foundInf. */
  FOUND_INF_OFFSET: 12,
  /** NormResult.threshold. */
  THRESHOLD_OFFSET: 16,
  /** One segment's (norm, coefficient) in segmentNorms. */
  SEGMENT_NORM_BYTES: 8,
  /** A GradScaler's `ScalerState` (shaders/amp/scaler.wgsl). */
  SCALER_BYTES: 48,
  /** ScalerState.scale (f32). */
  SCALER_SCALE_OFFSET: 0,
  /** ScalerState.growthTracker (u32). */
  SCALER_TRACKER_OFFSET: 8,
  /** ScalerState.foundInf (u32). */
  SCALER_FOUND_INF_OFFSET: 12,
} as const;

/** Result slots per result ring: a NormHandle stays readable until this many later norms of its ring (TypeScript only). */
export const RESULT_SLOTS = 256;

export const { FLAG_NAN, FLAG_INF, FLAG_SCALED, FLAG_NONFINITE_ERROR } = FLAGS;
export const { MODE_ERROR_IF_NONFINITE, MODE_NO_SCALE, MODE_SKIP_NONFINITE } = MODES;
export const {
  PARTIAL_BYTES,
  PARAMS_BYTES,
  RESULT_BYTES,
  COEF_OFFSET,
  FLAGS_OFFSET,
  FOUND_INF_OFFSET,
  THRESHOLD_OFFSET,
  SEGMENT_NORM_BYTES,
  SCALER_BYTES,
  SCALER_SCALE_OFFSET,
  SCALER_TRACKER_OFFSET,
  SCALER_FOUND_INF_OFFSET,
} = LAYOUT;

/**
 * The whole-set kernels' chunk walk (plan_chunks.wgsl): a medium chunk (at least a workgroup's
 * lanes in vec4 loads, under this many times that) is swept by this many lanes together (or the
 * workgroup's, if fewer).
 */
export const CHUNK_WALK = { MEDIUM_CHUNK_LANES: 8 } as const;

/** The values WGSL sees by name (all u32) besides the binding indices: the tables above. */
export const ABI_VALUES: Readonly<Record<string, number>> = {
  ...FLAGS,
  ...MODES,
  ...SOURCES,
  ...OPS,
  ...SEGMENT_RULES,
  ...SUMMARIES,
  ...ADAPTIVE_RULES,
  ...DISPATCH,
  ...NORM_KINDS,
  ...ZCLIP_MODES,
  ...OPTIMIZER,
  ...SEGMENT_TABLE,
  ...CHUNK_WALK,
};
