// Planning: turns a list of views into dispatch groups, binding windows, chunks of whole vec4s,
// boundary vec4s and per-workgroup chunk ranges, all decided once when a set is described.
// Pure logic, tested in Node.
//
// Gradient windows are bound as array<vec4<f32>> (vec4 loads are what make a memory-bound kernel
// fast), or array<vec4<f16>> for f16 views, so a view is cut into its whole vec4s (chunks, spread
// over workgroups) and the partly covered vec4s at its ends (boundary entries, each owned by one
// lane so writes never race). The last bytes of a buffer whose size is not a multiple of a vec4
// cannot be bound as one: they get a small scalar window (array<f32> or array<f16>) of their own,
// from the last aligned offset to the end. Every dispatch group orders its windows f32 vec4, f16
// vec4, f16 scalar, f32 scalar, so a group's shader depends only on how many of its windows are
// vec4 and which range of slots is f16 (its SlotLayout).
import { CHUNK_WALK, DISPATCH } from '../core/abi';
import type { ResolvedView } from './views';

export interface PlanLimits {
  /** Data bindings one dispatch may use (maxStorageBuffersPerShaderStage minus the kernels' own). */
  bindingsPerGroup: number;
  /** Largest binding size in bytes (maxStorageBufferBindingSize). */
  maxBindingBytes: number;
  /** Required alignment of a binding's byte offset (minStorageBufferOffsetAlignment). */
  offsetAlignment: number;
  /** Invocations per workgroup. */
  workgroupSize: number;
  /** Most workgroups one dispatch group may use (tuned per device, <= maxComputeWorkgroupsPerDimension). */
  maxWorkgroups: number;
  /** Fewest elements worth a workgroup of their own. */
  minElementsPerWorkgroup: number;
}

/** A bound range of a buffer: `offsetBytes` aligned; a vec4 window's size is a multiple of a vec4 (16 or 8 bytes). */
export interface BindingWindow {
  buffer: GPUBuffer;
  offsetBytes: number;
  sizeBytes: number;
  /** Bound as array<f32> (array<f16>): the last bytes of a buffer whose size is not a multiple of a vec4. */
  scalar: boolean;
  /** Holds f16 views (bound as vec4<f16> or f16). */
  half: boolean;
}

/**
 * What a dispatch group's shader depends on: it binds windows in slots [0, slots), of which
 * [0, vec4Slots) are vec4 and [halfSlots[0], halfSlots[1]) f16. A shader declares and switches
 * over only those slots, so a set in one buffer pays for one slot, not for every binding.
 */
export interface SlotLayout {
  slots: number;
  vec4Slots: number;
  halfSlots: readonly [number, number];
}

/** The slot layout of windows in assignSlots' order. */
export function slotLayoutOf(windows: readonly BindingWindow[]): SlotLayout {
  const vec4Slots = windows.filter((w) => !w.scalar).length;
  const halfVec4 = windows.filter((w) => !w.scalar && w.half).length;
  const halfScalar = windows.filter((w) => w.scalar && w.half).length;
  return { slots: windows.length, vec4Slots, halfSlots: [vec4Slots - halfVec4, vec4Slots + halfScalar] };
}

/**
 * A piece of one window: whole vec4s in a vec4 window (`offset`, `count` in vec4s from the window
 * start), elements in a scalar window (in elements); `view` is its (first) view.
 */
export interface Chunk {
  slot: number;
  offset: number;
  count: number;
  view: number;
}

/** A vec4 covered only partly by views (or shared by two); `mask` bit i = component i is in a view. */
export interface Boundary {
  slot: number;
  index: number;
  mask: number;
  view: number;
}

