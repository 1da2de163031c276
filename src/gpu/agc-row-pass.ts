// agc_rows.wgsl's GPU side for one gradient set and one weight set: the row table (plan/agc-rows.ts)
// in a buffer, the data bind group over the two windows, and the recorded dispatch.
import { BufferUsage } from '../core/webgpu-constants';
import type { AgcRowPlan } from '../plan/agc-rows';
import { foldDispatch } from '../plan/segments';
import { createFilledBuffer, dataBindGroup, type SegmentOwner } from './segments';

/** agc_rows.wgsl's table and bind groups for one gradient set and one weight set. */
export class AgcRowPass {
  private readonly table: GPUBuffer;
  private readonly dataGroup: GPUBindGroup;
  private readonly lanes: number;

  constructor(
    private readonly owner: SegmentOwner,
    plan: AgcRowPlan,
    /** The gradients' unit layout's params + partials group: the rows' partials feed its summary. */
    private readonly partialsGroup: GPUBindGroup,
  ) {
    this.table = createFilledBuffer(owner.kernels.device, 'gradclip agc rows table', plan.table, BufferUsage.STORAGE);
    this.dataGroup = dataBindGroup(owner, 'gradclip agc rows data group', { buffer: this.table }, plan.windows);
    this.lanes = plan.lanes;
  }

  record(pass: GPUComputePassEncoder, paramsOffset: number): void {
    const { kernels } = this.owner;
    pass.setPipeline(kernels.agcRows());
    pass.setBindGroup(0, this.dataGroup);
    pass.setBindGroup(1, this.partialsGroup, [paramsOffset]);
    pass.dispatchWorkgroups(
      ...foldDispatch(this.lanes, kernels.workgroupSize, kernels.device.limits.maxComputeWorkgroupsPerDimension),
    );
  }

  destroy(): void {
    this.table.destroy();
  }
}
