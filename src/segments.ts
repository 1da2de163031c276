// Planning for per-segment kernels: a segment is a group of element ranges whose norm is taken
// together (a view for per-tensor norms, a row for AGC, one example's slice of every view for
// per-example clipping). Each range is cut into pieces a single lane sweeps; the lanes of a
// workgroup holding consecutive pieces of one segment share a partial, and each segment's
// partials are numbered contiguously so one lane can merge them. Pure logic, tested in Node.
import {
  assignSlots,
  cutAtWindows,
  planWindows,
  type BindingWindow,
  type ElementRange,
  type PlanLimits,
} from './plan';
import type { ResolvedView } from './views';

/** Vec4s one lane sweeps at most: enough to amortise the table read, few enough to spread a large view over many lanes. */
export const PIECE_VEC4 = 64;
/** A piece's first word: the slot in bits 0–26, the edge flag in bit 27, the mask in bits 28–31 (see SegmentTable in shaders/common.wgsl). */
const WHOLE_MASK = 15;
const EDGE_BIT = 1 << 27;
const MAX_SLOT = EDGE_BIT;

/**
 * Whole vec4s (`mask` 15; elements in a scalar window) or, for an edge, one vec4 with `mask` of it
 * in the segment (an edge's mask may be full when two ranges of one segment share the vec4).
 */
export interface SegmentPiece {
  slot: number;
  offset: number;
  count: number;
  mask: number;
  edge: boolean;
  segment: number;
  partial: number;
}

/** A masked vec4 as the write kernel sees it: several segments may share one vec4. */
export interface SegmentEdge {
  slot: number;
  index: number;
  mask: number;
  segment: number;
}

export interface SegmentGroup {
  windows: BindingWindow[];
  vec4Slots: number;
  /** Lane order: lane i sweeps pieces[i]. */
  pieces: SegmentPiece[];
  /** Sorted by (slot, index), so the edges of one vec4 are adjacent. */
  edges: SegmentEdge[];
}

export interface SegmentPlan {
  groups: SegmentGroup[];
  segmentCount: number;
  partialCount: number;
  /** Segment s's partials are [partialStart[s], partialStart[s + 1]). */
  partialStart: Uint32Array;
}

/** Plans `segmentCount` segments given as element ranges tagged with their segment. */
export function planSegments(
  views: readonly ResolvedView[],
  ranges: readonly ElementRange[],
  segmentCount: number,
  limits: PlanLimits,
): SegmentPlan {
  const windowsByBuffer = planWindows(views, limits);
  const windowPieces = cutAtWindows(ranges, views, windowsByBuffer);
  const { groupWindows, slotOf } = assignSlots(windowPieces, limits.bindingsPerGroup);
  if (limits.bindingsPerGroup > MAX_SLOT) throw new Error('too many bindings for the segment table');

  const groups: SegmentGroup[] = groupWindows.map((windows) => ({
    windows,
    vec4Slots: windows.filter((w) => !w.scalar).length,
    pieces: [],
    edges: [],
  }));
  const edgeMaps = groups.map(() => new Map<string, SegmentEdge>());
  for (const wp of windowPieces) {
    const { group, slot } = slotOf.get(wp.window)!;
    const pieces = groups[group].pieces;
    const segment = wp.tag;
    const addRun = (offset: number, count: number, step: number) => {
      for (let at = offset; at < offset + count; at += step) {
        pieces.push({ slot, offset: at, count: Math.min(step, offset + count - at), mask: WHOLE_MASK, edge: false, segment, partial: -1 });
      }
    };
    if (wp.window.scalar) {
      addRun(wp.start, wp.end - wp.start, PIECE_VEC4 * 4);
      continue;
    }
    const addElement = (element: number) => {
      const index = Math.floor(element / 4);
      const key = `${slot}:${index}:${segment}`;
      const edge = edgeMaps[group].get(key) ?? { slot, index, mask: 0, segment };
      edge.mask |= 1 << (element % 4);
      edgeMaps[group].set(key, edge);
    };
    const firstWhole = Math.ceil(wp.start / 4);
    const endWhole = Math.floor(wp.end / 4);
    if (firstWhole < endWhole) {
      for (let e = wp.start; e < firstWhole * 4; e++) addElement(e);
      addRun(firstWhole, endWhole - firstWhole, PIECE_VEC4);
      for (let e = endWhole * 4; e < wp.end; e++) addElement(e);
    } else {
      for (let e = wp.start; e < wp.end; e++) addElement(e);
    }
  }

  // Lane order: by segment, so that a segment's pieces are neighbours and share partials.
  groups.forEach((group, g) => {
    group.edges = [...edgeMaps[g].values()].sort((a, b) => a.slot - b.slot || a.index - b.index || a.segment - b.segment);
    for (const edge of group.edges) {
      group.pieces.push({ slot: edge.slot, offset: edge.index, count: 1, mask: edge.mask, edge: true, segment: edge.segment, partial: -1 });
    }
    group.pieces.sort((a, b) => a.segment - b.segment || a.slot - b.slot || a.offset - b.offset);
  });

  // One partial per run of one segment within a workgroup; numbered by segment.
  const runs: Array<{ segment: number; pieces: SegmentPiece[] }> = [];
  for (const group of groups) {
    group.pieces.forEach((piece, lane) => {
      const last = runs[runs.length - 1];
      const startsRun = lane % limits.workgroupSize === 0 || group.pieces[lane - 1].segment !== piece.segment;
      if (startsRun) runs.push({ segment: piece.segment, pieces: [piece] });
      else last.pieces.push(piece);
    });
  }
  runs.sort((a, b) => a.segment - b.segment); // stable: runs of one segment keep their order
  const partialStart = new Uint32Array(segmentCount + 1);
  runs.forEach((run, partial) => {
    for (const piece of run.pieces) piece.partial = partial;
    partialStart[run.segment + 1]++;
  });
  for (let s = 0; s < segmentCount; s++) partialStart[s + 1] += partialStart[s];
  return { groups, segmentCount, partialCount: runs.length, partialStart };
}