export interface DispatchGroup extends SlotLayout {
  /** Vec4 windows first, then scalar ones (f32 vec4, f16 vec4, f16 scalar, f32 scalar). */
  windows: BindingWindow[];
  chunks: Chunk[];
  boundaries: Boundary[];
  /**
   * [first chunk, end chunk, first medium chunk, first small chunk] for each workgroup: its large
   * chunks are swept by all its lanes, its medium ones by MEDIUM_CHUNK_LANES lanes each, its
   * small ones by one lane each (see assignWorkgroups).
   */
  workgroupRanges: Array<[number, number, number, number]>;
  /** Index of this group's first partial in the set's partials buffer. */
  partialBase: number;
  elementCount: number;
}

export interface SetPlan {
  groups: DispatchGroup[];
  /** Partials over all groups: one per workgroup. */
  partialCount: number;
  elementCount: number;
}

/** Chunks per workgroup share: more balance, at the cost of a loop turn per chunk. */
const CHUNKS_PER_SHARE = 4;

function alignDown(value: number, alignment: number): number {
  return Math.floor(value / alignment) * alignment;
}

/** `value` rounded up to a multiple of `alignment`. */
export function alignUp(value: number, alignment: number): number {
  return Math.ceil(value / alignment) * alignment;
}

/**
 * Covers each buffer's used byte range with windows a binding can hold: vec4 ones, and a scalar one
 * for a tail. A buffer's views share one element size (resolveGpuViews checks it).
 */
export function planWindows(views: readonly ResolvedView[], limits: PlanLimits): Map<GPUBuffer, BindingWindow[]> {
  const extent = new Map<GPUBuffer, { lo: number; hi: number; elementBytes: number }>();
  for (const v of views) {
    if (v.length === 0) continue;
    const end = v.offsetBytes + v.length * v.elementBytes;
    const e = extent.get(v.buffer);
    if (e) {
      e.lo = Math.min(e.lo, v.offsetBytes);
      e.hi = Math.max(e.hi, end);
    } else {
      extent.set(v.buffer, { lo: v.offsetBytes, hi: end, elementBytes: v.elementBytes });
    }
  }
  const align = limits.offsetAlignment;
  const step = alignDown(limits.maxBindingBytes, Math.max(align, 16));
  const windows = new Map<GPUBuffer, BindingWindow[]>();
  for (const [buffer, { lo, hi: dataEnd, elementBytes }] of extent) {
    const half = elementBytes === 2;
    const vecBytes = 4 * elementBytes;
    // Storage bindings are whole 4-byte words: an f16 tail ends at the word holding its last half.
    const hi = alignUp(dataEnd, 4);
    const start = alignDown(lo, align);
    const wholeEnd = alignDown(buffer.size, vecBytes);
    const list: BindingWindow[] = [];
    // Past the last whole vec4: a scalar window from the last aligned offset before it.
    let vec4End = hi <= wholeEnd ? alignUp(hi, vecBytes) : Math.max(alignDown(wholeEnd, align), start);
    // A scalar window of under 16 bytes is valid WebGPU, but wgpu (Deno 2.9) keeps the 16-byte
    // minimum of a vec4 binding from the previous pipeline in a pass and rejects it: start such a
    // tail one alignment earlier, where the buffer allows.
    if (hi > wholeEnd && hi - vec4End < 16 && vec4End - align >= start) vec4End -= align;
    if (vec4End - start <= limits.maxBindingBytes) {
      if (vec4End > start) list.push({ buffer, offsetBytes: start, sizeBytes: vec4End - start, scalar: false, half });
    } else {
      for (let at = start; at < vec4End; at += step) {
        list.push({ buffer, offsetBytes: at, sizeBytes: Math.min(step, vec4End - at), scalar: false, half });
      }
    }
    if (hi > wholeEnd) list.push({ buffer, offsetBytes: vec4End, sizeBytes: hi - vec4End, scalar: true, half });
    windows.set(buffer, list);
  }
  return windows;
}

/** Elements [start, end) of view `view`, carried through with a caller's `tag`. */
export interface ElementRange {
  view: number;
  start: number;
  end: number;
  tag: number;
}

