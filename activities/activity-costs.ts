// Cost accounting for every activity attempt: an inbound interceptor on the workers measures wall seconds and
// process CPU seconds (process.cpuUsage() counts every thread of the process, so onnxruntime's and the session
// worker threads' work is included) and stores one small record per attempt under
// `costs/<root pipeline workflow id>/`. The report sums them per stage. Model workers run one activity at a time,
// so there the CPU delta is the activity's own; on the orchestrator queue concurrent activities share it.
import { Context } from '@temporalio/activity';
import type { ActivityInboundCallsInterceptor, ActivityInterceptorsFactory } from '@temporalio/worker';
import { costKey } from '../common/artifact-keys.ts';
import type { CostRecord } from '../lib/report/stage-costs.ts';
import type { ArtifactStore } from '../lib/artifact-store/index.ts';

const reusedAttempts = new WeakSet<Context>();

/**
 * Marks the running activity attempt as having returned a stored result instead of computing it, so its cost
 * record says so and throughput figures leave it out. Outside an activity (tests calling stages directly) it does
 * nothing.
 */
export function markReused(): void {
  let ctx: Context;
  try {
    ctx = Context.current();
  } catch {
    return;
  }
  reusedAttempts.add(ctx);
}

export interface CostInterceptorOptions {
  readonly store: ArtifactStore;
  /** Where a failed write is reported; the activity itself never fails for it. */
  readonly warn?: (message: string) => void;
}

class CostInterceptor implements ActivityInboundCallsInterceptor {
  constructor(
    private readonly ctx: Context,
    private readonly options: CostInterceptorOptions,
  ) {}

  async execute(input: Parameters<NonNullable<ActivityInboundCallsInterceptor['execute']>>[0], next: Parameters<NonNullable<ActivityInboundCallsInterceptor['execute']>>[1]): Promise<unknown> {
    const startedAt = new Date();
    const wall0 = performance.now();
    const cpu0 = process.cpuUsage();
    let ok = false;
    try {
      const result = await next(input);
      ok = true;
      return result;
    } finally {
      const cpu = process.cpuUsage(cpu0);
      await this.record(startedAt, (performance.now() - wall0) / 1000, (cpu.user + cpu.system) / 1e6, ok);
    }
  }

  private async record(startedAt: Date, wallSeconds: number, cpuSeconds: number, ok: boolean): Promise<void> {
    const info = this.ctx.info;
    const workflowId = info.workflowExecution?.workflowId;
    if (workflowId === undefined) return; // standalone activities belong to no pipeline
    const record: CostRecord = {
      activityType: info.activityType,
      activityId: info.activityId,
      workflowId,
      attempt: info.attempt,
      startedAt: startedAt.toISOString(),
      wallSeconds,
      cpuSeconds,
      ok,
      reused: reusedAttempts.has(this.ctx),
    };
    try {
      await this.options.store.put(costKey(record, info.workflowExecution?.runId), JSON.stringify(record));
    } catch (err) {
      const warn = this.options.warn ?? ((m: string) => this.ctx.log.warn(m));
      warn(`could not store the cost record of ${info.activityType} (${workflowId}, attempt ${info.attempt}): ${err instanceof Error ? err.message : String(err)}`);
    }
  }
}

/** The interceptor factory for `Worker.create({ interceptors: { activity: [...] } })`. */
export function activityCostInterceptors(options: CostInterceptorOptions): ActivityInterceptorsFactory {
  return (ctx) => ({ inbound: new CostInterceptor(ctx, options) });
}
