// Planning for per-segment kernels: a segment is a group of element ranges whose norm is taken
// together (a view for per-tensor norms, a row for AGC, one example's slice of every view for
// per-example clipping). Each range's whole vec4s are shared by consecutive lanes of one
// workgroup, lane i of k taking vec4s i, i + k, ... (coalesced loads), about PIECE_VEC4 each; the
// partly covered vec4s are edges, one lane each. The lanes of a workgroup on one segment share a
// partial, and each segment's partials are numbered contiguously so one lane can merge them.
// Pure logic, tested in Node.
import {
  assignSlots,
  cutAtWindows,
  planWindows,
  slotLayoutOf,
  type BindingWindow,
  type ElementRange,
  type PlanLimits,
  type SlotLayout,
} from './windows';
import type { ResolvedView } from './views';
import { SEGMENT_TABLE } from '../core/abi';

/** Vec4s one lane sweeps at most: enough to amortise the table read, few enough to spread a large view over many lanes. */
export const PIECE_VEC4 = 64;
/** A lane's first and stride share a word, 16 bits each (see SegmentTable in shaders/common.wgsl). */
const MAX_STRIDE = 0xffff;
/** A piece's first word: the slot in bits 0–26, the edge flag in bit 27, the mask in bits 28–31 (see SegmentTable in shaders/common.wgsl). */
const WHOLE_MASK = 15;
const EDGE_BIT = SEGMENT_TABLE.EDGE_PIECE;
const MAX_SLOT = EDGE_BIT;

/**
 * One lane's share: vec4s `first`, `first + stride`, ... of [offset, offset + count) (elements in a
 * scalar window), or, for an edge, one vec4 with `mask` of it in the segment (an edge's mask may be
 * full when two ranges of one segment share the vec4).
 */
export interface SegmentPiece {
  slot: number;
  offset: number;
  count: number;
  first: number;
  stride: number;
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

export interface SegmentGroup extends SlotLayout {
  windows: BindingWindow[];
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
/** A run of whole vec4s (or scalar elements) of one segment in one window slot, before lanes are given out. */
interface Run {
  slot: number;
  offset: number;
  count: number;
  /** How much one lane should sweep. */
  perLane: number;
  segment: number;
}

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
    ...slotLayoutOf(windows),
    pieces: [],
    edges: [],
  }));
  const { runs, edgeMaps } = runsAndEdges(windowPieces, slotOf, groups.length);
  const lanes = Math.min(limits.workgroupSize, MAX_STRIDE);
  groups.forEach((group, g) => {
    group.edges = [...edgeMaps[g].values()].sort(
      (a, b) => a.slot - b.slot || a.index - b.index || a.segment - b.segment,
    );
    group.pieces = lanePieces(runs[g], group.edges, lanes);
  });
  return { groups, segmentCount, ...numberPartials(groups, segmentCount, limits.workgroupSize) };
}