/** A range cut at window edges, in window-relative elements. */
export interface WindowPiece {
  window: BindingWindow;
  start: number;
  end: number;
  view: number;
  tag: number;
}

/** Cuts element ranges of views at the edges of their buffers' windows (empty ranges vanish). */
export function cutAtWindows(
  ranges: readonly ElementRange[],
  views: readonly ResolvedView[],
  windowsByBuffer: Map<GPUBuffer, BindingWindow[]>,
): WindowPiece[] {
  const pieces: WindowPiece[] = [];
  for (const { view, start: first, end: last, tag } of ranges) {
    if (last <= first) continue;
    const v = views[view];
    const bytes = v.elementBytes;
    const start = v.offsetBytes + first * bytes;
    const end = v.offsetBytes + last * bytes;
    for (const w of windowsByBuffer.get(v.buffer)!) {
      const from = Math.max(start, w.offsetBytes);
      const to = Math.min(end, w.offsetBytes + w.sizeBytes);
      if (from < to)
        pieces.push({ window: w, start: (from - w.offsetBytes) / bytes, end: (to - w.offsetBytes) / bytes, view, tag });
    }
  }
  return pieces;
}

/**
 * Windows that hold data, in first-use order within the slot order f32 vec4, f16 vec4, f16 scalar,
 * f32 scalar, packed into dispatch groups of `bindingsPerGroup`. Unused slots take the f32 scalar
 * shape, so a set without f16 keeps the shaders it always had.
 */
export function assignSlots(
  pieces: readonly WindowPiece[],
  bindingsPerGroup: number,
): { groupWindows: BindingWindow[][]; slotOf: Map<BindingWindow, { group: number; slot: number }> } {
  const firstUse = [...new Set(pieces.map((p) => p.window))];
  const rank = (w: BindingWindow) => (w.scalar ? (w.half ? 2 : 3) : w.half ? 1 : 0);
  const used = [0, 1, 2, 3].flatMap((r) => firstUse.filter((w) => rank(w) === r));
  const slotOf = new Map<BindingWindow, { group: number; slot: number }>();
  used.forEach((w, i) => slotOf.set(w, { group: Math.floor(i / bindingsPerGroup), slot: i % bindingsPerGroup }));
  const groupWindows = Array.from({ length: Math.ceil(used.length / bindingsPerGroup) }, (_, g) =>
    used.slice(g * bindingsPerGroup, (g + 1) * bindingsPerGroup),
  );
  return { groupWindows, slotOf };
}

/** Plans a set: windows packed into groups of `bindingsPerGroup`, views cut into balanced chunks. */
export function planSet(views: readonly ResolvedView[], limits: PlanLimits): SetPlan {
  const windowsByBuffer = planWindows(views, limits);
  const pieces = cutAtWindows(
    views.map((v, view) => ({ view, start: 0, end: v.length, tag: view })),
    views,
    windowsByBuffer,
  );
  const { groupWindows, slotOf } = assignSlots(pieces, limits.bindingsPerGroup);
  const groups: DispatchGroup[] = [];
  let partialBase = 0;
  groupWindows.forEach((windows, g) => {
    const groupPieces = pieces.filter((p) => slotOf.get(p.window)!.group === g);
    const elementCount = groupPieces.reduce((n, p) => n + p.end - p.start, 0);
    const workgroups = Math.max(
      1,
      Math.min(limits.maxWorkgroups, Math.ceil(elementCount / limits.minElementsPerWorkgroup)),
    );
    // Chunks of about a quarter of one workgroup's share (in vec4s, a multiple of the lanes).
    const granule = limits.workgroupSize;
    const chunkLimit = Math.max(granule, alignUp(Math.ceil(elementCount / 4 / workgroups / CHUNKS_PER_SHARE), granule));
    const { chunks, boundaries } = chunkPieces(groupPieces, (p) => slotOf.get(p.window)!.slot, chunkLimit);
    const layout = slotLayoutOf(windows);
    const workgroupRanges = assignWorkgroups(chunks, workgroups, layout.vec4Slots, limits.workgroupSize);
    groups.push({ windows, ...layout, chunks, boundaries, workgroupRanges, partialBase, elementCount });
    partialBase += workgroupRanges.length;
  });
  return {
    groups,
    partialCount: partialBase,
    elementCount: groups.reduce((n, g) => n + g.elementCount, 0),
  };
}

