// Reading the pending activities' last heartbeats from a DescribeWorkflowExecution response, as the CLI does.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Client, WorkflowExecutionDescription } from '@temporalio/client';
import { defaultPayloadConverter, type PayloadCodec } from '@temporalio/common';
import type { ActivityProgress } from '../../../common/activity-progress.ts';
import { pendingActivities } from '../../../workers/run-progress.ts';

const record: ActivityProgress = { stage: 'evaluate', subject: 'sptar', task: 'encoding the corpus', unit: 'texts', done: 320, total: 5483, perSecond: 40, etaSeconds: 129 };
const at = (seconds: number) => ({ seconds, nanos: 500_000_000 });
const clientWith = (payloadCodecs: PayloadCodec[] = []) => ({ options: { loadedDataConverter: { payloadConverter: defaultPayloadConverter, payloadCodecs } } }) as unknown as Client;
const described = (pending: unknown[]) => ({ raw: { pendingActivities: pending } }) as unknown as WorkflowExecutionDescription;

describe('pending activities of a run', () => {
  it("decodes each started activity's progress record with its age, and leaves out what is not one", async () => {
    const now = 1_000_000;
    const activities = await pendingActivities(
      clientWith(),
      described([
        { activityId: '20', activityType: { name: 'evaluateDense' }, state: 2, attempt: 1, lastStartedTime: at(900), lastHeartbeatTime: at(990), heartbeatDetails: { payloads: [defaultPayloadConverter.toPayload(record)] } },
        { activityId: '21', activityType: { name: 'evaluateDense' }, state: 1, attempt: 1 },
        // A shard-style heartbeat and an undecodable one: no progress record.
        { activityId: '22', activityType: { name: 'mergeKeptPairs' }, state: 2, attempt: 1, lastStartedTime: at(995), lastHeartbeatTime: at(996), heartbeatDetails: { payloads: [defaultPayloadConverter.toPayload({ shardsMerged: 100, of: 200 })] } },
        { activityId: '23', activityType: { name: 'trainRetriever' }, state: 2, attempt: 1, lastStartedTime: at(995), heartbeatDetails: { payloads: [{ metadata: { encoding: new TextEncoder().encode('binary/bogus') }, data: new Uint8Array([1]) }] } },
        // A retry that has not heartbeaten yet: the details are the earlier attempt's.
        { activityId: '24', activityType: { name: 'tunePrompt' }, state: 2, attempt: 2, lastStartedTime: at(998), lastHeartbeatTime: at(950), heartbeatDetails: { payloads: [defaultPayloadConverter.toPayload(record)] } },
      ]),
      now,
    );
    assert.deepEqual(activities, [
      { activityId: '20', activityType: 'evaluateDense', started: true, attempt: 1, runningSeconds: 99.5, progress: record, heartbeatAgeSeconds: 9.5 },
      { activityId: '21', activityType: 'evaluateDense', started: false, attempt: 1 },
      { activityId: '22', activityType: 'mergeKeptPairs', started: true, attempt: 1, runningSeconds: 4.5 },
      { activityId: '23', activityType: 'trainRetriever', started: true, attempt: 1, runningSeconds: 4.5 },
      { activityId: '24', activityType: 'tunePrompt', started: true, attempt: 2, runningSeconds: 1.5 },
    ]);
  });

  it("goes through the client's payload codecs", async () => {
    // A codec that reverses the bytes of the data.
    const reverse: PayloadCodec = {
      encode: async (ps) => ps.map((p) => ({ ...p, data: Uint8Array.from(p.data ?? []).reverse() })),
      decode: async (ps) => ps.map((p) => ({ ...p, data: Uint8Array.from(p.data ?? []).reverse() })),
    };
    const [encoded] = await reverse.encode([defaultPayloadConverter.toPayload(record)]);
    const [a] = await pendingActivities(
      clientWith([reverse]),
      described([{ activityId: '20', activityType: { name: 'evaluateDense' }, state: 2, attempt: 1, lastStartedTime: at(900), lastHeartbeatTime: at(900), heartbeatDetails: { payloads: [encoded] } }]),
      900_500,
    );
    assert.deepEqual(a?.progress, record);
  });
});
