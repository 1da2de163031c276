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
/** Lanes a segment's short runs are interleaved over together (neighbours on neighbouring vec4s). */
const BLOCK_LANES = 8;
/** A lane's first and stride share a word, 16 bits each (see SegmentTable in shaders/common.wgsl). */
const MAX_STRIDE = 0xffff;
/** A piece's first word: the slot in bits 0–26, the edge flag in bit 27, the mask in bits 28–31 (see SegmentTable in shaders/common.wgsl). */
const WHOLE_MASK = 15;
const EDGE_BIT = SEGMENT_TABLE.EDGE_PIECE;
const MAX_SLOT = EDGE_BIT;
const SHARED_LANE = SEGMENT_TABLE.SHARED_LANE;

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
  /** In lane order: lane l sweeps pieces[laneStarts[l]] up to pieces[laneStarts[l + 1]]. */
  pieces: SegmentPiece[];
  laneStarts: number[];
  /** Lane l's partial is merged with its neighbours' (a segment too long for one lane). */
  sharedLanes: boolean[];
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

/** A run of whole vec4s (or scalar elements) of one segment in one window slot, before lanes are given out. */
interface Run {
  slot: number;
  offset: number;
  count: number;
  /** Elements per vec4 load: 1 in a vec4 window, 4 in a scalar one. */
  unit: number;
  segment: number;
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
    ...slotLayoutOf(windows),
    pieces: [],
    laneStarts: [0],
    sharedLanes: [],
    edges: [],
  }));
  // Each lane sweeps PIECE_VEC4 or more: as many as spread the set over the tuned workgroup cap
  // (a device where workgroups cost much gets few long pieces, a wide GPU many short ones). Lanes
  // split at segments and workgroups come out a few more than that: while a group's would need
  // workgroups past the cap, longer lanes. (Past the cap, a software adapter runs a short extra
  // workgroup after the others: a quarter more time.)
  const wholeVec4s = ranges.reduce((total, r) => total + Math.floor((r.end - r.start) / 4), 0);
  const laneCap = limits.maxWorkgroups * limits.workgroupSize;
  const { runs, edgeMaps } = runsAndEdges(windowPieces, slotOf, groups.length);
  groups.forEach((group, g) => {
    group.edges = [...edgeMaps[g].values()].sort(
      (a, b) => a.slot - b.slot || a.index - b.index || a.segment - b.segment,
    );
  });
  const items = groups.map((group, g) => laneItems(runs[g], group.edges));
  const mostLanes = (lanes: Lane[][]) => Math.max(0, ...lanes.map((l) => l.length));
  const fits = (lanes: Lane[][]) => mostLanes(lanes) <= laneCap;
  const shortest = Math.max(PIECE_VEC4, Math.ceil(wholeVec4s / laneCap));
  /** The shortest lanes that fit the cap, with or without blocks (planLanes). */
  const fitLanes = (blocks: boolean) => {
    const lanesFor = (perLane: number) => items.map((list) => planLanes(list, perLane, limits.workgroupSize, blocks));
    let lanesOfGroups = lanesFor(shortest);
    if (fits(lanesOfGroups)) return lanesOfGroups;
    // Grow until they fit, then bisect between (within 1/64). Lanes grow about as their count
    // overflows the cap first (a plan of 20 000 AGC rows is tens of milliseconds), then double.
    const most = Math.max(wholeVec4s, PIECE_VEC4);
    let short = shortest;
    let long = Math.min(most, Math.ceil(shortest * Math.max(1.05, (1.02 * mostLanes(lanesOfGroups)) / laneCap)));
    lanesOfGroups = lanesFor(long);
    while (!fits(lanesOfGroups) && long < most) {
      [short, long] = [long, Math.min(2 * long, most)];
      lanesOfGroups = lanesFor(long);
    }
    while (long - short > 1 && long - short > short / 64) {
      const middle = Math.floor((short + long) / 2);
      const lanes = lanesFor(middle);
      if (fits(lanes)) [long, lanesOfGroups] = [middle, lanes];
      else short = middle;
    }
    return lanesOfGroups;
  };
  // Blocks only where they shorten the longest lane: with few lanes to share (one workgroup on
  // a CPU adapter) a segment too long for one lane and too short for a block of its own leaves
  // lanes far longer than the rest; with more lanes, SwiftShader ran the plain plan faster.
  const longestLane = (lanes: Lane[][]) => Math.max(0, ...lanes.flat().map((lane) => lane.cost));
  let lanesOfGroups = fitLanes(false);
  if (items.some((list) => largestSegmentCost(list) >= blockMinimum(limits.workgroupSize))) {
    const blocked = fitLanes(true);
    if (longestLane(blocked) < longestLane(lanesOfGroups)) lanesOfGroups = blocked;
  }
  lanesOfGroups = lanesOfGroups.map((lanes) =>
    sortUnitsByCost(balanceWorkgroups(lanes, limits.workgroupSize), limits.workgroupSize),
  );
  groups.forEach((group, g) => {
    const lanes = lanesOfGroups[g];
    group.pieces = lanes.flatMap((lane) => lane.pieces);
    group.laneStarts = [0];
    for (const lane of lanes) group.laneStarts.push(group.laneStarts[group.laneStarts.length - 1] + lane.pieces.length);
    group.sharedLanes = lanes.map((lane) => lane.shared);
  });
  return { groups, segmentCount, ...numberPartials(lanesOfGroups, segmentCount, limits.workgroupSize) };
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
    const addRun = (offset: number, count: number, unit: number) =>
      runs[group].push({ slot, offset, count, unit, segment });
    if (wp.window.scalar) {
      addRun(wp.start, wp.end - wp.start, 4);
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
      addRun(firstWhole, endWhole - firstWhole, 1);
      for (let e = endWhole * 4; e < wp.end; e++) addElement(e);
    } else {
      for (let e = wp.start; e < wp.end; e++) addElement(e);
    }
  }
  return { runs, edgeMaps };
}