/**
 * A group's pieces as chunks of whole vec4s (at most `chunkLimit` each) and scalar runs, and the
 * partly covered vec4s as boundaries. Runs of consecutive views that meet exactly (an arena of
 * lengths that are multiples of 4) merge first, so a model's worth of small tensors costs few
 * chunk turns; a merged run keeps the first view's index.
 */
function chunkPieces<P extends { window: BindingWindow; start: number; end: number; view: number }>(
  pieces: readonly P[],
  slotOfPiece: (piece: P) => number,
  chunkLimit: number,
): { chunks: Chunk[]; boundaries: Boundary[] } {
  const runs: Chunk[] = [];
  const addRun = (slot: number, offset: number, count: number, view: number) => {
    const last = runs[runs.length - 1];
    if (last && last.slot === slot && last.offset + last.count === offset) last.count += count;
    else runs.push({ slot, offset, count, view });
  };
  const chunks: Chunk[] = [];
  const boundaryByKey = new Map<string, Boundary>();
  const addPartial = (slot: number, element: number, view: number) => {
    const index = Math.floor(element / 4);
    const key = `${slot}:${index}`;
    const entry = boundaryByKey.get(key) ?? { slot, index, mask: 0, view };
    entry.mask |= 1 << (element % 4);
    boundaryByKey.set(key, entry);
  };
  for (const p of pieces) {
    const slot = slotOfPiece(p);
    if (p.window.scalar) {
      chunks.push({ slot, offset: p.start, count: p.end - p.start, view: p.view });
      continue;
    }
    const firstWhole = Math.ceil(p.start / 4);
    const endWhole = Math.floor(p.end / 4);
    if (firstWhole < endWhole) {
      for (let e = p.start; e < firstWhole * 4; e++) addPartial(slot, e, p.view);
      addRun(slot, firstWhole, endWhole - firstWhole, p.view);
      for (let e = endWhole * 4; e < p.end; e++) addPartial(slot, e, p.view);
    } else {
      for (let e = p.start; e < p.end; e++) addPartial(slot, e, p.view);
    }
  }
  for (const run of runs) {
    for (let at = run.offset; at < run.offset + run.count; at += chunkLimit) {
      chunks.push({
        slot: run.slot,
        offset: at,
        count: Math.min(chunkLimit, run.offset + run.count - at),
        view: run.view,
      });
    }
  }
  const boundaries = [...boundaryByKey.values()].sort((a, b) => a.slot - b.slot || a.index - b.index);
  return { chunks, boundaries };
}

/**
 * Each chunk goes to the workgroup that owns its midpoint (weights in vec4 loads; scalar slots,
 * from `vec4Slots` on, weigh a quarter); empty workgroups are dropped. Within a workgroup the
 * chunks come in three sizes, each swept its own way (plan_chunks.wgsl): large ones (at least
 * MEDIUM_CHUNK_LANES loads per lane) one a turn with every lane; medium ones (at least a load
 * per lane) by MEDIUM_CHUNK_LANES lanes each, several a turn; small ones a lane each, as many a
 * turn as there are lanes. All lanes on a chunk of a few loads a lane would pay a whole turn's
 * cost for little work, and a lane alone on a long one would keep its neighbours waiting.
 * Ranges per workgroup: (first chunk, end chunk, first medium, first small), `chunks` reordered
 * to match.
 */
