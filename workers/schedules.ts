import { ScheduleOverlapPolicy, type Client, type ScheduleSummary } from '@temporalio/client';
import { parsePipelineConfig, type PipelineConfigInput } from '../common/pipeline-config.ts';
import { TASK_QUEUES } from '../common/task-queues.ts';

// Nightly re-augmentation: a schedule that starts the pipeline in incremental mode. Overlap policy skip: a run
// still going when the next is due is left alone and the due run is skipped.

export interface NightlySchedule {
  readonly scheduleId: string;
  readonly config: PipelineConfigInput;
  /** Cron expression in UTC, e.g. `0 2 * * *` (02:00 every night). */
  readonly cron: string;
}

export async function createNightlySchedule(client: Client, s: NightlySchedule): Promise<void> {
  const input = { ...s.config, mode: 'incremental' as const };
  const parsed = parsePipelineConfig(input);
  if (!parsed.ok) throw new Error(parsed.message);
  await client.schedule.create({
    scheduleId: s.scheduleId,
    spec: { cronExpressions: [s.cron] },
    action: {
      type: 'startWorkflow',
      workflowType: 'sptarPipeline',
      workflowId: `${s.scheduleId}-run`,
      taskQueue: TASK_QUEUES.orchestrator,
      args: [input],
    },
    policies: {
      overlap: ScheduleOverlapPolicy.SKIP,
      catchupWindow: '6 hours', // a server down overnight still starts the missed run in the morning
      pauseOnFailure: false,
    },
    memo: { dataset: parsed.config.dataset.name, cron: s.cron },
  });
}

export interface ScheduleLine {
  readonly scheduleId: string;
  readonly paused: boolean;
  readonly cron: string;
  readonly nextRun: string | undefined;
}

export async function listSchedules(client: Client): Promise<ScheduleLine[]> {
  const lines: ScheduleLine[] = [];
  for await (const s of client.schedule.list() as AsyncIterable<ScheduleSummary>) {
    const d = await client.schedule.getHandle(s.scheduleId).describe();
    lines.push({
      scheduleId: s.scheduleId,
      paused: d.state.paused,
      cron: typeof d.memo?.['cron'] === 'string' ? d.memo['cron'] : '',
      nextRun: d.info.nextActionTimes[0]?.toISOString(),
    });
  }
  return lines.sort((a, b) => a.scheduleId.localeCompare(b.scheduleId));
}