/** A run, or an edge (a run of one masked vec4), as planLanes deals them out. */
interface LaneItem extends Run {
  edge: SegmentEdge | null;
}

/** A lane's pieces, and whether lanes next to it (same segment, same workgroup) add to its partial. */
interface Lane {
  pieces: SegmentPiece[];
  shared: boolean;
  cost: number;
  /** Lanes that must stay side by side (one block or run of interleaved lanes) have one unit; padding -1. */
  unit: number;
}

/** Lanes of a block, in a workgroup of `workgroupSize`. */
function blockLanesIn(workgroupSize: number): number {
  return Math.min(BLOCK_LANES, workgroupSize);
}

/** The fewest loads of a segment that planLanes' `blocks` may interleave over a block. */
function blockMinimum(workgroupSize: number): number {
  return blockLanesIn(workgroupSize) * PIECE_VEC4;
}

/** Vec4 loads of one run or edge. */
function itemCost(item: LaneItem): number {
  return Math.ceil(item.count / item.unit);
}

/** The costliest segment's loads, of items in segment order. */
function largestSegmentCost(items: readonly LaneItem[]): number {
  let largest = 0;
  let cost = 0;
  items.forEach((item, i) => {
    cost = i > 0 && items[i - 1].segment === item.segment ? cost + itemCost(item) : itemCost(item);
    largest = Math.max(largest, cost);
  });
  return largest;
}

/** A group's runs and edges in segment order, for planLanes. */
function laneItems(runs: readonly Run[], edges: readonly SegmentEdge[]): LaneItem[] {
  return [
    ...runs.map((r) => ({ ...r, edge: null })),
    ...edges.map((e) => ({ slot: e.slot, offset: e.index, count: 1, unit: 1, segment: e.segment, edge: e })),
  ].sort((a, b) => a.segment - b.segment || a.slot - b.slot || a.offset - b.offset);
}

