// Planning for agc_rows.wgsl, AGC in one pass: usable where the gradients' unit plan gives every
// unit (row) to one lane whole, as one stride-1 piece of whole f32 vec4s in one window, and the
// weights' rows line up as whole vec4s in one f32 window of another buffer. Anything else (f16,
// windows past one binding, rows shared by lanes or cut into edges, weights in the gradients'
// buffer) takes the general per-unit passes. Pure logic, tested in Node.
import type { SegmentPiece, SegmentPlan } from './segments';
import type { ResolvedView } from './views';
import { alignUp, type BindingWindow, type ElementRange } from './windows';

/** Header words of agc_rows.wgsl's AgcRowTable before its entries. */
const HEADER_WORDS = 4;

export interface AgcRowPlan {
  /** The AgcRowTable's words: header, one vec4 per row, then each lane's first row. */
  table: Uint32Array<ArrayBuffer>;
  /** The gradients' window (slot 0) and the weights' (slot 1). */
  windows: [BindingWindow, BindingWindow];
  /** Lanes to dispatch. */
  lanes: number;
}

/** The window over every weight view, or null when it cannot be one f32 vec4 binding apart from the gradients'. */
function weightWindow(
  weights: readonly ResolvedView[],
  gradBuffer: GPUBuffer,
  limits: { offsetAlignment: number; maxBindingBytes: number },
): BindingWindow | null {
  const buffer = weights[0]?.buffer;
  if (!buffer || buffer === gradBuffer) return null;
  if (weights.some((w) => w.buffer !== buffer || w.elementBytes !== 4)) return null;
  // A loop, not Math.min(...views): a set may hold more views than a call takes arguments.
  let low = Infinity;
  let high = 0;
  for (const w of weights) {
    low = Math.min(low, w.offsetBytes);
    high = Math.max(high, w.offsetBytes + 4 * w.length);
  }
  const offsetBytes = Math.floor(low / limits.offsetAlignment) * limits.offsetAlignment;
  const sizeBytes = alignUp(high - offsetBytes, 16);
  if (sizeBytes > limits.maxBindingBytes || offsetBytes + sizeBytes > buffer.size) return null;
  return { buffer, offsetBytes, sizeBytes, scalar: false, half: false };
}

/**
 * The one-pass plan for AGC over `units` (unitSegments of the gradients, unit u tagged u), from the
 * gradients' unit plan; null where the general passes must run.
 */
export function planAgcRows(
  gradPlan: SegmentPlan,
  units: readonly ElementRange[],
  weights: readonly ResolvedView[],
  limits: { offsetAlignment: number; maxBindingBytes: number; workgroupSize: number },
): AgcRowPlan | null {
  if (gradPlan.groups.length !== 1) return null;
  const [group] = gradPlan.groups;
  const [gradWindow] = group.windows;
  if (group.windows.length !== 1 || gradWindow.scalar || gradWindow.half || group.edges.length > 0) return null;
  const { segmentCount } = gradPlan;
  if (group.sharedLanes.some(Boolean) || group.pieces.length !== segmentCount || gradPlan.partialCount !== segmentCount)
    return null;
  const window = weightWindow(weights, gradWindow.buffer, limits);
  if (!window) return null;

  // A workgroup's rows (its lanes' in the unit plan, back in view order: that plan sorts lanes by
  // cost) are dealt to its lanes in turn, row k to lane k mod WG: at each step of the row loop,
  // neighbouring lanes (one SIMD group or warp) then sweep neighbouring rows, of one length, rather
  // than rows of different tensors, where the group would wait for the longest (1.47x the loads at
  // two workgroups of 64, in plan order).
  const rows = group.pieces.length;
  const lanes = group.sharedLanes.length;
  const size = limits.workgroupSize;
  const laneBase = rows;
  const table = new Uint32Array(HEADER_WORDS + 4 * (laneBase + Math.ceil((lanes + 1) / 4)));
  table.set([lanes, laneBase], 0);
  const firstRows = HEADER_WORDS + 4 * laneBase;
  const seen = new Uint8Array(segmentCount);
  let r = 0;
  let rowsInOrder: SegmentPiece[] = [];
  for (let lane = 0; lane < lanes; lane++) {
    table[firstRows + lane] = r;
    const wgFirst = lane - (lane % size);
    const wgLanes = Math.min(size, lanes - wgFirst);
    if (lane === wgFirst) {
      rowsInOrder = group.pieces
        .slice(group.laneStarts[wgFirst], group.laneStarts[wgFirst + wgLanes])
        .sort((a, b) => a.segment - b.segment);
    }
    for (let i = lane - wgFirst; i < rowsInOrder.length; i += wgLanes, r++) {
      const piece = rowsInOrder[i];
      const unit = units[piece.segment];
      if (piece.edge || piece.first !== 0 || piece.stride !== 1 || piece.partial !== piece.segment) return null;
      if (seen[piece.segment] || 4 * piece.count !== unit.end - unit.start) return null;
      seen[piece.segment] = 1;
      const element = (weights[unit.view].offsetBytes - window.offsetBytes) / 4 + unit.start;
      if (element % 4 !== 0) return null;
      table.set([piece.offset, element / 4, piece.count, piece.segment], HEADER_WORDS + 4 * r);
    }
  }
  table[firstRows + lanes] = r;
  return { table, windows: [gradWindow, window], lanes };
}
