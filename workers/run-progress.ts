// What a run is doing now, as the CLI shows it: the pipeline's `progress` query (stage, plan, the stage's finished
// activities), the generation child's shard progress, and the last heartbeat of each of the pipeline's pending
// activities from DescribeWorkflowExecution (a workflow cannot read its activities' heartbeats; a client can).
import type { Client, WorkflowExecutionDescription } from '@temporalio/client';
import type { Payload } from '@temporalio/common';
import { parseActivityProgress, type ActivityProgress } from '../common/activity-progress.ts';
import type { GenerationProgress } from '../common/generation-types.ts';
import type { PipelineProgress } from '../common/pipeline-stages.ts';

/** One pending activity of the run. */
export interface PendingActivity {
  readonly activityId: string;
  readonly activityType: string;
  /** A worker runs it (otherwise it waits for one, or for its next retry). */
  readonly started: boolean;
  readonly attempt: number;
  /** Seconds since this attempt started. */
  readonly runningSeconds?: number;
  /** Its last heartbeat, when that is a progress record. */
  readonly progress?: ActivityProgress;
  /** Seconds since that heartbeat reached the server (its ETA is that much older). */
  readonly heartbeatAgeSeconds?: number;
}

export interface RunSnapshot {
  readonly progress: PipelineProgress;
  readonly generation?: GenerationProgress;
  readonly activities: readonly PendingActivity[];
}

// temporal.api.enums.v1.PendingActivityState
const STARTED = 2;
const CANCEL_REQUESTED = 3;

type Timestamp = { readonly seconds?: unknown; readonly nanos?: number | null } | null | undefined;
const timestampMs = (ts: Timestamp): number | undefined => (ts ? Number(String(ts.seconds ?? 0)) * 1000 + (ts.nanos ?? 0) / 1e6 : undefined);

/** The first heartbeat payload through the client's codecs and payload converter; undefined when it cannot be read. */
async function decodeDetails(client: Client, payloads: readonly Payload[] | null | undefined): Promise<unknown> {
  const first = payloads?.[0];
  if (!first) return undefined;
  try {
    const { payloadConverter, payloadCodecs } = client.options.loadedDataConverter;
    let decoded: Payload[] = [first];
    for (const codec of [...payloadCodecs].reverse()) decoded = await codec.decode(decoded);
    return payloadConverter.fromPayload(decoded[0]!);
  } catch {
    return undefined;
  }
}

/** The pending activities of a described workflow, with their last progress records. */
export async function pendingActivities(client: Client, description: WorkflowExecutionDescription, now = Date.now()): Promise<PendingActivity[]> {
  const out: PendingActivity[] = [];
  for (const a of description.raw.pendingActivities ?? []) {
    const started = a.state === STARTED || a.state === CANCEL_REQUESTED;
    const startedAt = timestampMs(a.lastStartedTime);
    const beatAt = timestampMs(a.lastHeartbeatTime);
    const progress = parseActivityProgress(await decodeDetails(client, a.heartbeatDetails?.payloads));
    out.push({
      activityId: a.activityId ?? '',
      activityType: a.activityType?.name ?? '?',
      started,
      attempt: a.attempt ?? 1,
      ...(started && startedAt !== undefined ? { runningSeconds: Math.max(0, (now - startedAt) / 1000) } : {}),
      // Details of an earlier attempt stay until the new one heartbeats: only a started attempt's own count.
      ...(started && progress && (beatAt === undefined || startedAt === undefined || beatAt >= startedAt)
        ? { progress, heartbeatAgeSeconds: beatAt === undefined ? 0 : Math.max(0, (now - beatAt) / 1000) }
        : {}),
    });
  }
  return out;
}

/** The run's progress query, its generation child's progress and its pending activities, read together. */
export async function runSnapshot(client: Client, workflowId: string): Promise<RunSnapshot> {
  const handle = client.workflow.getHandle(workflowId);
  const [progress, description] = await Promise.all([handle.query<PipelineProgress>('progress'), handle.describe()]);
  const generation = progress.generationWorkflowId
    ? await client.workflow
        .getHandle(progress.generationWorkflowId)
        .query<GenerationProgress>('generationProgress')
        .catch(() => undefined)
    : undefined;
  return { progress, ...(generation ? { generation } : {}), activities: await pendingActivities(client, description) };
}