/**
 * One group's lanes, by a segment's cost (vec4 loads):
 * - short (at most `perLane`, and under a block's PIECE_VEC4 each): swept whole by one lane, which
 *   may sweep several such segments and writes each one's partial itself;
 * - with `blocks`, one worth fewer lanes than a block (a device with few lanes, where `perLane` is
 *   long): interleaved over a block of BLOCK_LANES private lanes shared with segments like it,
 *   each lane writing a partial per segment, so that lanes come out closer to `perLane`;
 * - longer: lanes of its own (its long runs interleaved over consecutive lanes, split where they
 *   would cross into the next workgroup; its short runs and edges in blocks), which share a
 *   partial per workgroup.
 */
function planLanes(items: readonly LaneItem[], perLane: number, workgroupSize: number, blocks: boolean): Lane[] {
  const whole = (item: LaneItem): SegmentPiece => ({
    slot: item.slot,
    offset: item.offset,
    count: item.count,
    first: 0,
    stride: 1,
    mask: item.edge ? item.edge.mask : WHOLE_MASK,
    edge: item.edge !== null,
    segment: item.segment,
    partial: -1,
  });
  const lanes: Lane[] = [];
  let units = 0;
  let packed: Lane | null = null;
  const blockLanes = blockLanesIn(workgroupSize);
  let interleaved: Lane[] = [];
  let interleavedCost = 0;
  const closeInterleaved = () => lanes.push(...interleaved.filter((lane) => lane.pieces.length > 0));
  for (let at = 0; at < items.length; ) {
    let end = at;
    let cost = 0;
    for (; end < items.length && items[end].segment === items[at].segment; end++) cost += itemCost(items[end]);
    const segmentItems = items.slice(at, end);
    at = end;
    if (cost <= perLane && (!blocks || cost < blockMinimum(workgroupSize))) {
      if (!packed || packed.cost + cost > perLane) {
        packed = { pieces: [], shared: false, cost: 0, unit: units++ };
        lanes.push(packed);
      }
      for (const item of segmentItems) packed.pieces.push(whole(item));
      packed.cost += cost;
      continue;
    }
    if (blocks && Math.ceil(cost / perLane) < blockLanes && cost >= blockMinimum(workgroupSize)) {
      // Too short for a block of lanes of its own, too long for one lane: its long runs
      // interleaved over a block of private lanes (neighbours on neighbouring vec4s, as a shared
      // lane's) that it shares with segments like it, its short runs and edges to the block's
      // least loaded lanes. Each lane writes a partial per segment.
      if (interleaved.length === 0 || interleavedCost + cost > blockLanes * perLane) {
        closeInterleaved();
        const unit = units++;
        interleaved = Array.from({ length: blockLanes }, () => ({ pieces: [], shared: false, cost: 0, unit }));
        interleavedCost = 0;
      }
      for (const item of segmentItems) {
        const k = item.edge ? 1 : Math.min(blockLanes, Math.max(1, Math.floor(itemCost(item) / PIECE_VEC4)));
        const chosen = k === blockLanes ? interleaved : [...interleaved].sort((a, b) => a.cost - b.cost).slice(0, k);
        chosen.forEach((lane, first) => {
          lane.pieces.push(item.edge ? whole(item) : { ...whole(item), first, stride: k });
          lane.cost += Math.ceil(Math.max(0, itemCost(item) - first) / k);
        });
      }
      interleavedCost += cost;
      continue;
    }
    // The segment in k equal shares, k = cost / perLane rounded up: whole shares of its long runs
    // interleaved over lanes of their own; the rest (short runs, what is left of long ones, edges)
    // packed into lanes filled to a share, a run split where a lane fills. So its k lanes all cost
    // about the same, and as little over perLane as the rounding allows.
    const share = Math.ceil(cost / Math.ceil(cost / perLane));
    const rest: LaneItem[] = [];
    for (const item of segmentItems) {
      // A run of fewer than a block's shares goes with the rest: alone on its lanes it would be
      // interleaved over too few of them.
      const shares = item.edge ? 0 : Math.floor(itemCost(item) / share);
      const laneCount = blocks && shares < blockLanes ? 0 : shares;
      const stop = item.offset + Math.min(item.count, laneCount * share * item.unit);
      let from = item.offset;
      for (let placed = 0; placed < laneCount; ) {
        const free = workgroupSize - (lanes.length % workgroupSize);
        const k = Math.min(free, laneCount - placed, MAX_STRIDE);
        const count = placed + k >= laneCount ? stop - from : k * share * item.unit;
        const unit = units++;
        for (let first = 0; first < k; first++) {
          const piece = { ...whole(item), offset: from, count, first, stride: k };
          lanes.push({ pieces: [piece], shared: true, cost: share, unit });
        }
        placed += k;
        from += count;
      }
      if (stop < item.offset + item.count) rest.push({ ...item, offset: stop, count: item.offset + item.count - stop });
    }
    // The rest in blocks of up to BLOCK_LANES lanes (within a workgroup) filled to a share each:
    // every run piece of a block interleaved over its lanes (neighbouring lanes on neighbouring
    // vec4s, as a long run's), its edges dealt out whole.
    let lanesLeft = Math.ceil(rest.reduce((total, item) => total + itemCost(item), 0) / share);
    for (let r = 0, offset = rest[0]?.offset ?? 0; r < rest.length; ) {
      const free = workgroupSize - (lanes.length % workgroupSize); // a block within one workgroup
      const k = Math.max(1, Math.min(BLOCK_LANES, lanesLeft, free));
      lanesLeft -= k;
      const unit = units++;
      const block: Lane[] = Array.from({ length: k }, () => ({ pieces: [], shared: true, cost: 0, unit }));
      let room = k * share;
      let dealt = 0;
      while (r < rest.length && room > 0) {
        const item = rest[r];
        const left = item.offset + item.count - offset;
        const take = item.edge ? left : Math.min(left, room * item.unit);
        if (item.edge) {
          const lane = block[dealt++ % k];
          lane.pieces.push(whole(item));
          lane.cost += 1;
        } else {
          block.forEach((lane, first) => {
            lane.pieces.push({ ...whole(item), offset, count: take, first, stride: k });
            lane.cost += Math.ceil(Math.max(0, Math.ceil(take / item.unit) - first) / k);
          });
        }
        room -= Math.ceil(take / item.unit);
        offset += take;
        if (offset >= item.offset + item.count) {
          r++;
          offset = rest[r]?.offset ?? 0;
        }
      }
      lanes.push(...block.filter((lane) => lane.pieces.length > 0));
    }
  }
  closeInterleaved();
  return lanes;
}

