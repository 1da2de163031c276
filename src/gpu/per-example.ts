// clipPerExample on the GPU (DP-SGD): every example's L2 norm over all views, the count clipped,
// and the clipped examples summed into a target, in one compute pass. The sum kernel for each
// target is made once and kept while the set uses a few targets, so calls into alternating
// targets (even within one encoder) each keep their own tables.
import { GradclipError } from '../core/errors';
import { OPTION_KEYS, readOptions } from '../core/options';
import { viewsAsSet } from '../core/set-alias';
import type { GradSet, GradView, PerExampleOptions, PerExampleResult } from '../core/types';
import { RULE_PER_EXAMPLE, SUMMARY_COUNT_CLIPPED } from '../kernels/registry';
import { exampleSegments, planSegments } from '../plan/segments';
import { checkBatchSize, checkMaxNorm } from '../plan/validate';
import { checkPerExamplePrivacy, wordsOf } from '../plan/validate-privacy';
import { checkNoHalfViews } from '../plan/views';
import { BufferUsage } from '../core/webgpu-constants';
import type { GpuContext } from './context';
import { sumLayout } from '../plan/sum-plan';
import { PerExampleSum, SegmentLayout, type SumTarget } from './segments';
import type { GpuGradSet } from './set';
import { ObjectIds } from './weak-list';

/** Sum targets kept per set (older ones are dropped, not destroyed: an unsubmitted encoder may use them). */
const SUM_TARGETS_KEPT = 8;

export class PerExampleClipping {
  /** Ids for target buffers, for cache keys that do not hold the buffers. */
  private readonly targetIds = new ObjectIds();

  constructor(
    private readonly ctx: GpuContext,
    /** Makes the sums' own set (the clipper's gradients()). */
    private readonly gradients: (views: GradView[]) => GradSet,
  ) {}

  run(set: GradSet, optionsIn: PerExampleOptions): PerExampleResult {
    const { ctx } = this;
    const options = readOptions(optionsIn, OPTION_KEYS.perExample, 'options');
    if (options.out !== undefined) readOptions(options.out, OPTION_KEYS.perExampleOut, 'options.out');
    const { gpuSet, b } = this.checkBatch(set, options.batchSize);
    const maxNorm = checkMaxNorm(options.maxNorm);
    const { examples, noise, divisor } = checkPerExamplePrivacy(options, b, maxNorm);
    const lengths = gpuSet.views.map((v) => v.length / b);
    const { offsets, bytes } = sumLayout(lengths);
    const target = this.target(gpuSet, b, bytes, options.out);
    const layout = gpuSet.segmentLayout(`examples:${b}`, (cache) => {
      const plan = planSegments(gpuSet.views, exampleSegments(gpuSet.views, b), b, ctx.planLimits);
      return new SegmentLayout(ctx, plan, `batch of ${b}`, cache);
    });
    const sum = this.sumKernel(gpuSet, b, layout, target);
    const paramsOffset = ctx.paramsOffset(
      {
        p: 2,
        maxNorm,
        segmentLimit: examples,
        divisor,
        ...(noise ? { noiseStd: noise.std, seed: wordsOf(noise.seed), step: wordsOf(noise.step) } : {}),
      },
      options.encoder,
    );
    const numClipped = ctx.claimHandle(gpuSet);
    ctx.record(options, 'clipPerExample', [gpuSet], (pass) => {
      layout.recordNorms(pass, 2, RULE_PER_EXAMPLE, paramsOffset);
      layout.recordSummary(pass, 2, SUMMARY_COUNT_CLIPPED, paramsOffset, gpuSet.results, numClipped.offset);
      sum.record(pass, paramsOffset, noise !== null && noise.std !== 0);
    });
    if (!sum.outputs) {
      const views = lengths.map((length, v) => ({
        buffer: target.buffer,
        offset: target.byteOffset + offsets[v],
        length,
      }));
      sum.outputs = viewsAsSet(views, this.gradients(views));
    }
    return { sum: sum.outputs, numClipped };
  }

  /**
   * The sums clipPerExample writes when given no `out`, allocated now and nothing recorded (a
   * private optimizer steps on them).
   */
  ownSums(set: GradSet, batchSize: unknown): GradSet {
    const { gpuSet, b } = this.checkBatch(set, batchSize);
    const lengths = gpuSet.views.map((v) => v.length / b);
    const { offsets, bytes } = sumLayout(lengths);
    const { buffer } = this.target(gpuSet, b, bytes, undefined);
    return this.gradients(lengths.map((length, v) => ({ buffer, offset: offsets[v], length })));
  }

  private checkBatch(set: GradSet, batchSize: unknown): { gpuSet: GpuGradSet; b: number } {
    const gpuSet = this.ctx.checkUsable(set);
    checkNoHalfViews(
      gpuSet.views.map((v) => v.elementBytes === 2),
      'clipPerExample',
    );
    const b = checkBatchSize(
      batchSize,
      gpuSet.views.map((v) => v.length),
    );
    return { gpuSet, b };
  }

  /** The sum kernel for one (batch size, target buffer, offset), made on first use. */
  private sumKernel(set: GpuGradSet, batchSize: number, layout: SegmentLayout, target: SumTarget): PerExampleSum {
    const key = `${batchSize}:${target.byteOffset}:${this.targetIds.id(target.buffer)}`;
    let sum = set.perExampleSums.get(key);
    if (sum) {
      set.perExampleSums.delete(key);
    } else {
      sum = new PerExampleSum(this.ctx, set.views, batchSize, layout.segmentNorms, target, `batch of ${batchSize}`);
      if (set.perExampleSums.size >= SUM_TARGETS_KEPT)
        set.perExampleSums.delete(set.perExampleSums.keys().next().value as string);
    }
    set.perExampleSums.set(key, sum);
    return sum;
  }

  /** Where the sums go: the caller's buffer (checked) or one the set allocates once per batch size. */
  private target(set: GpuGradSet, batchSize: number, bytes: number, out: PerExampleOptions['out']): SumTarget {
    const { device } = this.ctx;
    if (out === undefined) {
      let buffer = set.ownSumBuffers.get(batchSize);
      if (!buffer) {
        buffer = device.createBuffer({
          label: `gradclip per-example sums (batch of ${batchSize})`,
          size: bytes,
          usage: BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST,
        });
        set.ownSumBuffers.set(batchSize, buffer);
      }
      return { buffer, byteOffset: 0 };
    }
    const { buffer, byteOffset = 0 } = out;
    const alignment = device.limits.minStorageBufferOffsetAlignment;
    if (
      !buffer ||
      typeof (buffer as GPUBuffer).size !== 'number' ||
      ((buffer as GPUBuffer).usage & BufferUsage.STORAGE) === 0
    ) {
      throw new GradclipError('invalid-argument', 'out.buffer must be a GPUBuffer with GPUBufferUsage.STORAGE');
    }
    if (!Number.isInteger(byteOffset) || byteOffset < 0 || byteOffset % alignment !== 0) {
      throw new GradclipError(
        'invalid-argument',
        `out.byteOffset must be a non-negative multiple of ${alignment} bytes, got ${byteOffset}`,
      );
    }
    if (byteOffset + bytes > buffer.size) {
      throw new GradclipError(
        'out-of-range',
        `the sums need ${bytes} bytes from out.byteOffset ${byteOffset}, past the end of the ${buffer.size}-byte out.buffer`,
      );
    }
    if (set.views.some((v) => v.buffer === buffer)) {
      throw new GradclipError('invalid-argument', 'out.buffer must not hold any of the per-example views');
    }
    return { buffer, byteOffset };
  }
}
