// Planning: turns a list of views into dispatch groups, binding windows, chunks of whole vec4s,
// boundary vec4s and per-workgroup chunk ranges, all decided once when a set is described.
// Pure logic, tested in Node.
//
// Every gradient binding is an array<vec4<f32>> (vec4 loads are what make a memory-bound kernel
// fast), so a view is cut into its whole vec4s (chunks, spread over workgroups) and the partly
// covered vec4s at its ends (boundary entries, each owned by one lane so writes never race). The
// last bytes of a buffer whose size is not a multiple of 16 cannot be bound as a vec4: they are
// copied into a small per-set scratch buffer around the pass (tail copies) and clipped there.
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

/** Stands for the set's tail scratch buffer, which the set creates after planning. */
export const TAIL_SCRATCH = 'tail-scratch';
export type BindingTarget = GPUBuffer | typeof TAIL_SCRATCH;

/** A bound range: `offsetBytes` aligned, `sizeBytes` a multiple of 16 and <= maxBindingBytes. */
export interface BindingWindow {
  target: BindingTarget;
  offsetBytes: number;
  sizeBytes: number;
}

/** Whole vec4s of one view in one window; `offset` counts vec4s from the window start. */
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

/** The bytes past a buffer's last whole vec4, copied to the scratch and back around the pass. */
export interface TailCopy {
  buffer: GPUBuffer;
  offsetBytes: number;
  scratchOffsetBytes: number;
  sizeBytes: number;
}

export interface DispatchGroup {
  windows: BindingWindow[];
  chunks: Chunk[];
  boundaries: Boundary[];
  /** [first chunk, end chunk) for each workgroup. */
  workgroupRanges: Array<[number, number]>;
  /** Index of this group's first partial in the set's partials buffer. */
  partialBase: number;
  elementCount: number;
}

export interface SetPlan {
  groups: DispatchGroup[];
  tailCopies: TailCopy[];
  /** Bytes of the tail scratch buffer (0: none needed). */
  tailScratchBytes: number;
  /** Partials over all groups: one per workgroup. */
  partialCount: number;
  elementCount: number;
}

/** Chunks per workgroup share: more balance, at the cost of a loop turn per chunk. */
const CHUNKS_PER_SHARE = 4;

function alignDown(value: number, alignment: number): number {
  return Math.floor(value / alignment) * alignment;
}

function alignUp(value: number, alignment: number): number {
  return Math.ceil(value / alignment) * alignment;
}

/** A byte range of a view in one binding target. */
interface Segment {
  target: BindingTarget;
  start: number;
  end: number;
  view: number;
}

/** Cuts views at each buffer's last whole vec4; the rest goes to the tail scratch. */
function segmentViews(views: readonly ResolvedView[]): { segments: Segment[]; tailCopies: TailCopy[] } {
  const segments: Segment[] = [];
  const tailCopies: TailCopy[] = [];
  const tailOf = new Map<GPUBuffer, TailCopy>();
  views.forEach((v, view) => {
    if (v.length === 0) return;
    const start = v.offsetBytes;
    const end = v.offsetBytes + v.length * 4;
    const wholeEnd = alignDown(v.buffer.size, 16);
    if (start < wholeEnd) segments.push({ target: v.buffer, start, end: Math.min(end, wholeEnd), view });
    if (end > wholeEnd) {
      let tail = tailOf.get(v.buffer);
      if (!tail) {
        tail = { buffer: v.buffer, offsetBytes: wholeEnd, scratchOffsetBytes: 16 * tailCopies.length, sizeBytes: v.buffer.size - wholeEnd };
        tailOf.set(v.buffer, tail);
        tailCopies.push(tail);
      }
      const from = Math.max(start, wholeEnd) - wholeEnd + tail.scratchOffsetBytes;
      segments.push({ target: TAIL_SCRATCH, start: from, end: end - wholeEnd + tail.scratchOffsetBytes, view });
    }
  });
  return { segments, tailCopies };
}

/** Splits each target's used byte range into windows a binding can cover. */
function planWindows(segments: readonly Segment[], limits: PlanLimits): Map<BindingTarget, BindingWindow[]> {
  const extent = new Map<BindingTarget, { lo: number; hi: number }>();
  for (const s of segments) {
    const e = extent.get(s.target);
    if (e) {
      e.lo = Math.min(e.lo, s.start);
      e.hi = Math.max(e.hi, s.end);
    } else {
      extent.set(s.target, { lo: s.start, hi: s.end });
    }
  }
  const step = alignDown(limits.maxBindingBytes, Math.max(limits.offsetAlignment, 16));
  const windows = new Map<BindingTarget, BindingWindow[]>();
  for (const [target, { lo, hi }] of extent) {
    const start = alignDown(lo, limits.offsetAlignment);
    const end = alignUp(hi, 16);
    const list: BindingWindow[] = [];
    if (end - start <= limits.maxBindingBytes) {
      list.push({ target, offsetBytes: start, sizeBytes: end - start });
    } else {
      for (let at = start; at < end; at += step) list.push({ target, offsetBytes: at, sizeBytes: Math.min(step, end - at) });
    }
    windows.set(target, list);
  }
  return windows;
}