/** Each group's whole runs, and its masked vec4s (edges) keyed by slot, vec4 and segment. */
function runsAndEdges(
  windowPieces: ReturnType<typeof cutAtWindows>,
  slotOf: ReturnType<typeof assignSlots>['slotOf'],
  groupCount: number,
): { runs: Run[][]; edgeMaps: Array<Map<string, SegmentEdge>> } {
  const edgeMaps = Array.from({ length: groupCount }, () => new Map<string, SegmentEdge>());
  const runs = Array.from({ length: groupCount }, () => [] as Run[]);
  for (const wp of windowPieces) {
    const { group, slot } = slotOf.get(wp.window)!;
    const segment = wp.tag;
    const addRun = (offset: number, count: number, perLane: number) =>
      runs[group].push({ slot, offset, count, perLane, segment });
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
  return { runs, edgeMaps };
}

/**
 * One group's pieces in lane order: by segment, so that a segment's lanes are neighbours and
 * share partials. A run takes consecutive lanes, split where it would cross into the next
 * workgroup; each edge takes one lane.
 */
function lanePieces(runs: readonly Run[], edges: readonly SegmentEdge[], lanes: number): SegmentPiece[] {
  const pieces: SegmentPiece[] = [];
  const items = [
    ...runs.map((r) => ({ ...r, edge: null as SegmentEdge | null })),
    ...edges.map((e) => ({
      slot: e.slot,
      offset: e.index,
      count: 1,
      perLane: 1,
      segment: e.segment,
      edge: e as SegmentEdge | null,
    })),
  ].sort((a, b) => a.segment - b.segment || a.slot - b.slot || a.offset - b.offset);
  for (const item of items) {
    if (item.edge) {
      const { slot, index, mask, segment } = item.edge;
      pieces.push({ slot, offset: index, count: 1, first: 0, stride: 1, mask, edge: true, segment, partial: -1 });
      continue;
    }
    let at = item.offset;
    const end = item.offset + item.count;
    while (at < end) {
      const free = lanes - (pieces.length % lanes);
      const k = Math.min(free, Math.ceil((end - at) / item.perLane));
      const count = Math.min(end - at, k * item.perLane);
      for (let first = 0; first < k; first++) {
        pieces.push({
          slot: item.slot,
          offset: at,
          count,
          first,
          stride: k,
          mask: WHOLE_MASK,
          edge: false,
          segment: item.segment,
          partial: -1,
        });
      }
      at += count;
    }
  }
  return pieces;
}

/** One partial per run of one segment within a workgroup, numbered by segment; sets each piece's partial. */
function numberPartials(
  groups: readonly SegmentGroup[],
  segmentCount: number,
  workgroupSize: number,
): { partialCount: number; partialStart: Uint32Array } {
  const shares: Array<{ segment: number; pieces: SegmentPiece[] }> = [];
  for (const group of groups) {
    group.pieces.forEach((piece, lane) => {
      const last = shares[shares.length - 1];
      const startsShare = lane % workgroupSize === 0 || group.pieces[lane - 1].segment !== piece.segment;
      if (startsShare) shares.push({ segment: piece.segment, pieces: [piece] });
      else last.pieces.push(piece);
    });
  }
  shares.sort((a, b) => a.segment - b.segment); // stable: shares of one segment keep their order
  const partialStart = new Uint32Array(segmentCount + 1);
  shares.forEach((share, partial) => {
    for (const piece of share.pieces) piece.partial = partial;
    partialStart[share.segment + 1]++;
  });
  for (let s = 0; s < segmentCount; s++) partialStart[s + 1] += partialStart[s];
  return { partialCount: shares.length, partialStart };
}

/** Words of a group's SegmentTable (shaders/common.wgsl): an 8-word header, then entries of 4 words. */
export function encodeSegmentTable(group: SegmentGroup): Uint32Array<ArrayBuffer> {
  const pieceCount = group.pieces.length;
  const edgeBase = pieceCount;
  const segmentBase = edgeBase + group.edges.length;
  const partialBase = segmentBase + Math.ceil(pieceCount / 4);
  const entries = partialBase + Math.ceil(pieceCount / 4);
  const header = 8;
  const words = new Uint32Array(header + 4 * Math.max(1, entries));
  words.set([pieceCount, edgeBase, group.edges.length, segmentBase, partialBase], 0);
  group.pieces.forEach((p, i) => {
    const word0 = (p.slot | (p.edge ? EDGE_BIT : 0) | (p.mask << 28)) >>> 0;
    words.set([word0, p.offset, p.count, p.first | (p.stride << 16)], header + 4 * i);
    words[header + 4 * segmentBase + i] = p.segment;
    words[header + 4 * partialBase + i] = p.partial;
  });
  group.edges.forEach((e, i) => words.set([e.slot, e.index, e.mask, e.segment], header + 4 * (edgeBase + i)));
  return words;
}

/** Words of the segments buffer of segment_finalize.wgsl: header, then each segment's first partial and the end. */
export function encodeSegments(plan: SegmentPlan): Uint32Array<ArrayBuffer> {
  const header = SEGMENT_TABLE.SEGMENTS_HEADER;
  const words = new Uint32Array(header + plan.segmentCount + 1);
  words.set([plan.segmentCount, plan.partialCount], 0);
  words.set(plan.partialStart, header);
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