function assignWorkgroups(
  chunks: Chunk[],
  workgroups: number,
  vec4Slots: number,
  workgroupSize: number,
): Array<[number, number, number, number]> {
  const weight = (c: Chunk) => (c.slot < vec4Slots ? c.count : c.count / 4);
  const totalWeight = chunks.reduce((n, c) => n + weight(c), 0);
  const workgroupRanges: Array<[number, number, number, number]> = [];
  let prefix = 0;
  let lastOwner = -1;
  chunks.forEach((c, i) => {
    const owner = Math.min(workgroups - 1, Math.floor(((prefix + weight(c) / 2) * workgroups) / totalWeight));
    prefix += weight(c);
    if (owner !== lastOwner) workgroupRanges.push([i, i + 1, i + 1, i + 1]);
    else workgroupRanges[workgroupRanges.length - 1][1] = i + 1;
    lastOwner = owner;
  });
  if (workgroupRanges.length === 0) workgroupRanges.push([0, 0, 0, 0]); // boundary vec4s only
  const mediumLanes = Math.min(CHUNK_WALK.MEDIUM_CHUNK_LANES, workgroupSize);
  const tier = (c: Chunk) => (weight(c) < workgroupSize ? 2 : weight(c) < mediumLanes * workgroupSize ? 1 : 0);
  for (const range of workgroupRanges) {
    const [begin, end] = range;
    const own = chunks.slice(begin, end);
    // Medium and small chunks longest first: lanes side by side (a warp, a CPU adapter's SIMD
    // group) then sweep chunks of about one length and wait little for each other.
    const [large, medium, small] = [0, 1, 2].map((t) => own.filter((c) => tier(c) === t));
    for (const list of [medium, small]) list.sort((a, b) => weight(b) - weight(a));
    chunks.splice(begin, end - begin, ...large, ...medium, ...small);
    range[2] = begin + large.length;
    range[3] = begin + large.length + medium.length;
  }
  return workgroupRanges;
}

/** Bytes of one group's table (see `Plan` in shaders/common.wgsl): a 32-byte header, then 16 bytes per entry. */
export function planTableBytes(group: DispatchGroup): number {
  return 32 + 16 * (group.workgroupRanges.length + group.chunks.length + group.boundaries.length);
}

/** Encodes one group's table as the WGSL `Plan` struct expects it. */
export function encodePlanTable(group: DispatchGroup): Uint32Array<ArrayBuffer> {
  const words = new Uint32Array(planTableBytes(group) / 4);
  const workgroups = group.workgroupRanges.length;
  const chunkBase = workgroups;
  const boundaryBase = chunkBase + group.chunks.length;
  words.set([workgroups, group.partialBase, chunkBase, boundaryBase, group.boundaries.length, 0, 0, 0], 0);
  const entry = (index: number, values: number[]) => words.set(values, 8 + 4 * index);
  group.workgroupRanges.forEach((range, w) => entry(w, range));
  group.chunks.forEach((c, i) => entry(chunkBase + i, [c.slot, c.offset, c.count, c.view]));
  group.boundaries.forEach((b, i) => entry(boundaryBase + i, [b.slot, b.index, b.mask, b.view]));
  return words;
}

const { DISPATCH_HEADER } = DISPATCH;

/** Words of the dispatch-arguments buffer (see decision.wgsl): header, templates, live args. */
export function encodeDispatchArgs(plan: SetPlan): Uint32Array<ArrayBuffer> {
  const g = plan.groups.length;
  const words = new Uint32Array(DISPATCH_HEADER + 6 * g);
  words.set([plan.partialCount, g], 0);
  plan.groups.forEach((group, i) => {
    words.set([group.workgroupRanges.length, 1, 1], DISPATCH_HEADER + 3 * i);
    words.set([0, 1, 1], DISPATCH_HEADER + 3 * g + 3 * i);
  });
  return words;
}

/** Byte offset of group `index`'s live indirect arguments in the dispatch-arguments buffer. */
export function liveArgsOffset(plan: SetPlan, index: number): number {
  return 4 * (DISPATCH_HEADER + 3 * plan.groups.length + 3 * index);
}
