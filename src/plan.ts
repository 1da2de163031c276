// Planning: turns a list of views into dispatch groups, binding windows, chunks and per-workgroup
// chunk ranges, all decided once when a set is described. Pure logic, tested in Node.
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

/** A bound range of one buffer: `offsetBytes` is aligned, `sizeBytes` <= maxBindingBytes. */
export interface BindingWindow {
  buffer: GPUBuffer;
  offsetBytes: number;
  sizeBytes: number;
}

/** A contiguous piece of one view inside one window; `offset` counts elements from the window start. */
export interface Chunk {
  slot: number;
  offset: number;
  length: number;
  view: number;
}

export interface DispatchGroup {
  windows: BindingWindow[];
  chunks: Chunk[];
  /** [first chunk, end chunk) for each workgroup. */
  workgroupRanges: Array<[number, number]>;
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

/** Splits each buffer's used byte range into windows a binding can cover. */
function planWindows(views: readonly ResolvedView[], limits: PlanLimits): Map<GPUBuffer, BindingWindow[]> {
  const extent = new Map<GPUBuffer, { lo: number; hi: number }>();
  for (const v of views) {
    if (v.length === 0) continue;
    const end = v.offsetBytes + v.length * 4;
    const e = extent.get(v.buffer);
    if (e) {
      e.lo = Math.min(e.lo, v.offsetBytes);
      e.hi = Math.max(e.hi, end);
    } else {
      extent.set(v.buffer, { lo: v.offsetBytes, hi: end });
    }
  }
  const step = alignDown(limits.maxBindingBytes, limits.offsetAlignment);
  const windows = new Map<GPUBuffer, BindingWindow[]>();
  for (const [buffer, { lo, hi }] of extent) {
    const start = alignDown(lo, limits.offsetAlignment);
    const list: BindingWindow[] = [];
    if (hi - start <= limits.maxBindingBytes) {
      list.push({ buffer, offsetBytes: start, sizeBytes: hi - start });
    } else {
      for (let at = start; at < hi; at += step) {
        list.push({ buffer, offsetBytes: at, sizeBytes: Math.min(step, hi - at) });
      }
    }
    windows.set(buffer, list);
  }
  return windows;
}

/** Plans a set: windows packed into groups of `bindingsPerGroup`, views cut into balanced chunks. */
export function planSet(views: readonly ResolvedView[], limits: PlanLimits): SetPlan {
  const windowsByBuffer = planWindows(views, limits);

  // Pieces of views, each inside one window, in view order.
  interface Piece { window: BindingWindow; offset: number; length: number; view: number }
  const pieces: Piece[] = [];
  views.forEach((v, viewIndex) => {
    if (v.length === 0) return;
    let at = v.offsetBytes;
    const end = v.offsetBytes + v.length * 4;
    for (const w of windowsByBuffer.get(v.buffer)!) {
      const wEnd = w.offsetBytes + w.sizeBytes;
      if (at >= wEnd || at >= end) continue;
      const pieceEnd = Math.min(end, wEnd);
      pieces.push({ window: w, offset: (at - w.offsetBytes) / 4, length: (pieceEnd - at) / 4, view: viewIndex });
      at = pieceEnd;
    }
  });

  // Windows that hold data, in first-use order, packed into dispatch groups.
  const used: BindingWindow[] = [];
  const slotOf = new Map<BindingWindow, { group: number; slot: number }>();
  for (const piece of pieces) {
    if (slotOf.has(piece.window)) continue;
    const index = used.length;
    used.push(piece.window);
    slotOf.set(piece.window, {
      group: Math.floor(index / limits.bindingsPerGroup),
      slot: index % limits.bindingsPerGroup,
    });
  }
  const groupCount = Math.ceil(used.length / limits.bindingsPerGroup);

  const groups: DispatchGroup[] = [];
  let partialBase = 0;
  for (let g = 0; g < groupCount; g++) {
    const windows = used.slice(g * limits.bindingsPerGroup, (g + 1) * limits.bindingsPerGroup);
    const groupPieces = pieces.filter((p) => slotOf.get(p.window)!.group === g);
    const elementCount = groupPieces.reduce((n, p) => n + p.length, 0);
    const workgroups = Math.max(
      1,
      Math.min(limits.maxWorkgroups, Math.ceil(elementCount / limits.minElementsPerWorkgroup)),
    );
    // Chunks of about a quarter of one workgroup's share, so that whole chunks balance to
    // within an eighth of a share; a multiple of the elements one workgroup loop step covers.
    const granule = 4 * limits.workgroupSize;
    const chunkLimit = Math.ceil(elementCount / workgroups / CHUNKS_PER_SHARE / granule) * granule;
    const chunks: Chunk[] = [];
    for (const p of groupPieces) {
      const slot = slotOf.get(p.window)!.slot;
      for (let start = 0; start < p.length; start += chunkLimit) {
        chunks.push({ slot, offset: p.offset + start, length: Math.min(chunkLimit, p.length - start), view: p.view });
      }
    }
    // Each chunk goes to the workgroup that owns its midpoint; empty workgroups are dropped.
    const owner: number[] = [];
    let prefix = 0;
    for (const c of chunks) {
      owner.push(Math.min(workgroups - 1, Math.floor(((prefix + c.length / 2) * workgroups) / elementCount)));
      prefix += c.length;
    }
    const workgroupRanges: Array<[number, number]> = [];
    for (let c = 0; c < chunks.length; c++) {
      if (c === 0 || owner[c] !== owner[c - 1]) workgroupRanges.push([c, c + 1]);
      else workgroupRanges[workgroupRanges.length - 1][1] = c + 1;
    }
    groups.push({ windows, chunks, workgroupRanges, partialBase, elementCount });
    partialBase += workgroupRanges.length;
  }
  return { groups, partialCount: partialBase, elementCount: groups.reduce((n, g) => n + g.elementCount, 0) };
}

/** Bytes of one group's table (see `Plan` in shaders/common.wgsl): a 16-byte header, then 16 bytes per entry. */
export function planTableBytes(group: DispatchGroup): number {
  return 16 * (1 + group.workgroupRanges.length + group.chunks.length);
}

/** Encodes one group's table as the WGSL `Plan` struct expects it. */
export function encodePlanTable(group: DispatchGroup): Uint32Array<ArrayBuffer> {
  const words = new Uint32Array(planTableBytes(group) / 4);
  const workgroups = group.workgroupRanges.length;
  words.set([workgroups, group.partialBase, workgroups, 0], 0);
  group.workgroupRanges.forEach(([begin, end], w) => words.set([begin, end, 0, 0], 4 + 4 * w));
  group.chunks.forEach((c, i) => words.set([c.slot, c.offset, c.length, c.view], 4 + 4 * (workgroups + i)));
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