/** Plans a set: windows packed into groups of `bindingsPerGroup`, views cut into balanced chunks. */
export function planSet(views: readonly ResolvedView[], limits: PlanLimits): SetPlan {
  const { segments, tailCopies } = segmentViews(views);
  const windowsByTarget = planWindows(segments, limits);

  // Pieces: segments cut at window edges, in window-relative elements.
  interface Piece { window: BindingWindow; start: number; end: number; view: number }
  const pieces: Piece[] = [];
  for (const s of segments) {
    for (const w of windowsByTarget.get(s.target)!) {
      const from = Math.max(s.start, w.offsetBytes);
      const to = Math.min(s.end, w.offsetBytes + w.sizeBytes);
      if (from < to) pieces.push({ window: w, start: (from - w.offsetBytes) / 4, end: (to - w.offsetBytes) / 4, view: s.view });
    }
  }

  // Windows that hold data, in first-use order, packed into dispatch groups.
  const slotOf = new Map<BindingWindow, { group: number; slot: number }>();
  const used: BindingWindow[] = [];
  for (const piece of pieces) {
    if (slotOf.has(piece.window)) continue;
    slotOf.set(piece.window, { group: Math.floor(used.length / limits.bindingsPerGroup), slot: used.length % limits.bindingsPerGroup });
    used.push(piece.window);
  }
  const groupCount = Math.ceil(used.length / limits.bindingsPerGroup);
  const granule = limits.workgroupSize;

  const groups: DispatchGroup[] = [];
  let partialBase = 0;
  for (let g = 0; g < groupCount; g++) {
    const windows = used.slice(g * limits.bindingsPerGroup, (g + 1) * limits.bindingsPerGroup);
    const groupPieces = pieces.filter((p) => slotOf.get(p.window)!.group === g);
    const elementCount = groupPieces.reduce((n, p) => n + p.end - p.start, 0);
    const workgroups = Math.max(1, Math.min(limits.maxWorkgroups, Math.ceil(elementCount / limits.minElementsPerWorkgroup)));
    // Chunks of about a quarter of one workgroup's share (in vec4s, a multiple of the lanes).
    const chunkLimit = Math.max(granule, alignUp(Math.ceil(elementCount / 4 / workgroups / CHUNKS_PER_SHARE), granule));

    const chunks: Chunk[] = [];
    const boundaryByKey = new Map<string, Boundary>();
    const addPartial = (slot: number, element: number, view: number) => {
      const index = Math.floor(element / 4);
      const key = `${slot}:${index}`;
      const entry = boundaryByKey.get(key) ?? { slot, index, mask: 0, view };
      entry.mask |= 1 << (element % 4);
      boundaryByKey.set(key, entry);
    };
    for (const p of groupPieces) {
      const slot = slotOf.get(p.window)!.slot;
      const firstWhole = Math.ceil(p.start / 4);
      const endWhole = Math.floor(p.end / 4);
      if (firstWhole < endWhole) {
        for (let e = p.start; e < firstWhole * 4; e++) addPartial(slot, e, p.view);
        for (let at = firstWhole; at < endWhole; at += chunkLimit) {
          chunks.push({ slot, offset: at, count: Math.min(chunkLimit, endWhole - at), view: p.view });
        }
        for (let e = endWhole * 4; e < p.end; e++) addPartial(slot, e, p.view);
      } else {
        for (let e = p.start; e < p.end; e++) addPartial(slot, e, p.view);
      }
    }

    // Each chunk goes to the workgroup that owns its midpoint; empty workgroups are dropped.
    const bodyVec4s = chunks.reduce((n, c) => n + c.count, 0);
    const workgroupRanges: Array<[number, number]> = [];
    let prefix = 0;
    let lastOwner = -1;
    chunks.forEach((c, i) => {
      const owner = Math.min(workgroups - 1, Math.floor(((prefix + c.count / 2) * workgroups) / bodyVec4s));
      prefix += c.count;
      if (owner !== lastOwner) workgroupRanges.push([i, i + 1]);
      else workgroupRanges[workgroupRanges.length - 1][1] = i + 1;
      lastOwner = owner;
    });
    if (workgroupRanges.length === 0) workgroupRanges.push([0, 0]); // boundary vec4s only
    const boundaries = [...boundaryByKey.values()].sort((a, b) => a.slot - b.slot || a.index - b.index);
    groups.push({ windows, chunks, boundaries, workgroupRanges, partialBase, elementCount });
    partialBase += workgroupRanges.length;
  }
  return {
    groups,
    tailCopies,
    tailScratchBytes: 16 * tailCopies.length,
    partialCount: partialBase,
    elementCount: groups.reduce((n, g) => n + g.elementCount, 0),
  };
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
  group.workgroupRanges.forEach(([begin, end], w) => entry(w, [begin, end, 0, 0]));
  group.chunks.forEach((c, i) => entry(chunkBase + i, [c.slot, c.offset, c.count, c.view]));
  group.boundaries.forEach((b, i) => entry(boundaryBase + i, [b.slot, b.index, b.mask, b.view]));
  return words;
}

/** Words of the dispatch-arguments buffer (see norm_finalize.wgsl): header, templates, live args. */
export function encodeDispatchArgs(plan: SetPlan): Uint32Array<ArrayBuffer> {
  const g = plan.groups.length;
  const words = new Uint32Array(4 + 6 * g);
  words.set([plan.partialCount, g, 0, 0], 0);
  plan.groups.forEach((group, i) => {
    words.set([group.workgroupRanges.length, 1, 1], 4 + 3 * i);
    words.set([0, 1, 1], 4 + 3 * g + 3 * i);
  });
  return words;
}

/** Byte offset of group `index`'s live indirect arguments in the dispatch-arguments buffer. */
export function liveArgsOffset(plan: SetPlan, index: number): number {
  return 4 * (4 + 3 * plan.groups.length + 3 * index);
}