/**
 * The lanes spread over the workgroups they need so that each gets about the same cost: a
 * workgroup takes lanes in order while it is under its share (or the later ones could not hold
 * the rest), and is padded with empty lanes. Filled in order instead, the first workgroups would
 * be full and the last short, and a device that runs workgroups a core each waits for the fullest.
 */
function balanceWorkgroups(lanes: readonly Lane[], workgroupSize: number): Lane[] {
  const workgroups = Math.ceil(lanes.length / workgroupSize);
  if (workgroups <= 1 || lanes.length === workgroups * workgroupSize) return [...lanes];
  const total = lanes.reduce((sum, lane) => sum + lane.cost, 0);
  const spread: Lane[] = [];
  let next = 0;
  let done = 0;
  for (let w = 0; w < workgroups; w++) {
    const start = spread.length;
    const laterCapacity = (workgroups - 1 - w) * workgroupSize;
    while (next < lanes.length && spread.length - start < workgroupSize) {
      const mustTake = lanes.length - next > laterCapacity;
      if (!mustTake && done + lanes[next].cost / 2 > (total * (w + 1)) / workgroups) break;
      done += lanes[next].cost;
      spread.push(lanes[next++]);
    }
    if (w < workgroups - 1) {
      while (spread.length - start < workgroupSize) spread.push({ pieces: [], shared: false, cost: 0, unit: -1 });
    }
  }
  return spread;
}