/** Words of a group's SegmentTable (shaders/common.wgsl). */
export function encodeSegmentTable(group: SegmentGroup): Uint32Array<ArrayBuffer> {
  const pieceCount = group.pieces.length;
  const edgeBase = pieceCount;
  const segmentBase = edgeBase + group.edges.length;
  const entries = segmentBase + Math.ceil(pieceCount / 4);
  const words = new Uint32Array(4 + 4 * Math.max(1, entries));
  words.set([pieceCount, edgeBase, group.edges.length, segmentBase], 0);
  group.pieces.forEach((p, i) => words.set([(p.slot | (p.edge ? EDGE_BIT : 0) | (p.mask << 28)) >>> 0, p.offset, p.count, p.partial], 4 + 4 * i));
  group.edges.forEach((e, i) => words.set([e.slot, e.index, e.mask, e.segment], 4 + 4 * (edgeBase + i)));
  group.pieces.forEach((p, i) => (words[4 + 4 * segmentBase + i] = p.segment));
  return words;
}

/** Words of the segments buffer of segment_finalize.wgsl: header, then each segment's first partial and the end. */
export function encodeSegments(plan: SegmentPlan): Uint32Array<ArrayBuffer> {
  const words = new Uint32Array(4 + plan.segmentCount + 1);
  words.set([plan.segmentCount, plan.partialCount, 0, 0], 0);
  words.set(plan.partialStart, 4);
  return words;
}

/** Element ranges of per-view segments: view v is segment v. */
export function viewSegments(views: readonly ResolvedView[]): ElementRange[] {
  return views.map((v, view) => ({ view, start: 0, end: v.length, tag: view }));
}

/** Element ranges of AGC's units: each row of a view with a shape, else the whole view. */
export function unitSegments(views: readonly ResolvedView[]): { ranges: ElementRange[]; count: number } {
  const ranges: ElementRange[] = [];
  views.forEach((v, view) => {
    if (!v.shape) {
      ranges.push({ view, start: 0, end: v.length, tag: ranges.length });
      return;
    }
    const [rows, cols] = v.shape;
    for (let r = 0; r < rows; r++) ranges.push({ view, start: r * cols, end: (r + 1) * cols, tag: ranges.length });
  });
  return { ranges, count: ranges.length };
}

/** Element ranges of per-example segments: example e is slice e of every view. */
export function exampleSegments(views: readonly ResolvedView[], batchSize: number): ElementRange[] {
  const ranges: ElementRange[] = [];
  for (let e = 0; e < batchSize; e++) {
    views.forEach((v, view) => {
      const n = v.length / batchSize;
      ranges.push({ view, start: e * n, end: (e + 1) * n, tag: e });
    });
  }
  return ranges;
}

/** Workgroups (x, y) for `lanes` invocations, folded to fit the per-dimension limit. */
export function foldDispatch(lanes: number, workgroupSize: number, maxPerDimension: number): [number, number] {
  const workgroups = Math.max(1, Math.ceil(lanes / workgroupSize));
  const x = Math.min(workgroups, maxPerDimension);
  return [x, Math.ceil(workgroups / x)];
}
