// The CPU backend's sets and handles, keeping the GPU's contract: a handle goes stale once
// RESULT_SLOTS later norms of its set were claimed, reads the float32 norm, and per-view norms
// are 8 bytes apart; a destroyed set rejects.
import { GradclipError } from '../core/errors';
import type { GradSet, NormHandle, NormsHandle, ThresholdHandle } from '../core/types';
import { RESULT_SLOTS, SEGMENT_NORM_BYTES } from '../core/abi';
import type { CpuView, GradArray } from '../plan/views';
import { totalNormReference } from '../reference/norms';

/** What a set needs from its clipper. */
export interface CpuSetOwner {
  readonly destroyed: boolean;
}

/** What the CPU engines need from their clipper: its sets, checked (alive, its own, not destroyed). */
export interface CpuSets {
  setOf(set: GradSet): CpuGradSet;
  arraysOf(set: GradSet): GradArray[];
}

/** Throws when an option only the WebGPU backend takes is given. */
export function checkNoEncoder(options: { encoder?: unknown; timestampWrites?: unknown } | undefined): void {
  if (!options) return;
  for (const name of ['encoder', 'timestampWrites'] as const) {
    if (options[name] !== undefined) {
      throw new GradclipError(
        'invalid-argument',
        `options.${name} applies to the WebGPU backend only; this clipper runs on the CPU`,
      );
    }
  }
}

/** The norm as the GPU computes and keeps it: the float64 norm rounded to float32 (+Inf past its range). */
export function float32Norm(arrays: readonly GradArray[], p: number): number {
  return Math.fround(totalNormReference(arrays, p));
}

export class CpuGradSet implements GradSet {
  readonly viewCount: number;
  readonly elementCount: number;
  readonly dispatchGroups = 0;
  readonly arrays: GradArray[];
  /** clipPerExample's sums, allocated once per batch size (views that are also a set). */
  readonly perExampleSums = new Map<number, Float32Array[] & GradSet>();
  /** Norms claimed so far: a handle is stale once RESULT_SLOTS later norms were claimed, as on the GPU. */
  private generation = 0;
  /** Per-view calls so far: a per-view handle is stale after the next one, as on the GPU. */
  viewGeneration = 0;
  private ownDestroyed = false;

  constructor(
    readonly owner: CpuSetOwner,
    readonly views: CpuView[],
  ) {
    this.arrays = views.map((v) => v.array);
    this.viewCount = views.length;
    this.elementCount = this.arrays.reduce((n, a) => n + a.length, 0);
  }

  get destroyed(): boolean {
    return this.ownDestroyed || this.owner.destroyed;
  }

  destroy(): void {
    this.ownDestroyed = true;
  }

  /** Claims a result slot for a new norm (the GPU's ring, counted). */
  claim(): number {
    return this.generation++;
  }

  isFresh(generation: number): boolean {
    return this.generation - generation <= RESULT_SLOTS;
  }
}

export class CpuNormHandle implements ThresholdHandle {
  readonly buffer = null;
  readonly offset = 0;
  readonly foundInf = null;
  readonly foundInfOffset = 0;
  readonly thresholdOffset = 0;
  /** The norm as the GPU holds it: float32. */
  readonly norm: number;
  private readonly generation: number;

  constructor(
    private readonly set: CpuGradSet,
    norm: number,
    private readonly nonfiniteError: boolean,
    private readonly sawNonfinite = !Number.isFinite(norm),
    private readonly threshold = NaN,
  ) {
    this.norm = Math.fround(norm);
    this.generation = set.claim();
  }

  /** Throws as the GPU's handle does once its set is gone or its slot was claimed again. */
  checkFresh(): void {
    if (this.set.destroyed) throw new GradclipError('destroyed', "this handle's set or clipper was destroyed");
    if (!this.set.isFresh(this.generation)) {
      throw new GradclipError(
        'stale-handle',
        `this NormHandle's result was overwritten: read it within ${RESULT_SLOTS} later norms of its set`,
      );
    }
  }

  readThreshold(): Promise<number> {
    return this.settle(() => Math.fround(this.threshold));
  }

  read(): Promise<number> {
    return this.settle(() => {
      if (this.nonfiniteError) {
        throw new GradclipError(
          'nonfinite-norm',
          `the total norm is ${this.norm} (errorIfNonfinite is set); no gradient was changed`,
        );
      }
      return this.norm;
    });
  }

  readFoundInf(): Promise<boolean> {
    return this.settle(() => this.sawNonfinite);
  }

  private settle<T>(value: () => T): Promise<T> {
    try {
      this.checkFresh();
      return Promise.resolve(value());
    } catch (error) {
      return Promise.reject(error);
    }
  }
}

export class CpuNormsHandle implements NormsHandle {
  readonly buffer = null;
  readonly offset = 0;
  readonly stride = SEGMENT_NORM_BYTES;
  private readonly generation: number;

  constructor(
    private readonly set: CpuGradSet,
    private readonly norms: number[],
    readonly total: NormHandle,
  ) {
    this.generation = ++set.viewGeneration;
  }

  read(): Promise<Float32Array> {
    if (this.set.destroyed)
      return Promise.reject(new GradclipError('destroyed', "these norms' set or clipper was destroyed"));
    if (this.set.viewGeneration !== this.generation) {
      return Promise.reject(
        new GradclipError(
          'stale-handle',
          'these per-view norms were overwritten by a later per-view call on the set: read them before the next one',
        ),
      );
    }
    return Promise.resolve(Float32Array.from(this.norms));
  }
}
