// The handles GPU calls return. A handle names a result slot of its set's result ring and the
// generation it wrote there; `read()` checks the slot still holds that generation and records the
// copy at once, so it resolves with its own call's value or rejects 'stale-handle', never with a
// later call's.
import { GradclipError } from '../core/errors';
import { FOUND_INF_OFFSET, FLAG_NONFINITE_ERROR, THRESHOLD_OFFSET } from '../core/abi';
import type { SlotValue } from './readback';
import type { SegmentLayout } from './segments';
import { RESULT_SLOTS } from '../core/abi';
import type { GpuGradSet } from './set';
import { SEGMENT_NORM_BYTES } from '../core/abi';
import type { NormHandle, NormsHandle, ThresholdHandle } from '../core/types';

/** What a handle needs from its clipper. */
export interface HandleOwner {
  /** Throws unless the clipper and `set` can still be used. */
  checkUsable(set: GpuGradSet): GpuGradSet;
  snapshotResult(results: GPUBuffer, offset: number): Promise<SlotValue>;
  readBuffer(buffer: GPUBuffer, bytes: number): Promise<Float32Array>;
}

export class GpuNormHandle implements ThresholdHandle {
  constructor(
    private readonly owner: HandleOwner,
    readonly set: GpuGradSet,
    readonly slot: number,
    readonly generation: number,
  ) {}

  get buffer(): GPUBuffer {
    return this.set.results;
  }

  get offset(): number {
    return this.slot * this.set.resultStride;
  }

  get foundInf(): GPUBuffer {
    return this.set.results;
  }

  get foundInfOffset(): number {
    return this.offset + FOUND_INF_OFFSET;
  }

  get thresholdOffset(): number {
    return this.offset + THRESHOLD_OFFSET;
  }

  /** Throws unless this handle's slot still holds its own norm. */
  checkFresh(): void {
    if (this.set.slotGenerations[this.slot] !== this.generation) {
      throw new GradclipError(
        'stale-handle',
        `this NormHandle's result was overwritten: read it within ${RESULT_SLOTS} later norms of its set (and of sets of the same shape, which share its result ring)`,
      );
    }
  }

  read(): Promise<number> {
    return this.readSlot(true).then((r) => r.norm);
  }

  readFoundInf(): Promise<boolean> {
    return this.readSlot(false).then((r) => r.foundInf);
  }

  readThreshold(): Promise<number> {
    return this.readSlot(false).then((r) => r.threshold);
  }

  /** Reads this handle's result slot; rejects (never throws) when the clipper, set or slot is gone. */
  private readSlot(checkError: boolean): Promise<SlotValue> {
    let snapshot: Promise<SlotValue>;
    try {
      this.owner.checkUsable(this.set);
      this.checkFresh();
      // Recorded now: a later norm that claims this slot is queued after the copy.
      snapshot = this.owner.snapshotResult(this.set.results, this.offset);
    } catch (error) {
      return Promise.reject(error);
    }
    // Both awaited together, so a map that fails (a lost device) is never left unhandled.
    return Promise.all([snapshot, this.set.checked]).then(([value]) => {
      if (this.set.failure) throw this.set.failure;
      if (checkError && value.flags & FLAG_NONFINITE_ERROR) {
        throw new GradclipError(
          'nonfinite-norm',
          `the total norm is ${value.norm} (errorIfNonfinite is set); no gradient was changed`,
        );
      }
      return value;
    });
  }
}

export class GpuNormsHandle implements NormsHandle {
  readonly offset = 0;
  readonly stride = SEGMENT_NORM_BYTES;
  private readonly generation: number;

  constructor(
    private readonly owner: HandleOwner,
    private readonly set: GpuGradSet,
    private readonly layout: SegmentLayout,
    readonly total: NormHandle,
  ) {
    this.generation = layout.generation;
  }

  get buffer(): GPUBuffer {
    return this.layout.segmentNorms;
  }

  read(): Promise<Float32Array> {
    let pairs: Promise<Float32Array>;
    try {
      this.owner.checkUsable(this.set);
      if (this.layout.generation !== this.generation) {
        throw new GradclipError(
          'stale-handle',
          'these per-view norms were overwritten by a later per-view call on the set: read them before the next one',
        );
      }
      pairs = this.owner.readBuffer(this.layout.segmentNorms, this.layout.segmentCount * SEGMENT_NORM_BYTES);
    } catch (error) {
      return Promise.reject(error);
    }
    return pairs.then((p) => Float32Array.from({ length: this.layout.segmentCount }, (_, i) => p[2 * i]));
  }
}