/**
 * Within each workgroup, its units (a run or block of lanes that stay side by side, or one lane)
 * from the costliest down, padding last. A SIMD group (4 lanes on a CPU, a warp of 32) runs as long
 * as its costliest lane: in plan order, a group spanning the last lanes of one segment and the first
 * of the next, whose shares differ by up to 2x, waited on the longer (1.11x its lanes' loads at cap
 * 2 on the transformer); sorted, neighbouring units have near-equal costs.
 */
function sortUnitsByCost(lanes: readonly Lane[], workgroupSize: number): Lane[] {
  const sorted: Lane[] = [];
  for (let start = 0; start < lanes.length; start += workgroupSize) {
    const units: Array<{ lanes: Lane[]; cost: number }> = [];
    const workgroup = lanes.slice(start, start + workgroupSize);
    workgroup.forEach((lane, l) => {
      const last = units[units.length - 1];
      if (l > 0 && lane.unit === workgroup[l - 1].unit && lane.unit >= 0) {
        last.lanes.push(lane);
        last.cost = Math.max(last.cost, lane.cost);
      } else units.push({ lanes: [lane], cost: lane.unit < 0 ? -1 : lane.cost });
    });
    units.sort((a, b) => b.cost - a.cost); // stable: units of equal cost keep plan order
    for (const unit of units) sorted.push(...unit.lanes);
  }
  return sorted;
}

/**
 * Numbers the partials: a private lane's own per segment, and one per run of shared lanes of one
 * segment within a workgroup; numbered by segment so each segment's are contiguous.
 */
function numberPartials(
  lanesOfGroups: readonly Lane[][],
  segmentCount: number,
  workgroupSize: number,
): { partialCount: number; partialStart: Uint32Array } {
  const shares: Array<{ segment: number; pieces: SegmentPiece[] }> = [];
  lanesOfGroups.forEach((lanes) => {
    lanes.forEach((lane, l) => {
      if (lane.shared) {
        const previous = lanes[l - 1];
        const joins =
          l % workgroupSize !== 0 && previous.shared && previous.pieces[0].segment === lane.pieces[0].segment;
        if (joins) shares[shares.length - 1].pieces.push(...lane.pieces);
        else shares.push({ segment: lane.pieces[0].segment, pieces: [...lane.pieces] });
        return;
      }
      lane.pieces.forEach((piece, i) => {
        if (i > 0 && lane.pieces[i - 1].segment === piece.segment) shares[shares.length - 1].pieces.push(piece);
        else shares.push({ segment: piece.segment, pieces: [piece] });
      });
    });
  });
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
  const laneCount = group.sharedLanes.length;
  const edgeBase = pieceCount;
  const segmentBase = edgeBase + group.edges.length;
  const partialBase = segmentBase + Math.ceil(pieceCount / 4);
  const laneBase = partialBase + Math.ceil(pieceCount / 4);
  const entries = laneBase + Math.ceil((laneCount + 1) / 4);
  const header = 8;
  const words = new Uint32Array(header + 4 * Math.max(1, entries));
  words.set([laneCount, edgeBase, group.edges.length, segmentBase, partialBase, laneBase], 0);
  group.pieces.forEach((p, i) => {
    const word0 = (p.slot | (p.edge ? EDGE_BIT : 0) | (p.mask << 28)) >>> 0;
    words.set([word0, p.offset, p.count, p.first | (p.stride << 16)], header + 4 * i);
    words[header + 4 * segmentBase + i] = p.segment;
    words[header + 4 * partialBase + i] = p.partial;
  });
  group.laneStarts.forEach((start, l) => {
    words[header + 4 * laneBase + l] = (start | (group.sharedLanes[l] ? SHARED_LANE : 0)) >>> 0;
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
